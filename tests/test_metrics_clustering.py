"""Clustering metrics against scikit-learn and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from polytopic.errors import MetricError
from polytopic.metrics import argmax_clusters, kmeans_clusters, nmi, purity, score_clusters


def test_nmi_equals_scikit_learn_on_debian_sections(english_corpus):
    labels = english_corpus.labels["section"]
    clusters = np.random.default_rng(0).integers(0, 12, size=len(labels))
    assert nmi(labels, clusters) == pytest.approx(normalized_mutual_info_score(labels, clusters), abs=1e-12)
    # partly informative clusters: the section's first letter
    letters = [label[0] for label in labels]
    assert nmi(labels, letters) == pytest.approx(normalized_mutual_info_score(labels, letters), abs=1e-12)
    assert nmi(labels, labels) == pytest.approx(1.0)
    assert nmi(["a", "a"], [1, 1]) == normalized_mutual_info_score(["a", "a"], [1, 1]) == 1.0


def test_purity_by_hand():
    # clusters {0: a a b}, {1: b c}: majority counts 2 + 1 = 3 of 5
    assert purity(["a", "a", "b", "b", "c"], [0, 0, 0, 1, 1]) == pytest.approx(3 / 5)


def test_argmax_and_kmeans_recover_planted_clusters():
    rng = np.random.default_rng(0)
    labels = np.repeat(["x", "y", "z"], 30)
    centres = np.eye(3) * 10
    vectors = centres[np.repeat(np.arange(3), 30)] + rng.normal(size=(90, 3))
    scores = score_clusters(labels, kmeans_clusters(vectors, 3, seed=0))
    assert scores.nmi == pytest.approx(1.0) and scores.purity == 1.0 and scores.n_clusters == 3
    doc_topic = np.exp(vectors) / np.exp(vectors).sum(axis=1, keepdims=True)
    assert purity(labels, argmax_clusters(doc_topic)) == 1.0


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: nmi(["a", "b"], [0]), "aligned row by row"),
        (lambda: nmi([], []), "no documents"),
        (lambda: purity(["a", None], [0, 1]), "missing"),
        (lambda: argmax_clusters([[0.5, 0.4]]), "do not sum to 1"),
        (lambda: kmeans_clusters(np.ones((3, 2)), 5), "n_clusters"),
        (lambda: kmeans_clusters([[np.nan, 1.0]], 1), "finite"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(MetricError, match=match):
        call()
