"""Per-document noise for sampled inference: a function of the seed and the document alone.

CTM-style inference averages softmax(μ + σ ε) over S draws of ε (Bianchi et al. 2021a use
20). Drawing ε from one stream makes θ depend on the batch and the document's position;
giving every document the *same* S draws fixes that but correlates documents: the English
and Italian texts of one item get identical noise, which pushes cross-lingual Match up and
KL down against the protocol of Mueller & Dredze (2021, §5.2), where the two are inferred
independently. Here each document's draws come from a counter-based generator keyed by the
seed and the SHA-1 of the document's content (its text, or its image path), so they are
independent across documents, identical for the same document in any batch, order or
batch size, and vectorised (no generator object per document).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's output function (Steele et al. 2014): a bijective 64-bit mix whose
    outputs for consecutive counters pass BigCrush."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def document_keys(contents: Sequence[str], seed: int) -> np.ndarray:
    """One 64-bit key per document from the seed and its content, shape (n,) uint64."""
    prefix = f"{seed}\0".encode()
    return np.fromiter(
        (int.from_bytes(hashlib.sha1(prefix + c.encode("utf-8")).digest()[:8], "little") for c in contents),
        dtype=np.uint64, count=len(contents))


def document_noise(keys: np.ndarray, n_samples: int, n_topics: int) -> np.ndarray:
    """Standard normal draws (n, n_samples, n_topics), float32, by Box–Muller on two
    uniform streams per document counted from its key."""
    size = n_samples * n_topics
    with np.errstate(over="ignore"):
        counters = keys[:, None] * np.uint64(2 * size + 1) + np.arange(2 * size, dtype=np.uint64)[None]
        bits = _splitmix64(counters)
    uniform = ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53  # in (0, 1)
    u1, u2 = uniform[:, :size], uniform[:, size:]
    normal = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return normal.reshape(len(keys), n_samples, n_topics).astype(np.float32)
