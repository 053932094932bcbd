"""Topic words from a topic-word matrix: the one ranking that :meth:`TopicModel.topics
<polytopic.models.base.TopicModel.topics>` and a run's files (read without torch) share."""

from __future__ import annotations

import numpy as np


def top_words(matrix: np.ndarray, words, top_n: int) -> list[list[str]]:
    """The ``top_n`` heaviest words of each row of ``matrix`` (n_topics, len(words)),
    heaviest first; ties keep vocabulary order."""
    top_n = min(top_n, matrix.shape[1])
    best = np.argsort(-matrix, axis=1, kind="stable")[:, :top_n]
    return [[words[j] for j in row] for row in best]
