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
        (lambda: uap(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, [0, 0]), "no aligned target"),
        (lambda: uap(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, [0, 5]), "source row numbers"),
        (lambda: uap(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, [0]), "aligned row by row"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(MetricError, match=match):
        call()
