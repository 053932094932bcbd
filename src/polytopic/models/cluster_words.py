"""The words of a topic found by clustering: each cluster's words weighted by c-TF-IDF
(Grootendorst 2022) or by their association with the cluster, from statistics that add up
over chunks of a corpus, and ranked as a shared head and an exclusive tail (see
:mod:`polytopic.models.clustering`)."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from polytopic.errors import ParameterError

logger = logging.getLogger(__name__)


def class_tfidf(counts: sp.csr_matrix, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """c-TF-IDF of each class (Grootendorst 2022, Eq. 1), rows normalised to sum to 1.

    Parameters
    ----------
    counts : csr_matrix, shape (n_docs, V)
    labels : ndarray of int, shape (n_docs,), values in [0, n_classes)

    Returns
    -------
    ndarray, shape (n_classes, V)
    """
    return tfidf_of_class_counts(class_sums(counts, labels, n_classes))


def tfidf_of_class_counts(tf: np.ndarray) -> np.ndarray:
    """c-TF-IDF from each class's summed word counts ``tf`` (n_classes, V): what
    :func:`class_tfidf` computes, from statistics that add up over chunks of a corpus."""
    average_words = tf.sum() / tf.shape[0]
    frequency = tf.sum(0)
    return _normalised_rows(tf * np.log1p(average_words / np.maximum(frequency, 1e-12)))


def word_cluster_association(counts: sp.csr_matrix, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Positive NPMI (Bouma 2009) between a word's presence in a document and the
    document's cluster, times the number of the cluster's documents that contain the
    word, rows normalised to sum to 1. Takes and returns what :func:`class_tfidf` does.
    """
    present = (counts > 0).astype(np.float64)
    return association_of_class_documents(class_sums(present, labels, n_classes),
                                          np.bincount(labels, minlength=n_classes))


def association_of_class_documents(joint: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """:func:`word_cluster_association` from ``joint`` (n_classes, V), the number of each
    class's documents that contain each word, and ``sizes`` (n_classes,), the documents
    per class: statistics that add up over chunks of a corpus."""
    n_docs = sizes.sum()
    p_word = joint.sum(0) / n_docs
    p_cluster = sizes[:, None] / n_docs
    p_joint = np.maximum(joint / n_docs, 1e-300)
    npmi = np.log(p_joint / np.maximum(p_cluster * p_word, 1e-300)) / -np.log(p_joint)
    return _normalised_rows(np.where(joint > 0, np.maximum(npmi, 0.0), 0.0) * joint)


def class_sums(rows, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows of ``rows`` (sparse or dense, shape (n, V)) summed per class, dense, shape
    (n_classes, V): float32 for dense float32 rows (vectors), float64 otherwise (counts,
    exact to 2^53)."""
    dtype = np.float64 if sp.issparse(rows) or rows.dtype != np.float32 else np.float32
    member = sp.csr_matrix((np.ones(labels.size, dtype=dtype), (labels, np.arange(labels.size))),
                           shape=(n_classes, labels.size))
    summed = member @ rows
    return np.asarray(summed.todense() if sp.issparse(summed) else summed, dtype=dtype)


def _normalised_rows(weights: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1; an all-zero row becomes uniform."""
    totals = weights.sum(1, keepdims=True)
    return np.where(totals > 0, weights / np.where(totals > 0, totals, 1), 1.0 / weights.shape[1])


def exclusive_words(weights: np.ndarray, n_words: int, available: np.ndarray | None = None) -> np.ndarray:
    """Give each topic ``n_words`` words that no other topic gets, maximising the sum
    over topics and their words of log(weight / the topic's largest weight).

    The topics' slots (each topic repeated ``n_words`` times) are matched to the words by
    the Hungarian method (``scipy.optimize.linear_sum_assignment``). The log makes the
    objective scale-free per topic (a proportionally fair split): no topic is starved
    because another's weights are larger. Relative weights are floored at 1e-6. Only
    ``available`` words (bool, shape (V,); default all) can be given.

    Returns
    -------
    ndarray of bool, shape (n_topics, V): the words each topic gets.
    """
    from scipy.optimize import linear_sum_assignment

    n_topics = weights.shape[0]
    columns = np.flatnonzero(np.ones(weights.shape[1], bool) if available is None else available)
    if n_topics * n_words > columns.size:
        raise ParameterError(f"exclusive_words={n_words} for {n_topics} topics needs {n_topics * n_words} "
                             f"words; {columns.size} are free to give")
    relative = weights / np.maximum(weights.max(1, keepdims=True), 1e-300)
    gain = np.log(np.maximum(relative[:, columns], 1e-6))
    slots, words = linear_sum_assignment(np.repeat(gain, n_words, axis=0), maximize=True)
    chosen = np.zeros_like(weights, dtype=bool)
    chosen[slots // n_words, columns[words]] = True
    return chosen


def top_words(weights: np.ndarray, n_words: int) -> np.ndarray:
    """Each row's ``n_words`` largest weights (ties to the lower index), as a bool mask."""
    order = np.argsort(-weights, axis=1, kind="stable")[:, :n_words]
    chosen = np.zeros_like(weights, dtype=bool)
    chosen[np.arange(weights.shape[0])[:, None], order] = True
    return chosen


def put_first(weights: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """``weights`` with each row's ``chosen`` words ranked above the others, both groups
    in their own weight order, rows normalised to sum to 1: the others are scaled so
    that the largest of them is half the smallest chosen weight. A chosen weight of 0 is
    raised to 1e-9 of the row's largest (so chosen zeros tie among themselves). Applied
    twice, first with the tail and then with the head, it ranks head > tail > rest."""
    weights = np.where(chosen, np.maximum(weights, 1e-9 * weights.max(1, keepdims=True)), weights)
    big = np.where(chosen, weights, np.inf).min(1, keepdims=True)
    rest = np.where(chosen, 0.0, weights)
    scale = np.where(rest.max(1, keepdims=True) > 0, 0.5 * big / np.maximum(rest.max(1, keepdims=True), 1e-300), 1.0)
    out = np.where(chosen, weights, rest * np.minimum(scale, 1.0))
    return out / out.sum(1, keepdims=True)


def head_and_tail(weights: np.ndarray, n_shared: int, n_exclusive: int) -> np.ndarray:
    """``weights`` re-ranked so that each topic's ``n_shared`` heaviest words come first,
    then ``n_exclusive`` words that no other topic has among its first ``n_shared +
    n_exclusive`` (:func:`exclusive_words`, among the words outside every head), then the
    rest; each group in weight order, rows summing to 1.

    Only words a topic weighs at all join its head or tail, and a uniform row (an empty
    cluster) gets neither. When fewer than K · ``n_exclusive`` words are left outside
    the heads, every tail shrinks to what they allow.
    """
    n_topics = weights.shape[0]
    eligible = (weights > 0) & (weights.max(1, keepdims=True) > weights.min(1, keepdims=True))
    head = top_words(weights, n_shared) & eligible
    free = ~head.any(0)
    n_tail = min(n_exclusive, int(free.sum()) // n_topics)
    if n_tail < n_exclusive:
        logger.info("exclusive_words=%d for %d topics needs %d words outside the topics' first %d; %d are left, "
                    "so each topic gets %d", n_exclusive, n_topics, n_exclusive * n_topics, n_shared,
                    int(free.sum()), n_tail)
    tail = exclusive_words(weights, n_tail, free) & eligible
    return put_first(put_first(weights, tail), head)
