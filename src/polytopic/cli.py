"""The ``polytopic`` command: the group and its commands that fit a model on a corpus,
read its topics and transform new documents (the ``evaluate`` and ``compare`` commands
are :mod:`polytopic.cli_evaluate`'s, the options they share :mod:`polytopic.cli_options`').
What a run directory holds is :mod:`polytopic.runs`'s business; it appears only when the
fit succeeded.

Exit status: 0 on success, 1 when the library refuses (one line ``error: ...`` on standard
error), 2 on a usage error (click's). Start-up stays light: corpora readers, models and
torch are imported by the commands that need them, so ``polytopic --version`` and
``polytopic topics RUN`` answer at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
from pathlib import Path

import click
import numpy as np

from polytopic.cli_evaluate import compare, evaluate
from polytopic.cli_finetune import finetune
from polytopic.cli_report import report
from polytopic.cli_sweep import sweep
from polytopic.cli_options import (
    DEMO_MODEL,
    OUTPUT_FORMATS,
    READ_DEFAULTS,
    _check_output,
    _corpus_options,
    _model_help,
    _model_options,
    _quiet,
    _read,
    _read_kwargs,
    _split_encoders,
    _split_languages,
    model_choice,
    model_option,
    quiet_option,
)
from polytopic.errors import PolytopicError
from polytopic.models.registry import model_class
from polytopic.runs import TYPICAL_TOP_N, fit_run, read_topics, read_typical_images
from polytopic.version import __version__

logger = logging.getLogger(__name__)

DEFAULT_TOPICS = 50


# -- errors and signals --------------------------------------------------------------------
class _PolytopicGroup(click.Group):
    """Runs each command with SIGTERM handled like Ctrl-C, and turns the library's own
    errors into one line on standard error and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            with _sigterm_exits():
                return super().invoke(ctx)
        except PolytopicError as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(1)


@contextlib.contextmanager
def _sigterm_exits():
    """While the block runs, SIGTERM (a job scheduler's stop, ``kill``) raises
    ``SystemExit(143)`` as Ctrl-C raises ``KeyboardInterrupt``, so that cleanups run and a
    half-written run directory is removed. The previous handler is restored afterwards.
    Outside the main thread, where Python cannot install handlers, nothing changes."""
    in_main = threading.current_thread() is threading.main_thread()
    received: list[int] = []

    def exit_on_signal(signum: int, _frame) -> None:
        received.append(signum)
        raise SystemExit(128 + signum)  # the status a shell reports for a death by signal

    previous = signal.signal(signal.SIGTERM, exit_on_signal) if in_main else None
    try:
        yield
    except BaseException:
        # Python wraps an exception raised in some places (an import's class body) into
        # another: whatever surfaces, a stop by signal still exits with 128 + its number.
        if received:
            raise SystemExit(128 + received[0]) from None
        raise
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


# -- commands ------------------------------------------------------------------------------
@click.group(cls=_PolytopicGroup)
@click.version_option(__version__, prog_name="polytopic")
@quiet_option
def main():
    """Topic models on pretrained embeddings: fit, inspect, transform, evaluate."""


def _fit_run(model, corpus, out: Path, overwrite: bool, source: Path, read_options: dict) -> None:
    """Fit ``model`` on ``corpus`` (read from ``source`` with ``read_options``, the CLI's
    names) into the run directory ``out``, which appears only if the fit succeeds (see
    :func:`polytopic.runs.fit_run`)."""
    seconds = fit_run(model, corpus, out, source=source, read_options=_read_kwargs(**read_options),
                      overwrite=overwrite)
    logger.info("fitted %s with %d topics on %d documents in %.1f s -> %s",
                model.name, model.n_topics, len(corpus), seconds, out)


@main.command(epilog=_model_help())
@click.argument("corpus_path", metavar="CORPUS", type=click.Path(exists=True, path_type=Path))
@model_option
@click.option("--topics", type=click.IntRange(min=1), default=None,
              help=f"Number of topics K (default {DEFAULT_TOPICS}; a distillation student: its teacher's).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Run directory to create.")
@click.option("--language", default=None,
              help="Language to model (default: the corpus's most covered; zeroshot-kd: the student's language).")
@click.option("--languages", default=None, metavar="L1,L2", callback=_split_languages,
              help="Languages a multilingual model learns, comma-separated (default: all of the corpus's).")
@click.option("--encoder", default=None, callback=_split_encoders, metavar="NAME|L1=NAME,L2=NAME",
              help="Encoder name or path (default: packaged all-MiniLM-L6-v2), or one per language "
                   "(en=all-MiniLM-L6-v2,it=PATH: unaligned encoders).")
@click.option("--image-encoder", default=None, help="Image encoder name or CLIP/SigLIP folder (models with images).")
@click.option("--teacher", type=click.Path(exists=True, file_okay=False), default=None, metavar="RUN",
              help="zeroshot-kd: the run of the ZeroShotTM teacher.")
@click.option("--images", is_flag=True, default=None,
              help="zeroshot-kd: distil into an image student (needs --image-field).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Training epochs (model default if unset).")
@click.option("--vocabulary-size", type=click.IntRange(min=1), default=None,
              help="Words kept per language (default 2000).")
@click.option("--seed", type=int, default=None, help="Random seed (default 0).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Any other hyperparameter (repeatable; VALUE is read as JSON where it parses).")
@click.option("--overwrite", is_flag=True, help="Replace an existing run directory.")
@quiet_option
@_corpus_options
def fit(corpus_path, model_name, topics, out, language, languages, encoder, image_encoder, teacher, images, epochs,
        vocabulary_size, seed, params, overwrite, **read_options):
    """Fit a topic model on CORPUS (.jsonl[.gz], .csv or a folder of .txt files)."""
    model_cls = model_class(model_name)
    chosen = {"language": language, "languages": languages, "encoder": encoder, "image_encoder": image_encoder,
              "teacher": teacher, "images": images, "n_topics": topics, "epochs": epochs,
              "vocabulary_size": vocabulary_size, "seed": seed}
    options = _model_options(model_name, model_cls, chosen, params)
    if "teacher" not in model_cls._parameter_constraints:
        options.setdefault("n_topics", DEFAULT_TOPICS)
    if options.get("images") and not read_options["image_field"]:
        raise click.BadParameter("needs --image-field FIELD, the field holding each item's image path",
                                 param_hint="--images")
    corpus = _read(corpus_path, **read_options)
    _fit_run(model_cls(**options), corpus, out, overwrite, corpus_path, read_options=read_options)


@main.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--top-n", type=click.IntRange(min=1), default=10, show_default=True, help="Words per topic.")
@click.option("--language", default=None, help="Language of the topic words (default: the model's primary one).")
@click.option("--images", "n_images", type=click.IntRange(min=1), default=None, metavar="N",
              help=f"After each topic's words, the paths of its N most typical training images (highest "
                   f"topic probability), one a line, indented (models with an image view; {TYPICAL_TOP_N} are "
                   "recorded per topic).")
@quiet_option
def topics(run, top_n, language, n_images):
    """Print the top words of each topic of RUN, one topic a line, space-separated.

    \b
    With --images N, each topic's line is followed by its N most typical
    training images, one path a line, indented by two spaces:
      game ball player ...
        /data/icons/mousetrap.png
        /data/icons/pinball.png
    """
    images = None if n_images is None else read_typical_images(run, top_n=n_images)
    for k, words in enumerate(read_topics(run, top_n=top_n, language=language)):
        click.echo(" ".join(words))
        for path in images[k] if images is not None else ():
            click.echo(f"  {path}")


@main.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("corpus_path", metavar="CORPUS", type=click.Path(exists=True, path_type=Path))
@click.option("--language", default=None, help="Language of the texts to transform (default: the model's).")
@click.option("--images", is_flag=True,
              help="Transform the items' images instead (models with an image view; needs --image-field). "
                   "Only the items that have an image get a row.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None, callback=_check_output,
              help=f"Write to a {', '.join(OUTPUT_FORMATS)} file instead of standard output (TSV).")
@quiet_option
@_corpus_options
def transform(run, corpus_path, language, images, output, **read_options):
    """Print the document-topic distribution of every document of CORPUS under RUN."""
    if images and language:
        raise click.UsageError("give --language or --images, not both")
    if images and not read_options["image_field"]:
        raise click.BadParameter("needs --image-field FIELD, the field holding each item's image path",
                                 param_hint="--images")
    from polytopic.models import load_model  # torch

    corpus = _read(corpus_path, **read_options)
    model = load_model(run)
    if hasattr(model, "progress"):
        model.progress = not _quiet()
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


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/demo"), show_default=True,
              help="Run directory to write (replaced if it exists).")
@model_choice(DEMO_MODEL)
@click.option("--topics", type=click.IntRange(min=1), default=20, show_default=True, help="Number of topics K.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Training epochs, for a model that trains (model default if unset).")
@quiet_option
def demo(out, model_name, topics, epochs):
    """Fit a model on the bundled demo corpus (2,000 Debian package descriptions) and
    print its topics."""
    from polytopic.datasets import demo_corpus_path, read_corpus

    model_cls = model_class(model_name)
    options = _model_options(model_name, model_cls, {"epochs": epochs}, ())
    source = demo_corpus_path()
    _fit_run(model_cls(n_topics=topics, **options), read_corpus(source), out, True, source, read_options=READ_DEFAULTS)
    for words in read_topics(out):
        click.echo(" ".join(words))


main.add_command(evaluate)
main.add_command(compare)
main.add_command(sweep)
main.add_command(report)
main.add_command(finetune)


if __name__ == "__main__":  # pragma: no cover
    main()
