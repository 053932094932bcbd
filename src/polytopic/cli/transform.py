"""The ``transform`` command: the document-topic distributions of a corpus under a run,
printed as TSV or written to a .npy, .csv, .tsv or .jsonl file."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from polytopic.cli.options import OUTPUT_FORMATS, check_output, corpus_options, is_quiet, quiet_option, read_corpus_file


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
    doc_topic, positions = _doc_topic(model, corpus, language, images)
    _write_doc_topic([corpus.ids[i] for i in positions], doc_topic, output)


def _doc_topic(model, corpus, language: str | None, images: bool) -> tuple[np.ndarray, np.ndarray]:
    """θ of one view of ``corpus`` (its images, or its texts in ``language``) and the
    corpus positions of its rows."""
    if images:
        return model.transform(corpus, images=True), corpus.image_indices()
    language = language or model.language_
    return model.transform(corpus, language=language), corpus.indices(language)


def _write_doc_topic(ids: list[str], doc_topic: np.ndarray, output: Path | None) -> None:
    """Write θ to ``output`` in the format its suffix names, or as TSV to standard output."""
    if output is not None and output.suffix == ".npy":
        np.save(output, doc_topic)
        return
    text = _doc_topic_text(ids, doc_topic, output.suffix if output else ".tsv")
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _doc_topic_text(ids: list[str], doc_topic: np.ndarray, suffix: str) -> str:
    """One line per document: JSON objects (.jsonl), or a header and CSV/TSV rows."""
    if suffix == ".jsonl":
        lines = [json.dumps({"id": i, "topics": [round(float(p), 6) for p in row]}) for i, row in zip(ids, doc_topic)]
    else:
        sep = "," if suffix == ".csv" else "\t"
        header = sep.join(["id"] + [f"topic_{k}" for k in range(doc_topic.shape[1])])
        lines = [header, *(sep.join([str(i)] + [f"{p:.6f}" for p in row]) for i, row in zip(ids, doc_topic))]
    return "\n".join(lines) + "\n"
