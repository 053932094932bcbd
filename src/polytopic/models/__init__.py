"""Topic models, all behind the contract of :mod:`polytopic.models.base`.

:data:`MODELS` maps the names of :data:`~polytopic.models.registry.MODEL_TABLE` (those
used by the CLI and in saved configurations) to the classes. The classes, ``MODELS`` and
``load_model`` are imported on first use (PEP 562): importing the package, or its
registry, imports no model and no torch.
"""

from __future__ import annotations

import importlib

from polytopic.models.registry import MODEL_TABLE, model_class

#: Public name -> the module it is imported from on first use.
_LAZY = {"TopicModel": "polytopic.models.base", "load_model": "polytopic.models.files"} | {
    cls: module for module, cls, _ in MODEL_TABLE.values()
}

__all__ = ["MODELS", "MODEL_TABLE", "model_class", *_LAZY]


def __getattr__(name: str):
    """Import ``MODELS`` (every model) or one public name when first asked for, and keep it."""
    if name == "MODELS":
        value = {key: model_class(key) for key in MODEL_TABLE}
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'polytopic.models' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
