"""The library's own exception types.

Every error a user can cause (bad input, a missing or corrupted file, a model used
before ``fit``) is raised as a :class:`PolytopicError`, so that callers can catch one
type. Subclasses say which stage refused the input; the message says what to do.
"""


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


class DependencyError(PolytopicError, ImportError):
    """An optional dependency a feature needs is not installed; the message names the
    extra (``pip install "polytopic[report]"``) that installs it."""
