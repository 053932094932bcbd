"""The ``polytopic`` command: fit a model on a corpus, read its topics, transform new
documents, evaluate and compare runs. What a run directory holds is :mod:`polytopic.runs`'s
business; it appears only when the fit succeeded.

Exit status: 0 on success, 1 when the library refuses (one line ``error: ...`` on standard
error), 2 on a usage error (click's). Start-up stays light: corpora readers, models and
torch are imported by the commands that need them, so ``polytopic --version`` and
``polytopic topics RUN`` answer at once.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import signal
import threading
import time
from pathlib import Path

import click
import numpy as np

from polytopic.version import __version__
from polytopic.errors import PolytopicError
from polytopic.models.registry import MODEL_TABLE, model_class, model_descriptions
from polytopic.persistence import atomic_directory
from polytopic.runs import (
    METRICS_FILE,
    TYPICAL_TOP_N,
    read_metrics,
    read_topics,
    read_typical_images,
    write_metrics,
    write_run,
)

logger = logging.getLogger(__name__)

OUTPUT_FORMATS = (".npy", ".csv", ".tsv", ".jsonl")
DEFAULT_TOPICS = 50
_QUIET = "polytopic.quiet"


# -- logging and --quiet -------------------------------------------------------------------
class _EchoHandler(logging.Handler):
    """Writes records to standard error through click, so that they reach the stream in
    use now (a test runner swaps it between invocations)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(self.format(record), err=True)
        except Exception:  # noqa: BLE001 -- logging's contract: report, never raise
            self.handleError(record)


_HANDLER = _EchoHandler()
_HANDLER.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


def _setup_logging(quiet: bool) -> None:
    """Messages of the ``polytopic`` logger go to standard error, INFO and up (WARNING and
    up when quiet). The root logger is left to the host program; the handler is added once
    however often ``main`` runs in one process."""
    package_logger = logging.getLogger("polytopic")
    if _HANDLER not in package_logger.handlers:
        package_logger.addHandler(_HANDLER)
    package_logger.setLevel(logging.WARNING if quiet else logging.INFO)


def _set_quiet(ctx: click.Context, _param, value: bool) -> None:
    """``-q`` before or after the command name: once given, the whole invocation is quiet."""
    root = ctx.find_root()
    root.meta[_QUIET] = root.meta.get(_QUIET, False) or value
    _setup_logging(root.meta[_QUIET])


quiet_option = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet,
                            help="No progress bars or info messages.")


def _quiet() -> bool:
    """Whether this invocation was asked to be quiet (by any ``-q``)."""
    return click.get_current_context().find_root().meta.get(_QUIET, False)


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


# -- options -------------------------------------------------------------------------------
#: How a corpus file is read when no option says otherwise: option name -> default.
READ_DEFAULTS = {"text_field": "text", "id_field": "id", "language_field": None, "corpus_language": "en",
                 "image_field": None}
_READ_OPTIONS = {  # option name -> (flag, metavar, help)
    "text_field": ("--text-field", None, "JSON/CSV field holding the text (a string or a {language: text} object)."),
    "id_field": ("--id-field", None, "Field holding the document id."),
    "language_field": ("--language-field", "FIELD", "Field holding each document's language."),
    "corpus_language": ("--corpus-language", None, "Language of plain-string texts without a language field."),
    "image_field": ("--image-field", "FIELD", "Field holding each item's image path (relative to the corpus file)."),
}


def _read_options(*names: str, from_run: bool = False):
    """A decorator adding the options ``names`` (keys of :data:`READ_DEFAULTS`) that say
    how to read a corpus file. With ``from_run`` they default to unset (None): the command
    reads the file as the run's training corpus was read (``run.json``), else as by default."""
    def decorate(command):
        options = []
        for name in names:
            flag, metavar, help_text = _READ_OPTIONS[name]
            default = READ_DEFAULTS[name]
            if from_run:
                help_text = f"With --aligned: {help_text[0].lower()}{help_text[1:]} Default: as for the run's " \
                            f"training corpus, else {default or 'none'}."
                options.append(click.option(flag, name, default=None, metavar=metavar, help=help_text))
            else:
                options.append(click.option(flag, name, default=default, metavar=metavar,
                                            show_default=default is not None, help=help_text))
        return functools.reduce(lambda cmd, opt: opt(cmd), reversed(options), command)
    return decorate


#: Options that say how to read a corpus file, shared by fit and transform.
_corpus_options = _read_options(*READ_DEFAULTS)


def _read_kwargs(text_field, id_field, language_field, corpus_language, image_field) -> dict:
    """The reading options as keyword arguments of :func:`~polytopic.datasets.read_corpus`
    (what run.json records as ``read_options``)."""
    return {"text_field": text_field, "id_field": id_field, "language": corpus_language,
            "language_field": language_field, "image_field": image_field}


def _read(path: Path, **read_options):
    """The corpus at ``path`` (a folder of .txt files takes only its language)."""
    from polytopic.datasets import read_corpus  # scipy: imported by the commands that read corpora

    return read_corpus(path, **_read_kwargs(**read_options))


def _parse_params(pairs: tuple[str, ...]) -> dict:
    """``--param KEY=VALUE`` pairs as keyword arguments; values are JSON where they parse."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        try:
            params[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            params[key.replace("-", "_")] = value
    return params


def _split_languages(_ctx, _param, value: str | None) -> list[str] | None:
    """``--languages en,it`` as ``["en", "it"]``."""
    if value is None:
        return None
    languages = [code.strip() for code in value.split(",") if code.strip()]
    if not languages:
        raise click.BadParameter("give language codes separated by commas, such as en,it")
    return languages


def _split_encoders(_ctx, _param, value: str | None):
    """``--encoder NAME`` as is; ``--encoder en=NAME,it=NAME`` as ``{"en": NAME, "it": NAME}``."""
    if value is None or "=" not in value:
        return value
    pairs = [part.partition("=") for part in value.split(",")]
    if any(not sep or not key.strip() or not name.strip() for key, sep, name in pairs):
        raise click.BadParameter(f"{value!r}: give NAME, or LANGUAGE=NAME pairs separated by commas")
    return {key.strip(): name.strip() for key, _, name in pairs}


def _check_output(_ctx, _param, output: Path | None) -> Path | None:
    """``--output`` is checked when the command line is read, before any work."""
    if output is None:
        return None
    if output.suffix not in OUTPUT_FORMATS:
        raise click.BadParameter(f"unknown format {output.suffix!r}: use one of {', '.join(OUTPUT_FORMATS)}")
    if not output.parent.is_dir():
        raise click.BadParameter(f"the folder {output.parent} does not exist")
    return output


def _model_options(model_name: str, model_cls, chosen: dict, params: tuple[str, ...]) -> dict:
    """Constructor arguments from the command line: the options given, the ``--param``
    pairs, and ``progress`` (off when quiet) for models that report it.

    Raises
    ------
    click.UsageError
        If the model takes no such argument.
    """
    options = {k: v for k, v in chosen.items() if v is not None} | _parse_params(params)
    takes = model_cls._parameter_constraints
    if "languages" in options and "languages" not in takes:
        raise click.BadParameter(_languages_refusal(model_name), param_hint="--languages")
    unknown = sorted(set(options) - set(takes))
    if unknown:
        raise click.UsageError(f"model {model_name!r} has no option(s) {unknown}")
    if "progress" in takes:
        options.setdefault("progress", not _quiet())
    return options


def _languages_refusal(model_name: str) -> str:
    from polytopic.models import MODELS  # every model: only to name those that learn several languages

    takers = [name for name, cls in MODELS.items() if "languages" in cls._parameter_constraints]
    return (f"model {model_name!r} learns one language (choose it with --language); the models that learn "
            f"several are: {', '.join(takers) or 'none'}")


def _model_help() -> str:
    """The model list of ``fit --help``, from the registry (no model is imported)."""
    lines = [f"  {name:<10} {description}" for name, description in model_descriptions().items()]
    return "Models:\n\n\b\n" + "\n".join(lines)


model_option = click.option("--model", "model_name", type=click.Choice(sorted(MODEL_TABLE)), default="combined",
                            show_default=True, help="Topic model (listed in `polytopic fit --help`).")


# -- commands ------------------------------------------------------------------------------
@click.group(cls=_PolytopicGroup)
@click.version_option(__version__, prog_name="polytopic")
@quiet_option
def main():
    """Topic models on pretrained embeddings: fit, inspect, transform, evaluate."""


def _fit_run(model, corpus, out: Path, overwrite: bool, source: Path, read_options: dict) -> None:
    """Fit ``model`` on ``corpus`` (read from ``source`` with ``read_options``, the CLI's
    names) into the run directory ``out``, which appears only if the fit succeeds (see
    :mod:`polytopic.runs` for what it holds)."""
    with atomic_directory(out, overwrite=overwrite) as tmp:
        started = time.perf_counter()
        model.fit(corpus)
        seconds = time.perf_counter() - started
        write_run(tmp, model, corpus=str(source), n_documents=len(corpus), fit_seconds=seconds,
                  read_options=_read_kwargs(**read_options), training_corpus=corpus)
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
@model_option
@click.option("--topics", type=click.IntRange(min=1), default=20, show_default=True, help="Number of topics K.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Training epochs (model default if unset).")
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


@main.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(exists=True, path_type=Path), default=None,
              help="Reference corpus for coherence (default: the training corpus named in run.json).")
@click.option("--labels", default=None, metavar="FIELD",
              help="Label field of the reference corpus: adds NMI and purity of document clusters.")
@click.option("--intrusion", is_flag=True, help="Add the word-intrusion proxy (embeddings, not people).")
@click.option("--aligned", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Aligned items ({language: text} objects, images beside them): adds Match, KL, "
                                   "JSD and MRR between their views (UAP with --category-field), with shuffled "
                                   "baselines, and coherence per language.")
@click.option("--languages", default=None, metavar="L1,L2", callback=_split_languages,
              help="With --aligned: the languages to compare (default: the run's, if it learned several).")
@click.option("--images", is_flag=True, help="With --aligned: compare the items' images too (needs an image field).")
@click.option("--seed", type=int, default=0, show_default=True, help="With --aligned: seed of the shuffled baselines.")
@click.option("--category-field", default=None, metavar="FIELD",
              help="With --aligned: field of each item's categories (a list such as [\"Game\", \"ArcadeGame\"]); "
                   "adds the UAP of retrieving the items sharing a category, with its shuffled baseline.")
@quiet_option
@_read_options("text_field", "id_field", "image_field", from_run=True)
def evaluate(run, reference, labels, intrusion, aligned, languages, images, seed, category_field, **read_options):
    """Score RUN (coherence, diversity, optionally clustering and the alignment of the views
    of --aligned items); print a table and write metrics.json, with every setting used, and
    the confusion figures of --aligned into RUN."""
    from polytopic.evaluation import ReferenceCache, comparison_rows, evaluate_run, format_table

    given = {name: value for name, value in read_options.items() if value is not None}
    cache, alignment = ReferenceCache(), None
    if aligned is None:
        _refuse_without_aligned(["languages", "images", "seed", "category_field", *read_options])
    else:  # first: its input errors surface before the slower coherence counts
        from polytopic.alignment_evaluation import evaluate_aligned, write_confusion_figures

        _check_aligned_request(run, languages, images, given)
        alignment = evaluate_aligned(run, aligned, languages, images=images, reference=reference, seed=seed,
                                     read_options=given, cache=cache, category_field=category_field)
    metrics = evaluate_run(run, reference=reference, labels=labels, intrusion=intrusion, cache=cache)
    if alignment is not None:
        metrics["alignment"] = alignment | {"figures": [p.name for p in write_confusion_figures(run, alignment)]}
        logger.info("alignment over %s, items per view %s, shuffle seed %s", aligned, alignment["n_items"], seed)
    path = write_metrics(run, metrics)
    click.echo(format_table(["metric", str(run)], comparison_rows([metrics])))
    settings = metrics["settings"]
    logger.info("reference: %s (%s documents, %s); coherence top-%s, windows %s, epsilon %s; written to %s",
                settings["reference_corpus"], settings["reference_documents"], settings["language"],
                settings["coherence_top_n"], settings["coherence_windows"], settings["epsilon"], path)


def _refuse_without_aligned(names: list[str]) -> None:
    """A usage error for options of ``evaluate --aligned`` given without it."""
    ctx = click.get_current_context()
    given = [f"--{name.replace('_', '-')}" for name in names
             if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
    if given:
        raise click.UsageError(f"{', '.join(given)} only go with --aligned FILE")


def _check_aligned_request(run: Path, languages, images: bool, given: dict) -> None:
    """Usage errors of ``evaluate --aligned`` that run.json answers before any work: images
    without an image field, and too few languages to compare."""
    from polytopic.runs import read_run

    info = read_run(run)
    if images and not (given.get("image_field") or (info.get("read_options") or {}).get("image_field")):
        raise click.BadParameter("needs --image-field FIELD, the field holding each item's image path (the run's "
                                 "training corpus was read without one)", param_hint="--images")
    learned = info.get("languages")
    if languages is None and isinstance(learned, list) and len(learned) + images < 2:
        raise click.UsageError(f"the run learned only {learned}: name the languages to compare with --languages, "
                               "such as --languages en,it")


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(exists=True, path_type=Path), default=None,
              help="Reference corpus for runs evaluated now (those without metrics.json).")
@click.option("--labels", default=None, metavar="FIELD", help="Label field, for runs evaluated now.")
@quiet_option
def compare(runs, reference, labels):
    """Put the metrics of several RUNS side by side (each run's metrics.json; runs
    without one are evaluated first, sharing reference counts)."""
    from polytopic.evaluation import ReferenceCache, comparison_rows, evaluate_run, format_table

    cache, results = ReferenceCache(), []
    for run in runs:
        if (run / METRICS_FILE).is_file():
            results.append(read_metrics(run))
        else:
            results.append(evaluate_run(run, reference=reference, labels=labels, cache=cache))
            write_metrics(run, results[-1])
    click.echo(format_table(["metric", *map(str, runs)], comparison_rows(results)))
    references = {r["settings"]["reference_corpus"] for r in results}
    if len(references) > 1:
        logger.warning("the runs were scored against different reference corpora %s; their coherence values "
                       "are not comparable", sorted(references))


if __name__ == "__main__":  # pragma: no cover
    main()
