"""Input checks shared by the metrics: each failure is a :class:`MetricError` that says
what was wrong."""

from __future__ import annotations

import numpy as np

from polytopic.errors import MetricError

#: Largest accepted deviation of a row sum from 1 (float32 softmax outputs stay far below).
SUM_TOLERANCE = 1e-4


def distributions(values, name: str = "distributions") -> np.ndarray:
    """``values`` as a float64 array of shape (n, k) whose rows are probability
    distributions: finite, non-negative, summing to 1 within :data:`SUM_TOLERANCE`.
    Rows are not renormalised: a row that does not sum to 1 is an error upstream."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise MetricError(f"{name} must be a non-empty 2-d array (documents x topics), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        rows = np.flatnonzero(~np.isfinite(array).all(axis=1))
        raise MetricError(f"{name} contain NaN or infinite values (rows {rows[:5].tolist()})")
    if np.any(array < 0):
        raise MetricError(f"{name} contain negative probabilities")
    sums = array.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > SUM_TOLERANCE)
    if bad.size:
        raise MetricError(
            f"{name}: {bad.size} rows do not sum to 1 (row {bad[0]} sums to {sums[bad[0]]:.6g}); "
            "pass probability distributions, e.g. model.transform(...)"
        )
    return array


def same_length(name_a: str, a, name_b: str, b) -> None:
    """Refuse two sequences that should be aligned row by row but differ in length."""
    if len(a) != len(b):
        raise MetricError(f"{name_a} and {name_b} must be aligned row by row: {len(a)} != {len(b)} rows")


def word_lists(topics, name: str = "topics") -> list[list[str]]:
    """``topics`` as a non-empty list of non-empty word lists."""
    if isinstance(topics, str) or len(topics) == 0:
        raise MetricError(f"{name} must be a non-empty list of word lists")
    checked = []
    for k, words in enumerate(topics):
        if isinstance(words, str) or not all(isinstance(w, str) for w in words):
            raise MetricError(f"topic {k} must be a list of words (str), got {words!r:.60}")
        if len(words) == 0:
            raise MetricError(f"topic {k} is empty")
        checked.append(list(words))
    return checked
