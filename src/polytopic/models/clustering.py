"""BERTopic-style topics (Grootendorst 2022): document embeddings → dimension reduction
→ clustering → class-based TF-IDF topic words, on scikit-learn (and umap-learn when
installed), not on BERTopic itself.

Stages and defaults:

- reduction: ``"pca"`` (default; deterministic and fast), ``"umap"`` (BERTopic's
  default, 5 components, 15 neighbours, min_dist 0; needs ``pip install umap-learn``,
  whose import alone compiles for ~30 s) or ``"none"``.
- clustering: ``"kmeans"`` (default; exactly ``n_topics`` clusters) or ``"hdbscan"``
  (scikit-learn's; its clusters are merged by agglomerating their centroids down to
  ``n_topics``, and outliers join their nearest cluster, so the contract's K holds).
- topic words: c-TF-IDF, W_{w,c} = tf_{w,c} · log(1 + A / f_w) with A the average
  number of words per cluster and f_w the word's frequency over all clusters
  (Grootendorst 2022, Eq. 1), normalised per topic to sum to 1.

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
from polytopic.errors import ParameterError
from polytopic.models.base import CORPUS_PARAMETERS, TopicModel
from polytopic.models.views import View
from polytopic.params import Anything, Interval, OneOf, Optional
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
    member = sp.csr_matrix((np.ones(labels.size), (labels, np.arange(labels.size))), shape=(n_classes, labels.size))
    tf = np.asarray((member @ counts).todense(), dtype=np.float64)  # (n_classes, V)
    average_words = tf.sum() / n_classes
    frequency = tf.sum(0)
    weights = tf * np.log1p(average_words / np.maximum(frequency, 1e-12))
    totals = weights.sum(1, keepdims=True)
    return np.where(totals > 0, weights / np.where(totals > 0, totals, 1), 1.0 / tf.shape[1])


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class ClusteringTopics(TopicModel):
    """BERTopic-style: embed, reduce, cluster (K-means or HDBSCAN), c-TF-IDF words.

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
        "seed": Optional(Interval(int, 0)),
        "progress": OneOf((True, False)),
    }

    def __init__(self, n_topics: int = 10, *, encoder: str | Encoder | None = None, language: str | None = None,
                 vocabulary_size: int = DEFAULT_VOCABULARY_SIZE, min_df: int = 2, reduction: str = "pca",
                 n_components: int = 5, clustering: str = "kmeans", min_cluster_size: int = 10,
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
        self.seed = seed
        self.progress = progress

    # -- stages ---------------------------------------------------------------------------
    def _reduce(self, vectors: np.ndarray) -> np.ndarray:
        n_components = min(self.n_components, vectors.shape[1], vectors.shape[0] - 1)
        if self.reduction == "none":
            return vectors
        if self.reduction == "pca":
            from sklearn.decomposition import PCA

            return PCA(n_components, random_state=self.seed or 0).fit_transform(vectors)
        try:
            import umap
        except ImportError:
            raise ParameterError("reduction='umap' needs umap-learn: pip install umap-learn") from None
        reducer = umap.UMAP(n_neighbors=min(15, len(vectors) - 1), n_components=n_components, min_dist=0.0,
                            metric="cosine", random_state=self.seed or 0)
        return reducer.fit_transform(vectors)

    def _cluster(self, reduced: np.ndarray) -> np.ndarray:
        from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans

        if self.clustering == "kmeans":
            return KMeans(self.n_topics, n_init=10, random_state=self.seed or 0).fit_predict(reduced)
        labels = HDBSCAN(min_cluster_size=self.min_cluster_size, copy=True).fit_predict(reduced)
        found = np.unique(labels[labels >= 0])
        if found.size < self.n_topics:
            raise ParameterError(
                f"HDBSCAN found {found.size} clusters, fewer than n_topics={self.n_topics}; lower "
                "n_topics or min_cluster_size, or use clustering='kmeans'"
            )
        centroids = np.stack([reduced[labels == c].mean(0) for c in found])
        merged = AgglomerativeClustering(self.n_topics).fit_predict(centroids)
        logger.info("HDBSCAN: %d clusters merged into %d topics; %d outliers assigned to the nearest",
                    found.size, self.n_topics, int((labels < 0).sum()))
        topic_centroids = np.stack([centroids[merged == k].mean(0) for k in range(self.n_topics)])
        nearest = np.argmin(((reduced[:, None, :] - topic_centroids[None]) ** 2).sum(-1), axis=1)
        return np.where(labels >= 0, merged[np.searchsorted(found, np.maximum(labels, 0))], nearest)

    # -- contract ---------------------------------------------------------------------------
    def _fit(self, views: dict[str, View], rng, device) -> None:
        """Cluster the documents' embeddings and describe each cluster by c-TF-IDF over
        the vocabulary."""
        data = self._primary(views)
        vectors = _unit(data.vectors.astype(np.float64))
        labels = self._cluster(self._reduce(vectors))
        sizes = np.bincount(labels, minlength=self.n_topics)
        self.centroids_ = _unit(np.stack([vectors[labels == k].mean(0) if sizes[k] else np.zeros(vectors.shape[1])
                                          for k in range(self.n_topics)]))
        self.topic_word_ = class_tfidf(data.counts, labels, self.n_topics)
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
