"""Documents as clusters, scored against human labels (TopClus, Meng et al. 2022, §4.3).

Clusters are either each document's most probable topic (:func:`argmax_clusters`) or
K-means on document representations (:func:`kmeans_clusters`); both are scored by
normalised mutual information and purity against labels such as the Debian ``section``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp

from polytopic.errors import MetricError
from polytopic.metrics.checks import distributions, same_length


def contingency(labels, clusters) -> np.ndarray:
    """Counts of documents per (label, cluster), shape (n_labels, n_clusters)."""
    same_length("labels", labels, "clusters", clusters)
    if len(labels) == 0:
        raise MetricError("no documents to score")
    if any(label is None for label in labels):
        raise MetricError("labels contain missing values (None); drop those documents first")
    _, label_index = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)
    _, cluster_index = np.unique(np.asarray(clusters), return_inverse=True)
    table = sp.coo_matrix((np.ones(label_index.size), (label_index, cluster_index)))
    return table.toarray()


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def nmi(labels, clusters) -> float:
    """Normalised mutual information ``I(L; C) / ((H(L) + H(C)) / 2)`` (arithmetic
    normalisation, scikit-learn's default; Strehl & Ghosh 2002). 1 when both
    partitions are trivial (a single label and a single cluster)."""
    table = contingency(labels, clusters)
    n = table.sum()
    h_labels, h_clusters = _entropy(table.sum(axis=1)), _entropy(table.sum(axis=0))
    if h_labels == 0 and h_clusters == 0:
        return 1.0
    joint = table[table > 0] / n
    outer = np.outer(table.sum(axis=1), table.sum(axis=0))[table > 0] / n**2
    mutual = float((joint * np.log(joint / outer)).sum())
    return max(mutual, 0.0) / ((h_labels + h_clusters) / 2)


def purity(labels, clusters) -> float:
    """Share of documents whose label is their cluster's most common label."""
    table = contingency(labels, clusters)
    return float(table.max(axis=0).sum() / table.sum())


@dataclass(frozen=True)
class ClusteringScores:
    """Agreement of predicted clusters with gold classes (see :func:`score_clusters`)."""

    nmi: float
    purity: float
    n_clusters: int
    n_labels: int

    def as_dict(self) -> dict:
        return asdict(self)


def score_clusters(labels, clusters) -> ClusteringScores:
    """NMI and purity of ``clusters`` against ``labels``."""
    return ClusteringScores(nmi(labels, clusters), purity(labels, clusters),
                            len(np.unique(clusters)), len(set(map(str, labels))))


def argmax_clusters(doc_topic) -> np.ndarray:
    """Each document's most probable topic, shape (n_docs,)."""
    return distributions(doc_topic, "document-topic distributions").argmax(axis=1)


def kmeans_clusters(representations, n_clusters: int, seed: int = 0) -> np.ndarray:
    """K-means (scikit-learn, k-means++ with 10 initialisations) on document
    representations of shape (n_docs, dim), as TopClus §4.3 clusters its latent
    document embeddings."""
    from sklearn.cluster import KMeans

    vectors = np.asarray(representations, dtype=np.float64)
    if vectors.ndim != 2 or not np.all(np.isfinite(vectors)):
        raise MetricError(f"representations must be a finite 2-d array, got shape {vectors.shape}")
    if not 1 <= n_clusters <= len(vectors):
        raise MetricError(f"n_clusters must be between 1 and the number of documents, got {n_clusters}")
    return KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(vectors)
