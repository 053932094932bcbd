"""Topic diversity: how little the topics' top words repeat one another.

- :func:`topic_diversity`: share of unique words among the top-25 words of all topics
  (Dieng, Ruiz & Blei 2020, ETM §5; used by TopClus, Meng et al. 2022 §4.2).
- :func:`inverted_rbo`: 1 - mean rank-biased overlap of all topic pairs (Webber,
  Moffat & Zobel 2010; as a diversity measure, Bianchi et al. 2021 / OCTIS).
"""

from __future__ import annotations

import numpy as np

from polytopic.errors import MetricError
from polytopic.metrics.checks import word_lists


def topic_diversity(topics, top_n: int = 25) -> float:
    """Unique words among the ``top_n`` words of every topic, divided by K * top_n.

    Parameters
    ----------
    topics : sequence of sequence of str, K topics, most probable word first
    top_n : int
        Words per topic (25 in ETM and TopClus).

    Returns
    -------
    float in (0, 1]; 1 when no word is shared by two topics.

    Raises
    ------
    MetricError
        A topic with fewer than ``top_n`` words (the ratio would not be comparable).
    """
    topics = word_lists(topics)
    short = [k for k, words in enumerate(topics) if len(words) < top_n]
    if short:
        raise MetricError(f"topic diversity needs {top_n} words per topic; topics {short[:10]} have fewer")
    top = [w for words in topics for w in words[:top_n]]
    return len(set(top)) / len(top)


def rank_biased_overlap(topics, top_n: int = 10, p: float = 0.9) -> np.ndarray:
    """Extrapolated rank-biased overlap of every pair of topics (Webber et al. 2010,
    Eq. 32 for two lists of equal length k):

    ``RBO_ext = X_k / k * p^k + (1 - p) / p * sum_{d=1..k} X_d / d * p^d``

    where X_d is the number of words the two top-d lists share.

    Returns
    -------
    ndarray, shape (K, K): 1 on the diagonal, 0 for topics without a common word.
    """
    if not 0 < p < 1:
        raise MetricError(f"p must lie strictly between 0 and 1, got {p}")
    topics = [words[:top_n] for words in word_lists(topics)]
    depth = min(len(words) for words in topics)
    if depth < top_n:
        raise MetricError(f"rank-biased overlap needs {top_n} words per topic; the shortest topic has {depth}")
    vocabulary = {w: i for i, w in enumerate(dict.fromkeys(w for words in topics for w in words))}
    ranks = np.full((len(topics), len(vocabulary)), top_n)  # top_n = "not in the list"
    for k, words in enumerate(topics):
        ranks[k, [vocabulary[w] for w in words]] = np.arange(top_n)
    # X_d = A_d A_d^T with A_d the (K x V) indicator of the top-d words
    indicators = [(ranks < d).astype(np.float64) for d in range(1, top_n + 1)]
    overlap = np.stack([a @ a.T for a in indicators], axis=2)
    d = np.arange(1, top_n + 1)
    return overlap[..., -1] / top_n * p**top_n + (1 - p) / p * (overlap / d * p**d).sum(axis=2)


def inverted_rbo(topics, top_n: int = 10, p: float = 0.9) -> float:
    """1 - the mean :func:`rank_biased_overlap` over all pairs of distinct topics: 1 for
    disjoint topics, 0 for identical ones (OCTIS's ``InvertedRBO``, weight p = 0.9)."""
    overlap = rank_biased_overlap(topics, top_n, p)
    if overlap.shape[0] < 2:
        raise MetricError("inverted RBO compares pairs of topics: give at least two")
    upper = np.triu_indices(overlap.shape[0], k=1)
    return float(1 - overlap[upper].mean())
