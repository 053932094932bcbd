"""Alignment of topic distributions across languages and modalities.

- Match and KL, each beside a random baseline (Mueller & Dredze 2021, §4): aligned
  documents should get the same most probable topic and close distributions.
- JSD between aligned distributions, MRR of retrieving the aligned document by JSD,
  and UAP for one-to-many or many-to-many retrieval, such as an article and its images,
  or items sharing a category (Zosa & Pivovarova 2022, §4.2).

Every function takes document-topic distributions as arrays of shape (n, K) whose row i
in one array is aligned with row i in the other (or, for UAP, with a relevance matrix or
a map from target rows to source rows); rows must be distributions (see :func:`polytopic.metrics.checks.distributions`).
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
    source, target = _same_topics(source, target)
    result = np.empty((source.shape[0], target.shape[0]))
    for rows, block in _divergence_blocks(source, target):
        result[rows] = block
    return result


def _divergence_blocks(source: np.ndarray, target: np.ndarray):
    """``(rows, JSD of source[rows] with every target)`` for consecutive slices of source
    rows, each block's (rows x targets x K) intermediate near ``_BLOCK_ELEMENTS`` floats."""
    plogp_source, plogp_target = _plogp(source), _plogp(target)
    block = max(1, _BLOCK_ELEMENTS // (target.shape[0] * target.shape[1]))
    for begin in range(0, source.shape[0], block):
        rows = slice(begin, begin + block)
        middle = (source[rows, None, :] + target[None, :, :]) / 2
        # JSD = H(m) - (H(p) + H(q)) / 2, with the entropy H(x) = -sum x ln x
        divergence = (plogp_source[rows, None] + plogp_target[None, :]) / 2 - _plogp(middle)
        yield rows, np.maximum(divergence, 0)  # rounding can leave -1e-17 for identical rows


def _plogp(p: np.ndarray) -> np.ndarray:
    """Sum x ln x over the last axis, with 0 ln 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(p), 0.0).sum(axis=-1)


def average_precision(source, target, relevant) -> np.ndarray:
    """Average precision of retrieving, for each source row, its relevant target rows
    ranked by JSD (lowest first), shape (n_source,).

    Targets tied at the same divergence are retrieved together: the precision at a
    relevant target counts every target with a divergence not above its own. This is
    scikit-learn's ``average_precision_score`` with scores = -JSD, so a model giving
    every document the same distribution scores the share of relevant targets, not 1.
    Computed a block of sources at a time: memory stays near that of
    :func:`js_divergence_matrix`'s blocks, plus ``relevant`` itself.

    Parameters
    ----------
    source : array-like, shape (n_source, K)
    target : array-like, shape (n_target, K)
    relevant : array-like
        Which targets each source should retrieve, either

        - bool, shape (n_source, n_target): ``relevant[i, j]`` says target j is relevant
          to source i (many-to-many, such as items sharing a category); or
        - int, shape (n_target,): the source row each target belongs to (one-to-many,
          such as articles and their images; :func:`mrr` is the one-to-one case).

        Every source needs at least one relevant target.

    Raises
    ------
    MetricError
        If the shapes disagree, ``relevant`` is neither form, or a source has no
        relevant target (its average precision is undefined).
    """
    source, target = _same_topics(source, target)
    relevance = _relevance(relevant, source.shape[0], target.shape[0])
    precisions = np.empty(source.shape[0])
    for rows, divergence in _divergence_blocks(source, target):
        precisions[rows] = _ranked_precision(divergence, relevance(rows))
    return precisions


def _relevance(relevant, n_source: int, n_target: int):
    """``relevant`` (either form of :func:`average_precision`) checked, as a function
    from a slice of source rows to their boolean rows (rows x n_target)."""
    relevant = np.asarray(relevant)
    if relevant.ndim == 2:
        if relevant.dtype != bool:
            raise MetricError(f"a relevance matrix must be boolean, got {relevant.dtype}")
        if relevant.shape != (n_source, n_target):
            raise MetricError(f"the relevance matrix has shape {relevant.shape}, not (n_source, n_target) = "
                              f"{(n_source, n_target)}")
        n_relevant = relevant.sum(axis=1)

        def rows_of(rows: slice) -> np.ndarray:
            return relevant[rows]
    elif relevant.ndim == 1:
        if len(relevant) != n_target:
            raise MetricError(f"targets and target_source must be aligned row by row: {n_target} != "
                              f"{len(relevant)} rows")
        if relevant.dtype.kind not in "iu" or relevant.min() < 0 or relevant.max() >= n_source:
            raise MetricError(f"target_source must hold source row numbers 0..{n_source - 1}")
        n_relevant = np.bincount(relevant, minlength=n_source)

        def rows_of(rows: slice) -> np.ndarray:
            return relevant[None, :] == np.arange(n_source)[rows, None]
    else:
        raise MetricError("relevant must be a boolean (n_source, n_target) matrix, or the source row of each "
                          f"target (n_target,); got {relevant.ndim} dimensions")
    if np.any(n_relevant == 0):
        raise MetricError(f"sources {np.flatnonzero(n_relevant == 0)[:5].tolist()} have no relevant target "
                          "(no aligned target): their average precision is undefined")
    return rows_of


def _ranked_precision(divergence: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Average precision of each row of ``divergence`` (rows x targets, lower ranks
    first) with the relevant targets of ``relevant`` (same shape, bool, >= 1 per row);
    tied targets are retrieved together."""
    order = np.argsort(divergence, axis=1, kind="stable")
    ranked = np.take_along_axis(divergence, order, axis=1)
    hits = np.cumsum(np.take_along_axis(relevant, order, axis=1), axis=1)
    n_target = divergence.shape[1]
    # each position's tie group ends at the first later position whose next value differs
    last = np.ones(ranked.shape, dtype=bool)
    last[:, :-1] = ranked[:, 1:] != ranked[:, :-1]
    end = np.where(last, np.arange(n_target), n_target)
    end = np.minimum.accumulate(end[:, ::-1], axis=1)[:, ::-1]
    # at a relevant target of a tie group: hits and retrieved counted to the group's end
    precision = np.take_along_axis(hits, end, axis=1) / (end + 1)
    is_relevant = np.take_along_axis(relevant, order, axis=1)
    return np.where(is_relevant, precision, 0.0).sum(axis=1) / hits[:, -1]


def uap(source, target, relevant) -> float:
    """Uninterpolated average precision (Manning & Schütze 1999, §8.1; Zosa &
    Pivovarova §4.2): the mean :func:`average_precision` over sources. ``relevant`` is
    a boolean (n_source, n_target) relevance matrix, such as items sharing a category
    (:func:`shared_category_relevance`), or for one-to-many alignment, such as articles
    (source) and their images (target), the source row of each target."""
    return float(average_precision(source, target, relevant).mean())


def shared_category_relevance(categories) -> np.ndarray:
    """Relevance of aligned items to one another by their categories, shape (n, n), bool:
    items i and j are relevant when they share a category, and every item is relevant to
    itself (its own view in the other modality), so each has at least one relevant target
    even without categories. The M3L paper counts articles sharing a title as relevant
    (Zosa & Pivovarova 2022, §4.2).

    Parameters
    ----------
    categories : sequence of collections of hashable
        Each item's categories (an empty collection: none).
    """
    index: dict = {}
    members = [[index.setdefault(c, len(index)) for c in item] for item in categories]
    n = len(members)
    incidence = np.zeros((n, max(1, len(index))), dtype=np.float32)
    for row, columns in enumerate(members):
        incidence[row, columns] = 1
    shared = (incidence @ incidence.T) > 0
    shared[np.diag_indices(n)] = True
    return shared


def mrr(source, target) -> float:
    """Mean reciprocal rank of retrieving target i for source i by JSD (Zosa &
    Pivovarova §4.2). With one relevant target, average precision is 1 / rank, ties
    counted as in :func:`average_precision`."""
    same_length("source", source, "target", target)
    return uap(source, target, np.arange(len(target)))


def _same_topics(source, target) -> tuple[np.ndarray, np.ndarray]:
    source = distributions(source, "source distributions")
    target = distributions(target, "target distributions")
    if source.shape[1] != target.shape[1]:
        raise MetricError(f"source and target have different numbers of topics: {source.shape[1]} != {target.shape[1]}")
    return source, target


def _aligned(source, target) -> tuple[np.ndarray, np.ndarray]:
    source = distributions(source, "source distributions")
    target = distributions(target, "target distributions")
    if source.shape != target.shape:
        raise MetricError(
            f"source and target distributions must be aligned row by row with the same topics: "
            f"shapes {source.shape} and {target.shape}"
        )
    return source, target
