"""The ``transform`` command: the document-topic distributions of a corpus under a run,
printed as TSV or written to a .npy, .csv, .tsv or .jsonl file, a chunk of documents at a
time (:mod:`polytopic.doc_topic`)."""

from __future__ import annotations

from pathlib import Path

import click

from polytopic.cli.options import OUTPUT_FORMATS, check_output, corpus_options, is_quiet, quiet_option, read_corpus_file
from polytopic.doc_topic import doc_topic_lines, iter_doc_topic, write_doc_topic


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("corpus_path", metavar="CORPUS", type=click.Path(exists=True, path_type=Path))
@click.option("--language", default=None, help="Language of the texts to transform (default: the model's).")
@click.option("--images", is_flag=True,
              help="Transform the items' images instead (models with an image view; needs --image-field). "
                   "Only the items that have an image get a row.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None, callback=check_output,
              help=f"Write to a {', '.join(OUTPUT_FORMATS)} file instead of standard output (TSV).")
@quiet_option
@corpus_options
def transform(run, corpus_path, language, images, output, **read_options):
    """Print the document-topic distribution of every document of CORPUS under RUN."""
    if images and language:
        raise click.UsageError("give --language or --images, not both")
    if images and not read_options["image_field"]:
        raise click.BadParameter("needs --image-field FIELD, the field holding each item's image path",
                                 param_hint="--images")
    from polytopic.models import load_model  # torch

    corpus = read_corpus_file(corpus_path, **read_options)
    model = load_model(run)
    if hasattr(model, "progress"):
        model.progress = not is_quiet()
    if output is not None:
        write_doc_topic(model, corpus, output, language=language, images=images)
        return
    for number, (ids, theta) in enumerate(iter_doc_topic(model, corpus, language=language, images=images)):
        click.echo(doc_topic_lines(ids, theta, ".tsv", header=number == 0), nl=False)
