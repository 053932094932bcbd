"""Topic coherence against a reference corpus: NPMI, C_V, UMass and UCI.

The pipeline of Röder, Both & Hinneburg (WSDM 2015), in gensim's definitions (the
reference implementation every test compares against, to 1e-6):

segmentation -> probability estimation -> confirmation measure -> aggregation

Each measure is a :class:`Measure` recipe naming its stages and window; one function,
:func:`coherence`, runs any recipe. Probabilities come from
:class:`~polytopic.metrics.cooccurrence.CooccurrenceCounts`, computed once per reference
corpus and window size and shared by every measure, topic set and model.

Topic words missing from the reference texts are **skipped with a warning** (gensim
drops them silently); ``on_missing="raise"`` makes them an error instead. A topic left
with fewer than two words has no defined coherence: its score is NaN (with a warning),
and the mean is taken over the other topics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from polytopic.errors import MetricError
from polytopic.metrics.checks import word_lists
from polytopic.metrics.cooccurrence import CooccurrenceCounts, reference_texts

logger = logging.getLogger(__name__)

EPSILON = 1e-12  # gensim.topic_coherence.direct_confirmation_measure.EPSILON


# -- segmentation: which (W', W*) word pairs of a topic are compared -------------------
def one_one(n: int) -> tuple[np.ndarray, np.ndarray]:
    """S_one^one: every ordered pair (i, j), i != j, of a topic's n words (Röder §3.1)."""
    prime, star = np.nonzero(~np.eye(n, dtype=bool))
    return prime, star


def one_preceding(n: int) -> tuple[np.ndarray, np.ndarray]:
    """S_one^pre: pairs (i, j) with j < i, each word against the higher-ranked ones (UMass)."""
    prime, star = np.tril_indices(n, k=-1)
    return prime, star


def one_set(n: int) -> tuple[np.ndarray, None]:
    """S_one^set: each word against the set of all the topic's words (C_V)."""
    return np.arange(n), None


# -- confirmation measures on a topic's (n x n) counts ---------------------------------
def log_ratio(joint: np.ndarray, marginal: np.ndarray, n_windows: int) -> np.ndarray:
    """PMI with gensim's smoothing: ``log((c_ij/N + eps) / (c_i/N * c_j/N))``, shape (n, n)."""
    p_joint = joint / n_windows
    p = marginal / n_windows
    return np.log((p_joint + EPSILON) / np.outer(p, p))


def normalized_log_ratio(joint: np.ndarray, marginal: np.ndarray, n_windows: int) -> np.ndarray:
    """NPMI (Bouma 2009) as in gensim: ``PMI / -log(c_ij/N + eps)``, shape (n, n)."""
    return log_ratio(joint, marginal, n_windows) / -np.log(joint / n_windows + EPSILON)


def log_conditional(joint: np.ndarray, marginal: np.ndarray, n_windows: int) -> np.ndarray:
    """UMass (Mimno et al. 2011) as in gensim: ``log((c_ij/N + eps) / (c_j/N))``: entry
    (i, j) conditions on word j, shape (n, n)."""
    return np.log((joint / n_windows + EPSILON) / (marginal[None, :] / n_windows))


def direct(similarity: Callable) -> Callable:
    """A direct confirmation: the similarity of each segmented pair (i, j)."""

    def confirm(joint, marginal, n_windows, prime, star):
        return similarity(joint, marginal, n_windows)[prime, star]

    return confirm


def indirect_cosine(similarity: Callable) -> Callable:
    """Indirect confirmation (Röder §3.3, gensim ``cosine_similarity`` with gamma=1):
    the context vector of word i is row i of the topic's ``similarity`` matrix, that of
    the set of all words is the sum of the rows; each word scores the cosine of the two."""

    def confirm(joint, marginal, n_windows, prime, star):
        vectors = similarity(joint, marginal, n_windows)
        whole = vectors.sum(axis=0)
        norms = np.linalg.norm(vectors[prime], axis=1) * np.linalg.norm(whole)
        with np.errstate(invalid="ignore", divide="ignore"):
            return vectors[prime] @ whole / norms

    return confirm


# -- recipes -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """A coherence measure as the parameters of the shared pipeline.

    Attributes
    ----------
    name : str
        gensim's name of the measure.
    segmentation : callable
        ``n -> (prime, star)`` index arrays of the compared pairs.
    confirmation : callable
        ``(joint, marginal, n_windows, prime, star) -> scores`` per segment.
    window_size : int or None
        Default boolean sliding window (gensim's ``SLIDING_WINDOW_SIZES``); None counts
        whole documents.
    reference : str
        Where the measure is defined.
    """

    name: str
    segmentation: Callable
    confirmation: Callable
    window_size: int | None
    reference: str = field(default="", compare=False)


MEASURES = {
    m.name: m
    for m in (
        Measure("c_npmi", one_one, direct(normalized_log_ratio), 10,
                "Bouma 2009; Aletras & Stevenson 2013; Röder et al. 2015"),
        Measure("c_v", one_set, indirect_cosine(normalized_log_ratio), 110, "Röder et al. 2015, C_V"),
        Measure("u_mass", one_preceding, direct(log_conditional), None, "Mimno et al. 2011"),
        Measure("c_uci", one_one, direct(log_ratio), 10, "Newman et al. 2010"),
    )
}


@dataclass(frozen=True)
class CoherenceScores:
    """Per-topic coherence, its mean, and the exact settings that produced them."""

    measure: str
    per_topic: np.ndarray
    mean: float
    top_n: int
    window_size: int | None
    n_windows: int
    skipped: dict[int, list[str]]
    epsilon: float = EPSILON

    def settings(self) -> dict:
        """The settings as JSON-able values (for metrics.json)."""
        return {
            "measure": self.measure,
            "top_n": self.top_n,
            "window_size": self.window_size,
            "virtual_documents": "documents" if self.window_size is None else "boolean sliding windows",
            "n_virtual_documents": self.n_windows,
            "epsilon": self.epsilon,
            "missing_words": "skipped",
            "skipped_words": {str(k): v for k, v in self.skipped.items()},
        }


def coherence(
    topics: Sequence[Sequence[str]],
    texts,
    measure: str = "c_npmi",
    top_n: int = 10,
    *,
    window_size: int | None = None,
    language: str | None = None,
    on_missing: str = "warn",
) -> CoherenceScores:
    """Coherence of topic word lists against a reference corpus, equal to gensim's
    ``CoherenceModel(topics=..., texts=..., coherence=measure, topn=top_n)``.

    Parameters
    ----------
    topics : sequence of sequence of str
        Topic words, most probable first; each topic is cut to its first ``top_n``.
    texts : Corpus, ReferenceTexts, or sequence of sequence of str
        Reference corpus: tokenised documents, a :class:`ReferenceTexts` (reuses its
        counts across calls), or a Corpus (tokenised in ``language`` and cached).
    measure : {"c_npmi", "c_v", "u_mass", "c_uci"}
    top_n : int
        Words per topic (default 10).
    window_size : int, optional
        Sliding window; default the measure's (10; 110 for c_v; documents for u_mass).
    language : str, optional
        Language of a Corpus's texts (default its primary language).
    on_missing : {"warn", "raise"}
        Topic words absent from the reference: skip them with a warning, or raise.

    Returns
    -------
    CoherenceScores
        ``per_topic`` shape (n_topics,), NaN for a topic with fewer than 2 scorable
        words; ``mean`` over the defined topics.

    Raises
    ------
    MetricError
        Unknown measure, no topics, an empty topic, a word repeated within a topic,
        ``on_missing="raise"`` with missing words, or no topic scorable at all.
    """
    if measure not in MEASURES:
        raise MetricError(f"unknown coherence measure {measure!r}; choose one of {sorted(MEASURES)}")
    if on_missing not in ("warn", "raise"):
        raise MetricError(f"on_missing must be 'warn' or 'raise', got {on_missing!r}")
    recipe = MEASURES[measure]
    window_size = recipe.window_size if window_size is None else window_size
    topics = _check_topics(topics, top_n)
    reference = reference_texts(texts, language)
    absent = set(reference.missing(w for words in topics for w in words))
    skipped = {k: [w for w in words if w in absent] for k, words in enumerate(topics)}
    skipped = {k: words for k, words in skipped.items() if words}
    if skipped:
        message = f"{sum(map(len, skipped.values()))} topic words are not in the reference texts: " + "; ".join(
            f"topic {k}: {', '.join(words)}" for k, words in list(skipped.items())[:5]
        )
        if on_missing == "raise":
            raise MetricError(message)
        logger.warning("%s (skipped)", message)
    kept = [[w for w in words if w not in skipped.get(k, ())] for k, words in enumerate(topics)]
    counts = reference.counts(dict.fromkeys(w for words in kept for w in words), window_size)
    per_topic = np.array([
        _score(joint, marginal, counts.n_windows, recipe) for joint, marginal in _topic_counts(kept, counts)
    ])
    undefined = np.flatnonzero(np.isnan(per_topic))
    if undefined.size == per_topic.size:
        raise MetricError(f"no topic has a defined {measure} coherence (each needs 2 words present in the reference)")
    if undefined.size:
        logger.warning("%s undefined for topics %s (fewer than 2 scorable words); mean over the others",
                       measure, undefined.tolist()[:10])
    return CoherenceScores(measure, per_topic, float(np.nanmean(per_topic)), top_n, window_size,
                           counts.n_windows, skipped)


def _topic_counts(topics: list[list[str]], counts: CooccurrenceCounts):
    """Each topic's (n x n) joint counts and (n,) marginal counts, gathered from the
    sparse counts in one indexing operation."""
    index = [counts.index(words) for words in topics]
    rows = np.concatenate([np.repeat(i, i.size) for i in index])
    cols = np.concatenate([np.tile(i, i.size) for i in index])
    joint = np.asarray(counts.cooccurrences[rows, cols]).ravel()
    blocks = np.split(joint, np.cumsum([i.size ** 2 for i in index])[:-1])
    return [(block.reshape(i.size, i.size), counts.occurrences[i]) for block, i in zip(blocks, index)]


def _score(joint: np.ndarray, marginal: np.ndarray, n_windows: int, recipe: Measure) -> float:
    """Aggregated (arithmetic mean) confirmation of one topic's segments; NaN for
    fewer than two words."""
    if marginal.size < 2:
        return float("nan")
    prime, star = recipe.segmentation(marginal.size)
    return float(np.mean(recipe.confirmation(joint, marginal, n_windows, prime, star)))


def _check_topics(topics, top_n: int) -> list[list[str]]:
    if not isinstance(top_n, (int, np.integer)) or isinstance(top_n, bool) or top_n < 2:
        raise MetricError(f"top_n must be an integer >= 2, got {top_n!r}")
    checked = [words[:top_n] for words in word_lists(topics)]
    for k, words in enumerate(checked):
        if len(set(words)) < len(words):
            raise MetricError(f"topic {k} lists a word more than once: {words}")
    short = [k for k, words in enumerate(checked) if len(words) < top_n]
    if short:
        logger.warning("topics %s have fewer than top_n=%d words; scored on those", short[:10], top_n)
    return checked
