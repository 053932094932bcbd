"""Embedding-based word intrusion (a proxy of the human test) on planted vectors."""

from __future__ import annotations

import numpy as np
import pytest

from polytopic.errors import MetricError
from polytopic.metrics import intrusion_proxy
from polytopic.metrics.intrusion import NAME

TOPICS = [[f"t{k}w{i}" for i in range(6)] for k in range(4)]


def planted_vectors(spread):
    """Word vectors around one direction per topic, with noise of size ``spread``."""
    rng = np.random.default_rng(0)
    return {w: np.eye(8)[k] + spread * rng.normal(size=8) for k, words in enumerate(TOPICS) for w in words}


def test_separated_topics_expose_every_intruder():
    scores = intrusion_proxy(TOPICS, planted_vectors(0.05), top_n=5, n_intruders=20)
    np.testing.assert_array_equal(scores.per_topic, 1.0)
    assert "proxy" in scores.name and scores.as_dict()["name"] == NAME


def test_unstructured_vectors_score_near_chance():
    rng = np.random.default_rng(1)
    topics = [[f"w{k}_{i}" for i in range(5)] for k in range(40)]
    vectors = {w: rng.normal(size=64) for words in topics for w in words}
    scores = intrusion_proxy(topics, vectors, top_n=5, n_intruders=20)
    assert abs(scores.mean - 1 / 6) < 0.08  # chance: one word in six


def test_callable_vectors_and_seed():
    vectors = planted_vectors(1.0)
    encode = lambda words: np.stack([vectors[w] for w in words])  # noqa: E731
    a = intrusion_proxy(TOPICS, vectors, seed=3)
    b = intrusion_proxy(TOPICS, encode, seed=3)
    np.testing.assert_array_equal(a.per_topic, b.per_topic)


@pytest.mark.parametrize(
    "topics,vectors,match",
    [
        (TOPICS[:1], planted_vectors(0.1), "at least two topics"),
        ([TOPICS[0], TOPICS[1][:3]], planted_vectors(0.1), "fewer"),
        ([TOPICS[0], TOPICS[0]], planted_vectors(0.1), "no topic could be given an intruder"),
        (TOPICS, {}, "no vectors"),
        (TOPICS, lambda words: np.zeros((len(words), 3)), "zero vector"),
        (TOPICS, lambda words: np.ones((2, 3)), "shape"),
    ],
)
def test_bad_input(topics, vectors, match):
    with pytest.raises(MetricError, match=match):
        intrusion_proxy(topics, vectors)
