"""The ``fit`` command: fit a model on a corpus into a run directory, which appears only
when the fit succeeded (:func:`polytopic.runs.fit_run`)."""

from __future__ import annotations

from pathlib import Path

import click

from polytopic.cli.encode import encode_corpus
from polytopic.cli.options import (
    corpus_options,
    encoder_option,
    engine_from,
    engine_options,
    epochs_option,
    logger,
    model_help,
    model_option,
    model_options,
    overwrite_option,
    params_option,
    quiet_option,
    read_corpus_file,
    read_kwargs,
    split_languages,
    vocabulary_size_option,
)
from polytopic.models.registry import model_class
from polytopic.runs import fit_run
from polytopic.stages import Stages

DEFAULT_TOPICS = 50


def fit_into_run(model, corpus, out: Path, overwrite: bool, source: Path, read_options: dict,
                 stages: Stages | None = None) -> None:
    """Fit ``model`` on ``corpus`` (read from ``source`` with ``read_options``, the CLI's
    names) into the run directory ``out``, which appears only if the fit succeeds (see
    :func:`polytopic.runs.fit_run`)."""
    run = fit_run(model, corpus, out, source=source, read_options=read_kwargs(**read_options), overwrite=overwrite,
                  stages=stages)
    logger.info("fitted %s with %d topics on %d documents in %.1f s -> %s",
                model.name, model.n_topics_, len(corpus), run.info["fit_seconds"], out)


@click.command(epilog=model_help())
@click.argument("corpus_path", metavar="CORPUS", type=click.Path(exists=True, path_type=Path))
@model_option
@click.option("--topics", type=click.IntRange(min=1), default=None,
              help=f"Number of topics K (default {DEFAULT_TOPICS}; a distillation student: its teacher's).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Run directory to create.")
@click.option("--language", default=None,
              help="Language to model (default: the corpus's most covered; zeroshot-kd: the student's language).")
@click.option("--languages", default=None, metavar="L1,L2", callback=split_languages,
              help="Languages a multilingual model learns, comma-separated (default: all of the corpus's).")
@encoder_option("Encoder name or path (default: packaged all-MiniLM-L6-v2), or one per language "
                "(en=all-MiniLM-L6-v2,it=PATH: unaligned encoders).")
@click.option("--image-encoder", default=None, help="Image encoder name or CLIP/SigLIP folder (models with images).")
@click.option("--teacher", type=click.Path(exists=True, file_okay=False), default=None, metavar="RUN",
              help="zeroshot-kd: the run of the ZeroShotTM teacher.")
@click.option("--images", is_flag=True, default=None,
              help="zeroshot-kd: distil into an image student (needs --image-field).")
@epochs_option
@vocabulary_size_option
@click.option("--seed", type=int, default=None, help="Random seed (default 0).")
@params_option("Any other hyperparameter (repeatable; VALUE is read as JSON where it parses).")
@overwrite_option("Replace an existing run directory.")
@engine_options
@quiet_option
@corpus_options
def fit(corpus_path, model_name, topics, out, language, languages, encoder, image_encoder, teacher, images, epochs,
        vocabulary_size, seed, params, overwrite, engine_name, address, workers, gpus_per_worker, **read_options):
    """Fit a topic model on CORPUS (.jsonl[.gz], .csv or a folder of .txt files)."""
    model_cls = model_class(model_name)
    chosen = {"language": language, "languages": languages, "encoder": encoder, "image_encoder": image_encoder,
              "teacher": teacher, "images": images, "n_topics": topics, "epochs": epochs,
              "vocabulary_size": vocabulary_size, "seed": seed}
    options = model_options(model_name, model_cls, chosen, params)
    if not model_cls.takes_teacher:
        options.setdefault("n_topics", DEFAULT_TOPICS)
    if options.get("images") and not read_options["image_field"]:
        raise click.BadParameter("needs --image-field FIELD, the field holding each item's image path",
                                 param_hint="--images")
    stages = Stages()
    with stages.stage("read") as read:
        corpus = read_corpus_file(corpus_path, **read_options)
        read.items = len(corpus)
    model = model_cls(**options)
    engine = engine_from(engine_name, address, workers, gpus_per_worker)
    if engine is not None and model_cls.reads_vectors:
        with stages.stage("encode on the engine", len(corpus)):
            encode_corpus(corpus, options.get("encoder"), model._fit_languages(corpus), engine)
    fit_into_run(model, corpus, out, overwrite, corpus_path, read_options=read_options, stages=stages)

