"""The encoder family: sentence, token and image encoders share one base and one cache.

:class:`BaseEncoder` holds what every encoder has — a name, an identity that changes with
its weights, a dimension, the on-disk :class:`~polytopic.encoders.cache.VectorCache`, a
progress switch — and :func:`require` is the one way any of them asks for an optional
package. :class:`Encoder` is the vector encoder (one vector per input: a text, or an
image file); :class:`~polytopic.encoders.tokens.TokenEncoder` gives one vector per word.
"""

from __future__ import annotations

import copy
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import numpy as np
from tqdm.auto import tqdm

from polytopic.encoders.cache import VectorCache, default_cache_dir, text_key
from polytopic.errors import EncoderError

logger = logging.getLogger(__name__)

#: What an encoder reads.
MODALITIES = ("text", "image")


class BaseEncoder(ABC):
    """What every encoder shares: name, identity, dimension, cache and progress.

    Parameters
    ----------
    batch_size : int
        Inputs per forward pass.
    cache_dir : str, Path, or False
        Where vectors are cached (default :func:`default_cache_dir`); False disables.
    progress : bool
        Show a progress bar while encoding.
    """

    #: Short name used in configs and the CLI (the registry key or the model path).
    name: str
    #: What the encoder reads: "text" or "image".
    modality: ClassVar[str] = "text"
    #: How vectors are stored in the cache.
    cache_dtype: ClassVar[str] = "float32"
    #: ISO 639-1 codes of the languages the encoder was trained on; None: not declared.
    languages: frozenset[str] | None = None

    def __init__(self, batch_size: int = 64, cache_dir: str | Path | bool | None = None, progress: bool = True):
        if batch_size < 1:
            raise EncoderError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self.progress = progress
        self._cache: VectorCache | None = None

    @property
    @abstractmethod
    def identity(self) -> str:
        """A string that changes whenever the vectors would (the weights' content,
        pooling, normalisation, window): the cache key's first half."""

    @property
    @abstractmethod
    def dimension(self) -> int:
        """Length of each vector."""

    @property
    def cache_root(self) -> Path | None:
        """The cache directory, or None when caching is off."""
        if self.cache_dir is False:
            return None
        return default_cache_dir() if self.cache_dir in (None, True) else Path(self.cache_dir)

    @property
    def cache(self) -> VectorCache | None:
        root = self.cache_root
        if root is None:
            return None
        if self._cache is None:
            self._cache = VectorCache(root / "vectors", self.identity, self.dimension, dtype=self.cache_dtype)
        return self._cache

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def for_worker(self) -> "BaseEncoder":
        """A copy to send to another process (a Ray worker): no cache and no progress bar
        (the caller caches what comes back), and none of the weights loaded here, which
        each copy loads for itself (every ``functools.cached_property`` is dropped)."""
        worker = copy.copy(self)
        worker.__dict__ = {key: value for key, value in self.__dict__.items()
                           if not isinstance(getattr(type(self), key, None), cached_property)}
        worker.__dict__.update(_cache=None, cache_dir=False, progress=False)
        return worker


def covers(encoder: BaseEncoder, language: str) -> bool:
    """Whether ``encoder`` declares ``language`` (``zh-tw`` counts as ``zh``), or declares none."""
    return encoder.languages is None or language.split("-")[0].split("_")[0].lower() in encoder.languages


#: The 100 languages of XLM-R's pretraining data (Conneau et al. 2020, Table 6), hence of
#: multilingual-e5 and of what is distilled from it.
XLMR_LANGUAGES = frozenset(
    "af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu ha he hi hr hu hy id "
    "is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my ne nl no om or pa pl ps pt ro ru sa sd si "
    "sk sl so sq sr su sv sw ta te th tl tr ug uk ur uz vi xh yi zh".split())


class Encoder(BaseEncoder):
    """Maps inputs (texts, or image files for ``modality = "image"``) to fixed-size vectors.

    Subclasses implement :meth:`_encode_batch` (one forward pass) and say who they are
    through :attr:`identity`; this class adds de-duplication, length-sorted batching,
    a progress bar, the on-disk cache and the checks on what comes back. Inputs are
    cached under :meth:`_key` (a text's SHA-1; an image encoder hashes the file's bytes).

    Parameters
    ----------
    batch_size : int
        Texts per forward pass.
    sort_by_length : bool
        Batch texts of similar length together (less padding); the output order is
        always the input order.
    cache_dir : str, Path, or False
        Where vectors are cached (default :func:`default_cache_dir`); False disables.
    progress : bool
        Show a progress bar while encoding.
    """

    def __init__(self, batch_size: int = 64, sort_by_length: bool = True,
                 cache_dir: str | Path | bool | None = None, progress: bool = True):
        super().__init__(batch_size=batch_size, cache_dir=cache_dir, progress=progress)
        self.sort_by_length = sort_by_length

    @abstractmethod
    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        """Vectors of one batch, shape (len(texts), dimension)."""

    def _key(self, item: str) -> bytes:
        """Cache key of one input (default: SHA-1 of the text)."""
        return text_key(item)

    def _lengths(self, texts: Sequence[str]) -> np.ndarray:
        """Sort key for batching; subclasses with a tokenizer count tokens instead."""
        return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))

    def encode(self, texts: Sequence[str], engine=None) -> np.ndarray:
        """Vectors of ``texts``, shape (n_texts, dimension), float32, in input order.

        Each distinct text is encoded once; texts already in the cache are read back.
        ``engine`` (a :class:`~polytopic.engine.RayEngine`) encodes the others on a
        cluster instead of in this process; either way they are cached as they come.
        """
        if isinstance(texts, str):
            raise EncoderError("encode takes a sequence of texts, not a single string")
        texts = list(texts)
        if not all(isinstance(t, str) for t in texts):
            raise EncoderError("every input to encode must be a string")
        unique, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True) if texts else ([], [])
        unique = list(unique)
        keys = [self._key(t) for t in unique]
        cache = self.cache
        if cache is not None:
            vectors, found = cache.get(keys)
        else:
            vectors = np.zeros((len(unique), self.dimension), dtype=np.float32)
            found = np.zeros(len(unique), dtype=bool)
        missing = np.flatnonzero(~found)
        if missing.size:
            logger.info("encoding %d %ss with %s (%d from cache)", missing.size, self.modality, self.name, found.sum())
            # Each batch goes to the cache as soon as it is done: an interrupted run
            # keeps what it encoded.
            todo = [unique[i] for i in missing]
            for rows, batch in self._batches(todo) if engine is None else engine.batches(self, todo):
                vectors[missing[rows]] = self._checked(batch, len(rows))
                if cache is not None:
                    cache.put([keys[i] for i in missing[rows]], batch)
        return vectors[np.asarray(inverse, dtype=np.int64)] if texts else vectors

    def _batches(self, texts: list[str]):
        """Yield (positions, vectors) per forward pass, longest texts first when sorting."""
        order = np.argsort(-self._lengths(texts), kind="stable") if self.sort_by_length else np.arange(len(texts))
        bar = tqdm(total=len(texts), desc=f"encoding ({self.name})", unit="doc",
                   disable=not self.progress, leave=False)
        with bar:
            for start in range(0, len(texts), self.batch_size):
                idx = order[start : start + self.batch_size]
                yield idx, self._encode_batch([texts[i] for i in idx])
                bar.update(len(idx))

    def _checked(self, batch: np.ndarray, n: int) -> np.ndarray:
        batch = np.asarray(batch, dtype=np.float32)
        if batch.shape != (n, self.dimension):
            raise EncoderError(f"{self.name} returned shape {batch.shape}, expected {(n, self.dimension)}")
        if not np.isfinite(batch).all():
            raise EncoderError(f"{self.name} returned NaN or infinite values")
        return batch


def check_embeddings(embeddings, n_rows: int, dimension: int | None = None) -> np.ndarray:
    """Validate user-supplied vectors: 2-D, one row per document, finite."""
    array = np.asarray(embeddings, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] != n_rows:
        raise EncoderError(f"embeddings must have shape ({n_rows}, dim); got {array.shape}")
    if dimension is not None and array.shape[1] != dimension:
        raise EncoderError(f"embeddings have dimension {array.shape[1]}, the model expects {dimension}")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).any(axis=1).sum())
        raise EncoderError(f"embeddings contain NaN or infinite values in {bad} rows")
    return array
