"""Topic diversity and inverted rank-biased overlap: hand-computed cases and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from polytopic.errors import MetricError
from polytopic.metrics import inverted_rbo, rank_biased_overlap, topic_diversity


def test_topic_diversity_by_hand():
    # 2 topics x 3 words, "b" shared: 5 unique / 6 = 0.8333
    assert topic_diversity([["a", "b", "c"], ["b", "d", "e"]], top_n=3) == pytest.approx(5 / 6)
    # only the top_n words count: the shared "z" is the 4th word
    assert topic_diversity([["a", "b", "z"], ["c", "d", "z"]], top_n=2) == 1.0


def test_rbo_by_hand():
    # [a, b] vs [b, a], p = 0.9: X_1 = 0, X_2 = 2
    # RBO_ext = (2/2) 0.9^2 + (0.1/0.9) (0/1 * 0.9 + 2/2 * 0.81) = 0.81 + 0.09 = 0.9
    overlap = rank_biased_overlap([["a", "b"], ["b", "a"]], top_n=2)
    assert overlap[0, 1] == pytest.approx(0.9)
    np.testing.assert_allclose(np.diag(overlap), 1.0)  # a list against itself
    # [a, b, c] vs [a, x, y]: X_d = 1, 1, 1
    # (1/3) 0.729 + (1/9)(1*0.9 + 1/2*0.81 + 1/3*0.729) = 0.243 + 0.17200 = 0.41500
    assert rank_biased_overlap([["a", "b", "c"], ["a", "x", "y"]], top_n=3)[0, 1] == pytest.approx(0.415)


def test_inverted_rbo_extremes():
    assert inverted_rbo([list("abcdefghij"), list("klmnopqrst")]) == pytest.approx(1.0)
    assert inverted_rbo([list("abcdefghij")] * 3) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: topic_diversity([["a", "b"], ["c"]], top_n=2), "fewer"),
        (lambda: topic_diversity([], top_n=2), "non-empty"),
        (lambda: topic_diversity([["a"], []], top_n=1), "topic 1 is empty"),
        (lambda: inverted_rbo([["a", "b"]], top_n=2), "at least two"),
        (lambda: inverted_rbo([["a", "b"], ["c"]], top_n=2), "shortest topic"),
        (lambda: inverted_rbo([["a", "b"], ["c", "d"]], top_n=2, p=1.0), "between 0 and 1"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(MetricError, match=match):
        call()
