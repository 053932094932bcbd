"""BERTopic-style topics (Grootendorst 2022): document embeddings → dimension reduction
→ clustering → topic words weighted per cluster, on scikit-learn (and umap-learn when
installed), not on BERTopic itself.

Stages and defaults (the measurements behind them: ``benchmarks/results/clustering-defaults.md``):

- reduction: ``"none"`` (default: K-means on the unit-length embeddings themselves),
  ``"umap"`` (BERTopic's default, 5 components, 15 neighbours, min_dist 0; needs
  ``pip install umap-learn``, whose import alone compiles for ~30 s) or ``"pca"``.
  Five principal components keep too little of the embedding to separate the themes, and
  UMAP clusters no better than the full vectors, for a compiled dependency.
- clustering: ``"kmeans"`` (default; exactly ``n_topics`` clusters) or ``"hdbscan"``
  (scikit-learn's; its clusters are merged by agglomerating their centroids down to
  ``n_topics``, and outliers join their nearest cluster, so the contract's K holds).
- topic words: ``word_weights="association"`` (default), the positive NPMI (Bouma 2009)
  between "the document contains w" and "the document is in cluster c", times the
  number of cluster-c documents that contain w — how specifically, and how often, w
  marks the cluster; or ``"ctfidf"``, BERTopic's W_{w,c} = tf_{w,c} · log(1 + A / f_w)
  with A the average number of words per cluster and f_w the word's frequency over all
  clusters (Grootendorst 2022, Eq. 1). Rows are normalised to sum to 1. The association
  is the default because c-TF-IDF's weak idf lets words frequent everywhere ("library",
  "package") head many topics.
- a topic's word list is a shared head and an exclusive tail, as STM's ``labelTopics``
  shows each topic's most probable words beside its FREX words (Roberts et al. 2019).
  The first ``shared_words`` (default 8) are the topic's most heavily weighted, shared
  with other topics where topics overlap; the next ``exclusive_words`` (default 17) are
  words that no other topic has in its list, chosen among the words outside every
  head: the assignment of words to topic slots that maximises the summed log weight of
  each word relative to its topic's best word (an optimal transport with equal
  capacities, solved exactly by the Hungarian method; the equal-capacity transport of
  words to topics is the device of ECRTM, Wu et al. 2023). The head reads as what the
  topic is about, the tail as what sets it apart; the tail trades coherence of the top
  25 words for diversity (issue #14). ``exclusive_words=0`` gives plain weight order;
  ``shared_words=0`` makes every listed word exclusive. Where too few words are left
  outside the heads, the tail shrinks to what they allow.

``transform`` maps a new document's embedding to p(topic | document) ∝
exp(s · cos(x, c_k)), with c_k the mean embedding of cluster k and one scale s fitted
on the training assignments by maximum likelihood, so that argmax recovers the cluster
and the probabilities are calibrated; it needs no reducer, hence no pickled UMAP.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

from polytopic.encoders import Encoder
from polytopic.errors import ParameterError, require
from polytopic.models.base import CORPUS_PARAMETERS, RUN_PARAMETERS, TopicModel
from polytopic.models.views import View
from polytopic.params import Anything, Interval, OneOf
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE

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
    tf = _class_sums(counts, labels, n_classes)
    average_words = tf.sum() / n_classes
    frequency = tf.sum(0)
    return _normalised_rows(tf * np.log1p(average_words / np.maximum(frequency, 1e-12)))


def word_cluster_association(counts: sp.csr_matrix, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Positive NPMI (Bouma 2009) between a word's presence in a document and the
    document's cluster, times the number of the cluster's documents that contain the
    word, rows normalised to sum to 1. Takes and returns what :func:`class_tfidf` does.
    """
    n_docs = labels.size
    present = (counts > 0).astype(np.float64)
    joint = _class_sums(present, labels, n_classes)  # documents of cluster c containing w
    p_word = np.asarray(present.sum(0)).ravel() / n_docs
    p_cluster = np.bincount(labels, minlength=n_classes)[:, None] / n_docs
    p_joint = np.maximum(joint / n_docs, 1e-300)
    npmi = np.log(p_joint / np.maximum(p_cluster * p_word, 1e-300)) / -np.log(p_joint)
    return _normalised_rows(np.where(joint > 0, np.maximum(npmi, 0.0), 0.0) * joint)


def _class_sums(counts: sp.csr_matrix, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows of ``counts`` summed per class, dense, shape (n_classes, V)."""
    member = sp.csr_matrix((np.ones(labels.size), (labels, np.arange(labels.size))), shape=(n_classes, labels.size))
    return np.asarray((member @ counts).todense(), dtype=np.float64)


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


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class ClusteringTopics(TopicModel):
    """BERTopic-style: embed, reduce, cluster (K-means or HDBSCAN), weigh each cluster's words.

    Parameters
    ----------
    n_topics : int
    encoder : str or Encoder, optional
        Sentence encoder (default: the packaged all-MiniLM-L6-v2).
    reduction : {"pca", "umap", "none"}
    n_components : int
        Reduced dimension (BERTopic: 5).
    clustering : {"kmeans", "hdbscan"}
    min_cluster_size : int
        HDBSCAN's smallest cluster (BERTopic: 10).
    word_weights : {"ctfidf", "association"}
        How a topic weighs its words (see the module docstring).
    shared_words : int
        Each topic's first words: its most heavily weighted, shared with other topics
        where they overlap (default 8; no effect when ``exclusive_words=0``).
    exclusive_words : int
        Words per topic after the shared ones that no other topic has among its first
        ``shared_words + exclusive_words`` (default 17; 0: off).
    language, vocabulary_size, min_df, seed, progress
        As for every model.
    """

    name = "clustering"
    reads_vectors = True
    transform_reads_bow = False  # centroids in embedding space: any language the encoder knows
    _parameter_constraints: ClassVar[dict] = {
        **CORPUS_PARAMETERS,
        "encoder": Anything(),
        "reduction": OneOf(("pca", "umap", "none")),
        "n_components": Interval(int, 1),
        "clustering": OneOf(("kmeans", "hdbscan")),
        "min_cluster_size": Interval(int, 2),
        "word_weights": OneOf(("ctfidf", "association")),
        "shared_words": Interval(int, 0),
        "exclusive_words": Interval(int, 0),
        **RUN_PARAMETERS,
    }

    def __init__(self, n_topics: int = 10, *, encoder: str | Encoder | None = None, language: str | None = None,
                 vocabulary_size: int = DEFAULT_VOCABULARY_SIZE, min_df: int = 2, reduction: str = "none",
                 n_components: int = 5, clustering: str = "kmeans", min_cluster_size: int = 10,
                 word_weights: str = "association", shared_words: int = 8, exclusive_words: int = 17,
                 seed: int | None = 0, progress: bool = True):
        self.n_topics = n_topics
        self.encoder = encoder
        self.language = language
        self.vocabulary_size = vocabulary_size
        self.min_df = min_df
        self.reduction = reduction
        self.n_components = n_components
        self.clustering = clustering
        self.min_cluster_size = min_cluster_size
        self.word_weights = word_weights
        self.shared_words = shared_words
        self.exclusive_words = exclusive_words
        self.seed = seed
        self.progress = progress

    # -- stages ---------------------------------------------------------------------------
    def _reduce(self, vectors: np.ndarray) -> np.ndarray:
        n_components = min(self.n_components, vectors.shape[1], vectors.shape[0] - 1)
        if self.reduction == "none":
            return vectors
        if self.reduction == "pca":
            from sklearn.decomposition import PCA

            return PCA(n_components, random_state=self.seed_).fit_transform(vectors)
        umap = require("umap", "umap", "reduction='umap'")
        reducer = umap.UMAP(n_neighbors=min(15, len(vectors) - 1), n_components=n_components, min_dist=0.0,
                            metric="cosine", random_state=self.seed_)
        return reducer.fit_transform(vectors)

    def _cluster(self, reduced: np.ndarray) -> np.ndarray:
        from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans

        if self.clustering == "kmeans":
            return KMeans(self.n_topics_, n_init=10, random_state=self.seed_).fit_predict(reduced)
        labels = HDBSCAN(min_cluster_size=self.min_cluster_size, copy=True).fit_predict(reduced)
        found = np.unique(labels[labels >= 0])
        if found.size < self.n_topics_:
            raise ParameterError(
                f"HDBSCAN found {found.size} clusters, fewer than n_topics={self.n_topics_}; lower "
                "n_topics or min_cluster_size, or use clustering='kmeans'"
            )
        centroids = np.stack([reduced[labels == c].mean(0) for c in found])
        merged = AgglomerativeClustering(self.n_topics_).fit_predict(centroids)
        logger.info("HDBSCAN: %d clusters merged into %d topics; %d outliers assigned to the nearest",
                    found.size, self.n_topics_, int((labels < 0).sum()))
        topic_centroids = np.stack([centroids[merged == k].mean(0) for k in range(self.n_topics_)])
        nearest = np.argmin(((reduced[:, None, :] - topic_centroids[None]) ** 2).sum(-1), axis=1)
        return np.where(labels >= 0, merged[np.searchsorted(found, np.maximum(labels, 0))], nearest)

    def _word_weights(self, counts: sp.csr_matrix, labels: np.ndarray) -> np.ndarray:
        weigh = class_tfidf if self.word_weights == "ctfidf" else word_cluster_association
        weights = weigh(counts, labels, self.n_topics_)
        return head_and_tail(weights, self.shared_words, self.exclusive_words) if self.exclusive_words else weights

    # -- contract ---------------------------------------------------------------------------
    def _fit(self, views: dict[str, View], rng, device) -> None:
        """Cluster the documents' embeddings and weigh each cluster's vocabulary words
        (``word_weights``, ranked as a shared head and an exclusive tail)."""
        data = self._primary(views)
        vectors = _unit(data.vectors.astype(np.float64))
        labels = self._cluster(self._reduce(vectors))
        sizes = np.bincount(labels, minlength=self.n_topics_)
        self.centroids_ = _unit(np.stack([vectors[labels == k].mean(0) if sizes[k] else np.zeros(vectors.shape[1])
                                          for k in range(self.n_topics_)]))
        self.topic_word_ = self._word_weights(data.counts, labels)
        similarity = vectors @ self.centroids_.T
        result = minimize_scalar(lambda s: -log_softmax(s * similarity, axis=1)[np.arange(len(labels)), labels].mean(),
                                 bounds=(1e-3, 1e3), method="bounded")
        self.scale_ = float(result.x)
        self.labels_ = labels

    def _transform(self, view: View) -> np.ndarray:
        """p(topic | document) ∝ exp(s · cos(x, c_k)), shape (n_texts, n_topics)."""
        vectors = _unit(view.vectors.astype(np.float64))
        return softmax(self.scale_ * (vectors @ self.centroids_.T), axis=1)

    def _topic_word(self, language: str) -> np.ndarray:
        return self.topic_word_

    def _state(self):
        arrays = {"centroids": self.centroids_, "topic_word": self.topic_word_, "labels": self.labels_}
        return {"scale": self.scale_}, arrays

    def _restore(self, state, arrays):
        self.scale_ = float(state["scale"])
        self.centroids_ = arrays["centroids"]
        self.topic_word_ = arrays["topic_word"]
        self.labels_ = arrays["labels"]
        self.embedding_sizes_ = {self.language_: int(self.centroids_.shape[1])}
