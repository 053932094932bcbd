"""The evaluation suite: plain functions over topic words, arrays and a reference corpus.

- coherence: :func:`coherence` (c_npmi, c_v, u_mass, c_uci; equal to gensim), with
  :class:`ReferenceTexts` holding the counts of one reference corpus for reuse;
- diversity: :func:`topic_diversity`, :func:`inverted_rbo`;
- alignment: :func:`alignment` (Match, KL, random baseline, JSD), :func:`mrr`, :func:`uap`
  (with a relevance matrix such as :func:`shared_category_relevance`'s);
- clustering: :func:`nmi`, :func:`purity`, :func:`argmax_clusters`, :func:`kmeans_clusters`;
- :func:`intrusion_proxy`: word intrusion with embeddings, a proxy of the human test.
"""

from polytopic.metrics.alignment import (
    AlignmentScores,
    alignment,
    average_precision,
    js_divergence,
    js_divergence_matrix,
    kl_divergence,
    match,
    mrr,
    shared_category_relevance,
    uap,
)
from polytopic.metrics.clustering import (
    ClusteringScores,
    argmax_clusters,
    kmeans_clusters,
    nmi,
    purity,
    score_clusters,
)
from polytopic.metrics.coherence import MEASURES, CoherenceScores, coherence
from polytopic.metrics.cooccurrence import CooccurrenceCounts, ReferenceTexts, reference_texts
from polytopic.metrics.diversity import inverted_rbo, rank_biased_overlap, topic_diversity
from polytopic.metrics.intrusion import IntrusionScores, intrusion_proxy

__all__ = [
    "MEASURES",
    "AlignmentScores",
    "ClusteringScores",
    "CoherenceScores",
    "CooccurrenceCounts",
    "IntrusionScores",
    "ReferenceTexts",
    "alignment",
    "argmax_clusters",
    "average_precision",
    "coherence",
    "intrusion_proxy",
    "inverted_rbo",
    "js_divergence",
    "js_divergence_matrix",
    "kl_divergence",
    "kmeans_clusters",
    "match",
    "mrr",
    "nmi",
    "purity",
    "rank_biased_overlap",
    "reference_texts",
    "score_clusters",
    "shared_category_relevance",
    "topic_diversity",
    "uap",
]
