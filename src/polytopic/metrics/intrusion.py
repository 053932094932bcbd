"""Automated word intrusion: an embedding-based PROXY of the human intrusion test.

The human test (Chang et al. 2009; TopClus, Meng et al. 2022 §4.2) shows a topic's top
words plus one intruder taken from another topic and counts how often people spot the
intruder. No person takes part here: a word embedding stands in for the reader, who
"spots" the word least similar (mean cosine) to the others. A coherent topic whose
words sit close together makes the intruder stand out. The number is a proxy and is
labelled so wherever it is printed (:data:`NAME`); it is no substitute for the human
test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from polytopic.errors import MetricError
from polytopic.metrics.checks import word_lists

NAME = "word intrusion (embedding proxy, not the human test)"


@dataclass(frozen=True)
class IntrusionScores:
    """Share of intruders the embedding singles out, per topic and overall."""

    per_topic: np.ndarray
    mean: float
    top_n: int
    n_intruders: int
    name: str = NAME

    def as_dict(self) -> dict:
        return {"name": self.name, "mean": self.mean, "per_topic": self.per_topic.tolist(),
                "top_n": self.top_n, "intruders_per_topic": self.n_intruders}


def intrusion_proxy(
    topics,
    vectors: Callable[[list[str]], np.ndarray] | Mapping[str, np.ndarray],
    top_n: int = 5,
    n_intruders: int = 10,
    seed: int = 0,
) -> IntrusionScores:
    """Embedding-based word intrusion (a proxy; see the module docstring).

    For each topic and each of ``n_intruders`` draws, an intruder is taken at random
    from the top ``top_n`` words of another random topic, among those absent from this
    topic's word list. The candidate set is the topic's ``top_n`` words plus the
    intruder; the word with the lowest mean cosine similarity to the other words is
    taken as the guess.

    Parameters
    ----------
    topics : sequence of sequence of str, K >= 2 topics
    vectors : callable or mapping
        ``words -> array (n_words, dim)`` (e.g. an encoder's ``encode``), or a mapping
        word -> vector.
    top_n : int
        Topic words shown with the intruder (5, as in Chang et al. 2009).
    n_intruders : int
        Draws per topic.
    seed : int

    Returns
    -------
    IntrusionScores
        ``per_topic`` shape (K,): share of draws where the intruder was singled out;
        NaN for a topic no other topic can lend an intruder to.
    """
    topics = word_lists(topics)
    if len(topics) < 2:
        raise MetricError("word intrusion needs at least two topics (intruders come from other topics)")
    if top_n < 2 or n_intruders < 1:
        raise MetricError(f"top_n must be >= 2 and n_intruders >= 1, got {top_n} and {n_intruders}")
    short = [k for k, words in enumerate(topics) if len(words) < top_n]
    if short:
        raise MetricError(f"word intrusion needs {top_n} words per topic; topics {short[:10]} have fewer")
    vocabulary = list(dict.fromkeys(w for words in topics for w in words[:top_n]))
    index = {w: i for i, w in enumerate(vocabulary)}
    unit = _unit_vectors(vocabulary, vectors)
    similarity = unit @ unit.T

    rng = np.random.default_rng(seed)
    per_topic = np.full(len(topics), np.nan)
    for k, words in enumerate(topics):  # a loop over topics, each scored in one array step
        own = set(words)
        candidates = np.array([index[w] for j, other in enumerate(topics) if j != k
                               for w in other[:top_n] if w not in own])
        if candidates.size == 0:
            continue
        intruders = rng.choice(np.unique(candidates), size=n_intruders)
        shown = np.array([index[w] for w in words[:top_n]])
        sets = np.concatenate([np.tile(shown, (n_intruders, 1)), intruders[:, None]], axis=1)  # (draws, n+1)
        block = similarity[sets[:, :, None], sets[:, None, :]]  # (draws, n+1, n+1)
        mean_similarity = (block.sum(axis=2) - 1) / top_n  # leave out each word's self-similarity
        per_topic[k] = np.mean(mean_similarity.argmin(axis=1) == top_n)
    if np.all(np.isnan(per_topic)):
        raise MetricError("no topic could be given an intruder: all topics share the same words")
    return IntrusionScores(per_topic, float(np.nanmean(per_topic)), top_n, n_intruders)


def _unit_vectors(words: list[str], vectors) -> np.ndarray:
    if isinstance(vectors, Mapping):
        missing = [w for w in words if w not in vectors]
        if missing:
            raise MetricError(f"no vectors for {len(missing)} topic words, e.g. {missing[:5]}")
        matrix = np.stack([np.asarray(vectors[w], dtype=np.float64) for w in words])
    else:
        matrix = np.asarray(vectors(words), dtype=np.float64)
    if matrix.shape[0] != len(words) or matrix.ndim != 2 or not np.all(np.isfinite(matrix)):
        raise MetricError(f"word vectors must be a finite array of shape ({len(words)}, dim), got {matrix.shape}")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise MetricError("a topic word has a zero vector; cosine similarity is undefined")
    return matrix / norms
