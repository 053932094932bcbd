"""What the commands of :mod:`polytopic.cli` share: logging to standard error and
``--quiet``, and the options (with their parsers) that say how to read a corpus file,
which model to fit with which arguments, and where to write.

Every command's messages go to the logger ``polytopic.cli`` (:data:`logger`): they read
"INFO polytopic.cli: ..." whichever module of the command writes them.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path

import click

from polytopic.doc_topic import FORMATS
from polytopic.models.registry import MODEL_TABLE, model_descriptions

OUTPUT_FORMATS = FORMATS  # of transform --output
_QUIET = "polytopic.quiet"
logger = logging.getLogger("polytopic.cli")


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


def is_quiet() -> bool:
    """Whether this invocation was asked to be quiet (by any ``-q``)."""
    return click.get_current_context().find_root().meta.get(_QUIET, False)


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


def reading_options(*names: str, from_run: bool = False):
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
corpus_options = reading_options(*READ_DEFAULTS)


def read_kwargs(text_field, id_field, language_field, corpus_language, image_field) -> dict:
    """The reading options as keyword arguments of :func:`~polytopic.datasets.read_corpus`
    (what run.json records as ``read_options``)."""
    return {"text_field": text_field, "id_field": id_field, "language": corpus_language,
            "language_field": language_field, "image_field": image_field}


def read_corpus_file(path: Path, **read_options):
    """The corpus at ``path`` (a folder of .txt files takes only its language)."""
    from polytopic.datasets import read_corpus  # scipy: imported by the commands that read corpora

    return read_corpus(path, **read_kwargs(**read_options))


def parse_params(pairs: tuple[str, ...]) -> dict:
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


def split_languages(_ctx, _param, value: str | None) -> list[str] | None:
    """``--languages en,it`` as ``["en", "it"]``."""
    if value is None:
        return None
    languages = [code.strip() for code in value.split(",") if code.strip()]
    if not languages:
        raise click.BadParameter("give language codes separated by commas, such as en,it")
    return languages


def split_encoders(_ctx, _param, value: str | None):
    """``--encoder NAME`` as is; ``--encoder en=NAME,it=NAME`` as ``{"en": NAME, "it": NAME}``."""
    if value is None or "=" not in value:
        return value
    pairs = [part.partition("=") for part in value.split(",")]
    if any(not sep or not key.strip() or not name.strip() for key, sep, name in pairs):
        raise click.BadParameter(f"{value!r}: give NAME, or LANGUAGE=NAME pairs separated by commas")
    return {key.strip(): name.strip() for key, _, name in pairs}


def check_output(_ctx, _param, output: Path | None) -> Path | None:
    """``--output`` is checked when the command line is read, before any work."""
    if output is None:
        return None
    if output.suffix not in OUTPUT_FORMATS:
        raise click.BadParameter(f"unknown format {output.suffix!r}: use one of {', '.join(OUTPUT_FORMATS)}")
    if not output.parent.is_dir():
        raise click.BadParameter(f"the folder {output.parent} does not exist")
    return output


def model_options(model_name: str, model_cls, chosen: dict, params: tuple[str, ...]) -> dict:
    """Constructor arguments from the command line: the options given, the ``--param``
    pairs, and ``progress`` (off when quiet) for models that report it.

    Raises
    ------
    click.UsageError
        If the model takes no such argument.
    """
    options = {k: v for k, v in chosen.items() if v is not None} | parse_params(params)
    takes = model_cls.parameter_names()
    if "languages" in options and "languages" not in takes:
        raise click.BadParameter(_languages_refusal(model_name), param_hint="--languages")
    unknown = sorted(set(options) - set(takes))
    if unknown:
        raise click.UsageError(f"model {model_name!r} has no option(s) {unknown}")
    if "progress" in takes:
        options.setdefault("progress", not is_quiet())
    return options


def _languages_refusal(model_name: str) -> str:
    from polytopic.models import MODELS  # every model: only to name those that learn several languages

    takers = [name for name, cls in MODELS.items() if "languages" in cls.parameter_names()]
    return (f"model {model_name!r} learns one language (choose it with --language); the models that learn "
            f"several are: {', '.join(takers) or 'none'}")


def model_help() -> str:
    """The model list of ``fit --help``, from the registry (no model is imported)."""
    lines = [f"  {name:<10} {description}" for name, description in model_descriptions().items()]
    return "Models:\n\n\b\n" + "\n".join(lines)


def model_choice(default: str):
    """The ``--model`` option with ``default`` as its default."""
    return click.option("--model", "model_name", type=click.Choice(sorted(MODEL_TABLE)), default=default,
                        show_default=True, help="Topic model (listed in `polytopic fit --help`).")


model_option = model_choice("combined")
#: The demo's model: more coherent than every peer at top-25 diversity >= 0.9 (issue #14).
DEMO_MODEL = "clustering"


# -- options that fit and sweep share ----------------------------------------------------
epochs_option = click.option("--epochs", type=click.IntRange(min=1), default=None,
                             help="Training epochs (model default if unset).")
vocabulary_size_option = click.option("--vocabulary-size", type=click.IntRange(min=1), default=None,
                                      help="Words kept per language (default 2000).")


def encoder_option(help_text: str):
    """``--encoder NAME|L1=NAME,L2=NAME`` (:func:`split_encoders`)."""
    return click.option("--encoder", default=None, callback=split_encoders, metavar="NAME|L1=NAME,L2=NAME",
                        help=help_text)


def params_option(help_text: str):
    """``--param KEY=VALUE``, repeatable (:func:`parse_params` reads the pairs)."""
    return click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help=help_text)


def overwrite_option(help_text: str):
    """``--overwrite``: replace an existing output directory."""
    return click.option("--overwrite", is_flag=True, help=help_text)



ENGINE_OPTIONS = ("engine_name", "address", "workers", "gpus_per_worker")


def engine_options(command):
    """``--engine`` (where texts are encoded: this process, or a Ray cluster) with
    ``--address``, ``--workers`` and ``--gpus-per-worker``; the command turns them into an
    engine with :func:`engine_from`."""
    for option in reversed([
        click.option("--engine", "engine_name", type=click.Choice(["local", "ray"]), default="local",
                     help="Where texts are encoded: this process, or a Ray cluster "
                     "(pip install 'polytopic[ray]'); the vectors land in the same cache."),
        click.option("--address", default="auto",
                     help="--engine ray: the cluster (auto: the one `ray start --head` started here, or "
                     "RAY_ADDRESS; local: a Ray started for this command)."),
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="--engine ray: encoder workers (default: one per CPU, or per GPU)."),
        click.option("--gpus-per-worker", type=click.FloatRange(min=0), default=0.0,
                     help="--engine ray: GPUs each worker reserves."),
    ]):
        command = option(command)
    return command


def engine_from(engine_name: str, address: str, workers: int | None, gpus_per_worker: float):
    """None for ``--engine local``, else the :class:`~polytopic.engine.RayEngine` the options name."""
    if engine_name == "local":
        return None
    from polytopic.engine import RayEngine

    return RayEngine(None if address == "local" else address, workers=workers, gpus_per_worker=gpus_per_worker)
