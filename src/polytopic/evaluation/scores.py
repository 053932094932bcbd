"""Score a list of topics against a reference corpus: the one scorer that ``evaluate``,
``sweep``, the report and the benchmarks share.

:func:`score_topics` takes topic words (from any model, a run, or another library) and
the counts of a reference corpus, and returns every coherence measure of
:data:`~polytopic.metrics.MEASURES`, topic diversity over the top 10 and top 25 words and
OCTIS's inverted RBO, with the settings each was computed with, as a JSON-able dict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from polytopic.errors import MetricError
from polytopic.metrics import MEASURES, ReferenceTexts, coherence, inverted_rbo, topic_diversity
from polytopic.metrics.coherence import EPSILON

#: Words per topic scored for coherence (the field's default, gensim's ``topn``).
COHERENCE_TOP_N = 10
#: Words per topic of topic diversity (ETM, Dieng et al. 2020, §5; TopClus, Table 2).
DIVERSITY_TOP_N = 25
#: The weight of OCTIS's InvertedRBO (its default).
RBO_WEIGHT = 0.9
MISSING_WORDS = "skipped with a warning (listed per measure under skipped_words)"


def score_topics(topics: Sequence[Sequence[str]], reference: ReferenceTexts | Iterable[Sequence[str]], *,
                 measures: Sequence[str] = MEASURES, top_n: int = COHERENCE_TOP_N,
                 diversity_top_n: int = DIVERSITY_TOP_N, rbo_weight: float = RBO_WEIGHT) -> dict:
    """Coherence, diversity and inverted RBO of ``topics``, with the settings used.

    Parameters
    ----------
    topics : sequence of sequence of str
        K topics, most probable word first (give at least ``diversity_top_n`` words each
        for the top-25 diversity).
    reference : ReferenceTexts or iterable of token lists
        The reference corpus of coherence, tokenised as the topics' words are (a
        :class:`~polytopic.metrics.ReferenceTexts` holds its counts for reuse).
    measures : sequence of str
        Coherence measures of :data:`~polytopic.metrics.MEASURES` to compute.
    top_n : int
        Words per topic of coherence and inverted RBO.
    diversity_top_n : int
        Words per topic of ``topic_diversity``; ``topic_diversity_top10`` uses 10.
    rbo_weight : float
        The weight ``p`` of inverted RBO.

    Returns
    -------
    dict
        ``coherence`` (``{measure: {"mean", "per_topic", window_size, ...}}``),
        ``diversity`` (``topic_diversity``, ``topic_diversity_top10``, ``inverted_rbo``;
        None where undefined: topics shorter than the top-N, a single topic) and
        ``settings``; JSON-able, NaN written as None.

    Raises
    ------
    MetricError
        If there are no topics, or a measure is unknown.
    """
    topics = [list(words) for words in topics]
    if not topics:
        raise MetricError("no topics to score")
    unknown = [name for name in measures if name not in MEASURES]
    if unknown:
        raise MetricError(f"unknown coherence measure(s) {unknown}; the measures are {list(MEASURES)}")
    texts = reference if isinstance(reference, ReferenceTexts) else ReferenceTexts(reference)
    scores = {name: coherence(topics, texts, name, top_n=top_n) for name in measures}
    shortest = min(map(len, topics))
    return json_safe({
        "coherence": {name: {"mean": s.mean, "per_topic": s.per_topic.tolist()} | s.settings()
                      for name, s in scores.items()},
        "diversity": {
            "topic_diversity": topic_diversity(topics, diversity_top_n) if shortest >= diversity_top_n else None,
            "topic_diversity_top10": topic_diversity(topics, 10) if shortest >= 10 else None,
            "inverted_rbo": inverted_rbo(topics, top_n, rbo_weight) if len(topics) > 1 else None,
        },
        "settings": {
            "reference_documents": len(texts),
            "coherence_top_n": top_n,
            "coherence_windows": {name: s.window_size for name, s in scores.items()},
            "epsilon": EPSILON,
            "missing_words": MISSING_WORDS,
            "diversity_top_n": diversity_top_n,
            "rbo_weight": rbo_weight,
        },
    })


def tokenizer_settings(tokenizer) -> dict:
    """A tokeniser's settings for metrics.json, its stopwords counted rather than listed."""
    settings = {k: v for k, v in tokenizer.to_dict().items() if k != "stopwords"}
    return settings | {"n_stopwords": len(tokenizer.stopwords)}


def json_safe(value):
    """NaN and infinities become None (strict JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value
