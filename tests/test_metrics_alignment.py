"""Alignment metrics: hand-computed cases, scipy / scikit-learn references, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import average_precision_score

from polytopic.errors import MetricError
from polytopic.metrics import (
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


def random_distributions(n, k, seed):
    return np.random.default_rng(seed).dirichlet(np.full(k, 0.3), size=n)


def test_match_and_kl_by_hand():
    source = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    target = np.array([[0.5, 0.5], [0.6, 0.4], [0.7, 0.3]])
    assert match(source, target) == pytest.approx(2 / 3)  # rows 0 and 1 agree (ties -> topic 0)
    # row 1: 0.9 ln(0.9/0.6) + 0.1 ln(0.1/0.4) = 0.36491 - 0.13863 = 0.22628
    assert kl_divergence(source, target)[1] == pytest.approx(0.9 * np.log(1.5) + 0.1 * np.log(0.25))
    assert kl_divergence(source, target)[0] == 0.0


def test_jsd_equals_scipy():
    source, target = random_distributions(20, 6, 0), random_distributions(20, 6, 1)
    expected = np.array([jensenshannon(p, q) ** 2 for p, q in zip(source, target)])  # natural log
    np.testing.assert_allclose(js_divergence(source, target), expected, atol=1e-12)
    full = js_divergence_matrix(source, target)
    np.testing.assert_allclose(np.diag(full), expected, atol=1e-12)
    assert full[3, 7] == pytest.approx(jensenshannon(source[3], target[7]) ** 2, abs=1e-12)


def test_alignment_beats_its_random_baseline():
    source = random_distributions(200, 10, 0)
    target = 0.8 * source + 0.2 * random_distributions(200, 10, 1)  # noisy translations
    scores = alignment(source, target, seed=0)
    assert scores.match > 0.8 > 0.3 > scores.match_random
    assert scores.kl < scores.kl_random
    assert alignment(source, target, seed=0) == scores  # seeded shuffle


def test_mrr_by_hand():
    # source 0 is nearest its target; source 1 is nearer target 0 than its own target 1
    source = np.array([[0.9, 0.1], [0.8, 0.2]])
    target = np.array([[0.85, 0.15], [0.1, 0.9]])
    assert mrr(source, target) == pytest.approx((1 + 1 / 2) / 2)
    assert mrr(source, source) == 1.0
    # identical distributions everywhere: ties are retrieved together, rank 2 -> MRR 1/2
    assert mrr(np.full((2, 2), 0.5), np.full((2, 2), 0.5)) == 0.5


def test_uap_equals_scikit_learn_average_precision():
    source = random_distributions(15, 5, 2)
    target_source = np.repeat(np.arange(15), 3)  # three images per article
    target = 0.5 * source[target_source] + 0.5 * random_distributions(45, 5, 3)
    divergence = js_divergence_matrix(source, target)
    expected = [average_precision_score(target_source == q, -divergence[q]) for q in range(15)]
    np.testing.assert_allclose(average_precision(source, target, target_source), expected, atol=1e-12)
    assert uap(source, target, target_source) == pytest.approx(np.mean(expected))


def test_relevance_matrix_generalises_one_to_many():
    """The one-to-many map is the relevance matrix target_source[j] == i."""
    source = random_distributions(15, 5, 2)
    target_source = np.random.default_rng(4).permutation(np.repeat(np.arange(15), 3))
    target = 0.5 * source[target_source] + 0.5 * random_distributions(45, 5, 3)
    relevant = target_source[None, :] == np.arange(15)[:, None]
    np.testing.assert_array_equal(average_precision(source, target, relevant),
                                  average_precision(source, target, target_source))
    assert uap(source, target, relevant) == uap(source, target, target_source)
    assert uap(source, source, np.eye(15, dtype=bool)) == mrr(source, source) == 1.0


def test_relevance_matrix_equals_scikit_learn_with_ties():
    """Distributions drawn from 4 rows, so most divergences tie; 1 to 12 relevant targets each."""
    rng = np.random.default_rng(5)
    pool = random_distributions(4, 6, 6)
    source, target = pool[rng.integers(0, 4, 25)], pool[rng.integers(0, 4, 40)]
    relevant = rng.random((25, 40)) < 0.15
    relevant[np.arange(25), rng.integers(0, 40, 25)] = True
    divergence = js_divergence_matrix(source, target)
    assert len(np.unique(divergence.round(12))) <= 10  # ties everywhere
    expected = [average_precision_score(relevant[q], -divergence[q]) for q in range(25)]
    np.testing.assert_allclose(average_precision(source, target, relevant), expected, atol=1e-12)


def test_blocks_do_not_change_the_result(monkeypatch):
    """One source row per block (the block bound forced down) gives the same values."""
    import importlib

    module = importlib.import_module("polytopic.metrics.alignment")  # the package's `alignment` is the function

    source, target = random_distributions(30, 5, 7), random_distributions(50, 5, 8)
    relevant = np.random.default_rng(9).random((30, 50)) < 0.3
    relevant[:, 0] = True
    whole, matrix = average_precision(source, target, relevant), js_divergence_matrix(source, target)
    monkeypatch.setattr(module, "_BLOCK_ELEMENTS", 1)
    np.testing.assert_array_equal(average_precision(source, target, relevant), whole)
    np.testing.assert_array_equal(js_divergence_matrix(source, target), matrix)


def test_random_distributions_score_the_share_of_relevant_targets():
    """Unrelated source and target: each query's AP is about its share of relevant targets,
    so the UAP is about the mean share (here 0.2), far from 1."""
    rng = np.random.default_rng(10)
    source, target = random_distributions(400, 10, 11), random_distributions(400, 10, 12)
    relevant = rng.random((400, 400)) < 0.2
    relevant[:, 0] = True
    assert uap(source, target, relevant) == pytest.approx(relevant.mean(), abs=0.02)
    # one distribution for every item: every target ties, so AP is exactly the share
    same = np.full((400, 10), 0.1)
    np.testing.assert_allclose(average_precision(same, same, relevant), relevant.mean(axis=1), atol=1e-12)


def test_shared_category_relevance_by_hand():
    categories = [["Game", "ArcadeGame"], ["Game"], [], ("Audio",), ["Audio", "Game"]]
    expected = np.array([[1, 1, 0, 0, 1],
                         [1, 1, 0, 0, 1],
                         [0, 0, 1, 0, 0],   # no category: relevant to its own aligned view only
                         [0, 0, 0, 1, 1],
                         [1, 1, 0, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(shared_category_relevance(categories), expected)
    np.testing.assert_array_equal(shared_category_relevance([[], []]), np.eye(2, dtype=bool))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: match(np.ones((3, 2)) / 2, np.ones((4, 2)) / 2), "aligned row by row"),
        (lambda: match([[0.5, 0.6]], [[0.5, 0.5]]), "do not sum to 1"),
        (lambda: kl_divergence([[np.nan, 1.0]], [[0.5, 0.5]]), "NaN"),
        (lambda: kl_divergence([[1.5, -0.5]], [[0.5, 0.5]]), "negative"),
        (lambda: alignment(np.ones(3) / 3, np.ones(3) / 3), "2-d"),
        (lambda: mrr(np.ones((3, 2)) / 2, np.ones((2, 2)) / 2), "aligned row by row"),
        (lambda: js_divergence_matrix(np.ones((3, 2)) / 2, np.ones((2, 3)) / 3), "numbers of topics"),
        (lambda: uap(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, [0, 0]), r"sources \[1\] have no relevant target"),
        (lambda: uap(np.ones((2, 2)) / 2, np.ones((3, 2)) / 2, np.ones((2, 2), bool)), r"shape \(2, 2\), not"),
        (lambda: uap(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, np.eye(2)), "must be boolean"),
        (lambda: uap(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, [[True, False], [False, False]]), "no relevant"),
        (lambda: uap(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, np.ones((2, 2, 2), bool)), "3 dimensions"),
        (lambda: uap(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, [0, 5]), "source row numbers"),
        (lambda: uap(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, [0]), "aligned row by row"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(MetricError, match=match):
        call()
