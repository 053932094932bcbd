"""Alignment of topic distributions across languages and modalities.

- Match and KL, each beside a random baseline (Mueller & Dredze 2021, §4): aligned
  documents should get the same most probable topic and close distributions.
- JSD between aligned distributions, MRR of retrieving the aligned document by JSD,
  and UAP for one-to-many retrieval such as an article and its images (Zosa &
  Pivovarova 2022, §4.2).

Every function takes document-topic distributions as arrays of shape (n, K) whose row i
in one array is aligned with row i in the other (or, for UAP, a map from target rows to
source rows); rows must be distributions (see :func:`polytopic.metrics.checks.distributions`).
Divergences are in nats (natural logarithm).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import rel_entr

from polytopic.errors import MetricError
from polytopic.metrics.checks import distributions, same_length

#: Elements of one (sources x targets x K) block of the JSD matrix, bounding memory.
_BLOCK_ELEMENTS = 1 << 22


def match(source, target) -> float:
    """Share of aligned documents whose most probable topic is the same in both
    (Mueller & Dredze §4, "Match"). Ties go to the lowest topic index."""
    source, target = _aligned(source, target)
    return float(np.mean(source.argmax(axis=1) == target.argmax(axis=1)))


def kl_divergence(source, target) -> np.ndarray:
    """KL(source_i || target_i) for each aligned pair, shape (n,). Infinite where the
    target gives zero probability to a topic the source uses."""
    source, target = _aligned(source, target)
    return rel_entr(source, target).sum(axis=1)


def js_divergence(source, target) -> np.ndarray:
    """Jensen-Shannon divergence of each aligned pair, shape (n,), in [0, ln 2]:
    ``JSD(p, q) = KL(p || m) / 2 + KL(q || m) / 2`` with ``m = (p + q) / 2``."""
    source, target = _aligned(source, target)
    middle = (source + target) / 2
    return (rel_entr(source, middle).sum(axis=1) + rel_entr(target, middle).sum(axis=1)) / 2


@dataclass(frozen=True)
class AlignmentScores:
    """Match and mean KL of aligned pairs, beside the same after shuffling the alignment."""

    match: float
    match_random: float
    kl: float
    kl_random: float
    jsd: float

    def as_dict(self) -> dict:
        return asdict(self)


def alignment(source, target, seed: int = 0) -> AlignmentScores:
    """Match, mean KL and mean JSD of aligned distributions, with the random baseline of
    Mueller & Dredze (§4): the source rows are shuffled (``seed``) and both metrics are
    computed against the now unaligned targets.

    Parameters
    ----------
    source, target : array-like, shape (n, K)
        Document-topic distributions; row i of each is the same document.
    seed : int
        Seed of the shuffle.
    """
    source, target = _aligned(source, target)
    shuffled = source[np.random.default_rng(seed).permutation(len(source))]
    return AlignmentScores(
        match=match(source, target),
        match_random=match(shuffled, target),
        kl=float(kl_divergence(source, target).mean()),
        kl_random=float(kl_divergence(shuffled, target).mean()),
        jsd=float(js_divergence(source, target).mean()),
    )


def js_divergence_matrix(source, target) -> np.ndarray:
    """JSD of every source row with every target row, shape (n_source, n_target),
    computed in blocks so that memory stays near ``_BLOCK_ELEMENTS`` floats."""
    source = distributions(source, "source distributions")
    target = distributions(target, "target distributions")
    if source.shape[1] != target.shape[1]:
        raise MetricError(f"source and target have different numbers of topics: {source.shape[1]} != {target.shape[1]}")
    plogp_source, plogp_target = _plogp(source), _plogp(target)
    block = max(1, _BLOCK_ELEMENTS // (target.shape[0] * target.shape[1]))
    result = np.empty((source.shape[0], target.shape[0]))
    for begin in range(0, source.shape[0], block):
        middle = (source[begin: begin + block, None, :] + target[None, :, :]) / 2
        # JSD = H(m) - (H(p) + H(q)) / 2, with the entropy H(x) = -sum x ln x
        result[begin: begin + block] = (
            (plogp_source[begin: begin + block, None] + plogp_target[None, :]) / 2 - _plogp(middle)
        )
    return np.maximum(result, 0)  # rounding can leave -1e-17 for identical rows


def _plogp(p: np.ndarray) -> np.ndarray:
    """sum x ln x over the last axis, with 0 ln 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(p), 0.0).sum(axis=-1)


def average_precision(source, target, target_source) -> np.ndarray:
    """Average precision of retrieving, for each source row, its aligned target rows
    ranked by JSD (lowest first), shape (n_source,).

    Targets tied at the same divergence are retrieved together: the precision at a
    relevant target counts every target with a divergence not above its own. This is
    scikit-learn's ``average_precision_score`` with scores = -JSD, so a model giving
    every document the same distribution scores the share of relevant targets, not 1.

    Parameters
    ----------
    source : array-like, shape (n_source, K)
    target : array-like, shape (n_target, K)
    target_source : array-like of int, shape (n_target,)
        The source row each target belongs to. Every source needs at least one target.
    """
    target_source = np.asarray(target_source)
    same_length("targets", target, "target_source", target_source)
    divergence = js_divergence_matrix(source, target)
    n_source = divergence.shape[0]
    if target_source.dtype.kind not in "iu" or target_source.min() < 0 or target_source.max() >= n_source:
        raise MetricError(f"target_source must hold source row numbers 0..{n_source - 1}")
    relevant = target_source[None, :] == np.arange(n_source)[:, None]  # (n_source, n_target)
    n_relevant = relevant.sum(axis=1)
    if np.any(n_relevant == 0):
        raise MetricError(f"sources {np.flatnonzero(n_relevant == 0)[:5].tolist()} have no aligned target")
    precisions = np.zeros(n_source)
    for row in range(n_source):  # one sort per query; the loop is over queries, not pairs
        scores = divergence[row]
        ordered = np.sort(scores)
        retrieved = np.searchsorted(ordered, scores[relevant[row]], side="right")
        hits = np.searchsorted(np.sort(scores[relevant[row]]), scores[relevant[row]], side="right")
        precisions[row] = np.mean(hits / retrieved)
    return precisions


def uap(source, target, target_source) -> float:
    """Uninterpolated average precision (Manning & Schütze 1999, §8.1; Zosa &
    Pivovarova §4.2): the mean :func:`average_precision` over sources, for one-to-many
    alignment such as articles (source) and their images (target)."""
    return float(average_precision(source, target, target_source).mean())


def mrr(source, target) -> float:
    """Mean reciprocal rank of retrieving target i for source i by JSD (Zosa &
    Pivovarova §4.2). With one relevant target, average precision is 1 / rank, ties
    counted as in :func:`average_precision`."""
    same_length("source", source, "target", target)
    return uap(source, target, np.arange(len(target)))


def _aligned(source, target) -> tuple[np.ndarray, np.ndarray]:
    source = distributions(source, "source distributions")
    target = distributions(target, "target distributions")
    if source.shape != target.shape:
        raise MetricError(
            f"source and target distributions must be aligned row by row with the same topics: "
            f"shapes {source.shape} and {target.shape}"
        )
    return source, target
