"""polytopic: topic models on pretrained embeddings, offline by default.

The flow is one-directional (README.md, "Where things are"): a :class:`Corpus` of documents goes
through an encoder (with an on-disk cache) into a topic model; metrics read only the
model's outputs and a reference corpus.

The public names are imported on first use (PEP 562), so that ``import polytopic`` and
the command line's quick paths (``--version``, ``topics``) do not import torch.
"""

from __future__ import annotations

import importlib

from polytopic.errors import (
    CorpusError,
    EncoderError,
    MetricError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    PolytopicError,
    ViewError,
)
from polytopic.models.registry import MODEL_TABLE
from polytopic.version import __version__

#: Public name -> the module it is imported from on first use: every registered model.
_LAZY = {
    "Corpus": "polytopic.corpus",
    "Tokenizer": "polytopic.preprocessing",
    "Vocabulary": "polytopic.preprocessing",
    **dict.fromkeys(["TopicModel", *(cls for _, cls, _ in MODEL_TABLE.values()), "load_model"], "polytopic.models"),
}

__all__ = [
    *_LAZY,
    "PolytopicError",
    "CorpusError",
    "EncoderError",
    "MetricError",
    "ModelFileError",
    "NotFittedError",
    "ParameterError",
    "ViewError",
    "__version__",
]


def __getattr__(name: str):
    """Import a public name when it is first asked for, and keep it."""
    if name not in _LAZY:
        raise AttributeError(f"module 'polytopic' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
