"""The library's own exception types.

Every error a user can cause (bad input, a missing or corrupted file, a model used
before ``fit``) is raised as a :class:`PolytopicError`, so that callers can catch one
type. Subclasses say which stage refused the input; the message says what to do.
:func:`require` imports an optional dependency or says which extra installs it.
"""

import importlib


class PolytopicError(Exception):
    """Base class of every error polytopic raises on purpose."""


class CorpusError(PolytopicError, ValueError):
    """The documents cannot be read or preprocessed as asked."""


class EncoderError(PolytopicError, ValueError):
    """An encoder cannot be loaded, or produced unusable vectors (NaN, wrong shape)."""


class ParameterError(PolytopicError, ValueError):
    """A model or function received a hyperparameter outside its allowed range."""


class NotFittedError(PolytopicError, AttributeError):
    """A model was asked for results before ``fit`` was called."""


class ModelFileError(PolytopicError, OSError):
    """A saved model or run directory is missing, incomplete or corrupted."""


class MetricError(PolytopicError, ValueError):
    """A metric received inputs it cannot score (empty topics, misaligned pairs, NaN)."""


class ViewError(CorpusError):
    """A model was asked for a view it does not have: a language it was not fitted on and
    cannot transfer to, images for a text-only model, or an unknown ``{view: array}`` key."""


class OutputError(PolytopicError, OSError):
    """An output file cannot be written (no space left, no permission); what was begun is
    removed, so no file is left that looks complete."""


class DependencyError(PolytopicError, ImportError):
    """An optional dependency a feature needs is not installed; the message names the
    extra (``pip install "polytopic[report]"``) that installs it."""


def install_hint(extra: str) -> str:
    """The command that installs the optional dependencies of ``extra``."""
    return f'pip install "polytopic[{extra}]"'


def require(module: str, extra: str, purpose: str, error: type[Exception] = DependencyError):
    """Import ``module`` or raise ``error`` naming the extra to install.

    ``purpose`` completes "... needs <module>" (e.g. ``"the static-minilm encoder"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise error(f"{purpose} needs the {module.split('.')[0]!r} package ({err}): {install_hint(extra)}") from None
