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
from polytopic.models.base import CORPUS_PARAMETERS, RUN_PARAMETERS, PartialFitMixin, TopicModel
from polytopic.models.cluster_words import (
    association_of_class_documents,
    class_sums,
    head_and_tail,
    tfidf_of_class_counts,
)
from polytopic.models.views import View
from polytopic.params import Anything, Interval, OneOf
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE

logger = logging.getLogger(__name__)


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, in ``x``'s float type (float32 vectors stay float32)."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12).astype(x.dtype)


#: K-means with ``kmeans="sampled"`` (``"auto"`` above this many documents) restarts on a
#: random sample of this many documents, then refines the best restart on all of them,
#: a few Lloyd iterations at a time (``benchmarks/results/clustering-kmeans-scale.md``:
#: as coherent as Lloyd on every document, which grows faster than the corpus; minibatch
#: K-means is faster but less coherent).
KMEANS_SAMPLE = 50_000
_RESTARTS = 10
_REFINE_ITERATIONS = 10
#: The softmax scale of ``transform`` is fitted on at most this many training documents.
_SCALE_SAMPLE = 50_000


def fitted_scale(similarity: np.ndarray, labels: np.ndarray) -> float:
    """The s maximising the mean log p(label | document) under p ∝ exp(s · similarity),
    for similarities ``similarity`` (n, K) to the K centroids."""
    rows = np.arange(len(labels))
    result = minimize_scalar(lambda s: -log_softmax(s * similarity, axis=1)[rows, labels].mean(),
                             bounds=(1e-3, 1e3), method="bounded")
    return float(result.x)


class ClusteringTopics(PartialFitMixin, TopicModel):
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
    kmeans : {"auto", "full", "sampled"}
        How K-means runs: its 10 restarts on every document, or on a sample of
        :data:`KMEANS_SAMPLE` documents, the best then refined on every document (so the
        cost grows linearly in the corpus); ``"auto"`` samples above that size.
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

    Attributes
    ----------
    centroids_ : ndarray, shape (n_topics, dim)
        Each cluster's mean vector, at unit length.
    labels_ : ndarray of int, shape (n_docs,)
        The cluster of each training document.
    scale_ : float
        The softmax scale of :meth:`transform`.
    topic_word_ : ndarray, shape (n_topics, V)
    cluster_means_, cluster_sizes_, class_counts_, class_documents_ : ndarray
        What :meth:`partial_fit` continues from: each cluster's mean vector and number of
        documents, its summed word counts and the number of its documents that contain
        each word.
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
        "kmeans": OneOf(("auto", "full", "sampled")),
        "min_cluster_size": Interval(int, 2),
        "word_weights": OneOf(("ctfidf", "association")),
        "shared_words": Interval(int, 0),
        "exclusive_words": Interval(int, 0),
        **RUN_PARAMETERS,
    }

    def __init__(self, n_topics: int = 10, *, encoder: str | Encoder | None = None, language: str | None = None,
                 vocabulary_size: int = DEFAULT_VOCABULARY_SIZE, min_df: int = 2, reduction: str = "none",
                 n_components: int = 5, clustering: str = "kmeans", kmeans: str = "auto", min_cluster_size: int = 10,
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
        self.kmeans = kmeans
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

    def _kmeans(self, vectors: np.ndarray) -> np.ndarray:
        """The cluster of each of ``vectors`` by K-means, as ``kmeans`` says: Lloyd's
        algorithm with :data:`_RESTARTS` restarts on every document (``"full"``), or on a
        sample of :data:`KMEANS_SAMPLE` followed by :data:`_REFINE_ITERATIONS` Lloyd
        iterations on every document from the best restart's centres (``"sampled"``)."""
        from sklearn.cluster import KMeans

        n_docs = len(vectors)
        if self.kmeans == "full" or (self.kmeans == "auto" and n_docs <= KMEANS_SAMPLE):
            return KMeans(self.n_topics_, n_init=_RESTARTS, random_state=self.seed_).fit_predict(vectors)
        rng = np.random.default_rng(self.seed_)
        sample = np.sort(rng.choice(n_docs, size=min(n_docs, KMEANS_SAMPLE), replace=False))
        restarts = KMeans(self.n_topics_, n_init=_RESTARTS, random_state=self.seed_).fit(vectors[sample])
        return KMeans(self.n_topics_, init=restarts.cluster_centers_, n_init=1, max_iter=_REFINE_ITERATIONS,
                      copy_x=False, random_state=self.seed_).fit_predict(vectors)  # centred in place, restored

    def _cluster(self, reduced: np.ndarray) -> np.ndarray:
        from sklearn.cluster import HDBSCAN, AgglomerativeClustering

        if self.clustering == "kmeans":
            return self._kmeans(reduced)
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

    def _word_weights(self) -> np.ndarray:
        if self.word_weights == "ctfidf":
            weights = tfidf_of_class_counts(self.class_counts_)
        else:
            weights = association_of_class_documents(self.class_documents_, self.cluster_sizes_)
        return head_and_tail(weights, self.shared_words, self.exclusive_words) if self.exclusive_words else weights

    # -- learning from clusters -------------------------------------------------------------------
    def _start(self, dimension: int, vocabulary_size: int) -> None:
        """Empty statistics, for a fit or the first :meth:`partial_fit`."""
        self.cluster_means_ = np.zeros((self.n_topics_, dimension))
        self.cluster_sizes_ = np.zeros(self.n_topics_, dtype=np.int64)
        self.class_counts_ = np.zeros((self.n_topics_, vocabulary_size))
        self.class_documents_ = np.zeros((self.n_topics_, vocabulary_size))
        self.labels_ = np.zeros(0, dtype=np.int64)

    def _absorb(self, vectors: np.ndarray, counts: sp.csr_matrix, labels: np.ndarray, rng) -> None:
        """Add documents with their clusters ``labels`` to the statistics (each cluster's
        mean moves to the mean of all its documents so far, Sculley 2010's per-centre rate
        1/n), then derive the topics from them: centroids, topic words and the scale
        fitted on up to :data:`_SCALE_SAMPLE` of these documents."""
        sizes = np.bincount(labels, minlength=self.n_topics_)
        total = self.cluster_sizes_ + sizes
        sums = class_sums(vectors, labels, self.n_topics_).astype(np.float64)
        grown = total > 0
        self.cluster_means_[grown] = ((self.cluster_means_ * self.cluster_sizes_[:, None] + sums)[grown]
                                      / total[grown, None])
        self.cluster_sizes_ = total
        self.class_counts_ += class_sums(counts, labels, self.n_topics_)
        self.class_documents_ += class_sums((counts > 0).astype(np.float64), labels, self.n_topics_)
        self.labels_ = np.concatenate([self.labels_, labels])
        self.centroids_ = _unit(self.cluster_means_)
        self.topic_word_ = self._word_weights()
        sample = rng.choice(len(labels), size=min(len(labels), _SCALE_SAMPLE), replace=False)
        self.scale_ = fitted_scale(vectors[sample] @ self.centroids_.T.astype(vectors.dtype), labels[sample])

    # -- contract ---------------------------------------------------------------------------
    def _fit(self, views: dict[str, View], rng, device) -> None:
        """Cluster the documents' embeddings and weigh each cluster's vocabulary words
        (``word_weights``, ranked as a shared head and an exclusive tail)."""
        data = self._primary(views)
        vectors = _unit(np.asarray(data.vectors, dtype=np.float32))
        self._start(vectors.shape[1], len(data.vocabulary))
        self._absorb(vectors, data.counts, self._cluster(self._reduce(vectors)), rng)

    def _partial_fit(self, views: dict[str, View], rng, device) -> None:
        """The first chunk is clustered as :meth:`fit` clusters a corpus; each later one is
        assigned to the nearest cluster means, which then move to the mean of all their
        documents so far (online K-means, Sculley 2010), and its word counts join the
        clusters'."""
        if self.clustering != "kmeans" or self.reduction != "none":
            raise ParameterError("partial_fit clusters by K-means on the vectors themselves: use clustering='kmeans' "
                                 f"and reduction='none' (not {self.clustering!r}, {self.reduction!r}), which need "
                                 "every document at once")
        data = self._primary(views)
        vectors = _unit(np.asarray(data.vectors, dtype=np.float32))
        if not hasattr(self, "cluster_means_"):
            if hasattr(self, "centroids_"):
                raise ParameterError("this clustering model was saved without the statistics partial_fit continues "
                                     "from (an older file): fit it again to train it further")
            self._start(vectors.shape[1], len(data.vocabulary))
            labels = self._cluster(vectors)
        else:
            labels = np.argmax(vectors @ self.cluster_means_.T.astype(np.float32)
                               - 0.5 * (self.cluster_means_ ** 2).sum(1).astype(np.float32), axis=1)
        self._absorb(vectors, data.counts, labels, rng)

    def _transform(self, view: View) -> np.ndarray:
        """p(topic | document) ∝ exp(s · cos(x, c_k)), shape (n_texts, n_topics)."""
        vectors = _unit(view.vectors.astype(np.float64))
        return softmax(self.scale_ * (vectors @ self.centroids_.T), axis=1)

    def _topic_word(self, language: str) -> np.ndarray:
        return self.topic_word_

    _ARRAYS = ("centroids", "topic_word", "labels", "cluster_means", "cluster_sizes", "class_counts",
               "class_documents")

    def _state(self):
        return {"scale": self.scale_}, {name: getattr(self, f"{name}_") for name in self._ARRAYS}

    def _restore(self, state, arrays):
        self.scale_ = float(state["scale"])
        for name in self._ARRAYS:
            if name in arrays:  # models saved before partial_fit keep only the first three
                setattr(self, f"{name}_", arrays[name])
        self.embedding_sizes_ = {self.language_: int(self.centroids_.shape[1])}
