"""Encoders turn texts into vectors; every one caches its output on disk by content.

Resolve a name with :func:`get_encoder`: ``"all-MiniLM-L6-v2"`` (default, English,
packaged), ``"use-multilingual"`` (16 languages, packaged), or any sentence-transformers
name or local path.
"""

from __future__ import annotations

from polytopic.encoders.base import Encoder, check_embeddings
from polytopic.encoders.cache import VectorCache, default_cache_dir
from polytopic.encoders.sentence import (
    PACKAGED_MINILM,
    MultilingualUSEEncoder,
    SentenceTransformerEncoder,
)

DEFAULT_ENCODER = PACKAGED_MINILM

#: Names that resolve to a built-in encoder class; anything else is a
#: sentence-transformers name or path.
ENCODERS = {
    "use-multilingual": MultilingualUSEEncoder,
}


def get_encoder(spec: str | Encoder | None = None, **options) -> Encoder:
    """An :class:`Encoder` for ``spec``: an instance (returned as is), a registered
    name, or a sentence-transformers model name / local path."""
    if isinstance(spec, Encoder):
        return spec
    spec = spec or DEFAULT_ENCODER
    if spec in ENCODERS:
        return ENCODERS[spec](**options)
    return SentenceTransformerEncoder(spec, **options)


__all__ = [
    "Encoder",
    "SentenceTransformerEncoder",
    "MultilingualUSEEncoder",
    "VectorCache",
    "DEFAULT_ENCODER",
    "ENCODERS",
    "check_embeddings",
    "default_cache_dir",
    "get_encoder",
]
