"""Coherence: hand-computed small cases, gensim's CoherenceModel on real data, bad input."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from polytopic.errors import MetricError, PolytopicError
from polytopic.metrics import MEASURES, ReferenceTexts, coherence, reference_texts

gensim_models = pytest.importorskip("gensim.models")
from gensim.corpora import Dictionary  # noqa: E402

# Four documents, each shorter than any window, so windows = documents.
SMALL = [["a", "b"], ["a", "c"], ["b", "c"], ["a"]]


@pytest.fixture(scope="module")
def english_tokens(english_corpus):
    return english_corpus.tokens("en")


@pytest.fixture(scope="module")
def real_topics(english_tokens, english_corpus):
    """Ten topics of frequent words of one section each, plus ten of random words."""
    sections = np.array(english_corpus.labels["section"])
    topics = []
    for section in ["libs", "devel", "python", "utils", "web", "games", "net", "doc", "text", "admin"]:
        words = [w for i in np.flatnonzero(sections == section) for w in english_tokens[i]]
        values, counts = np.unique(words, return_counts=True)
        topics.append(list(values[np.argsort(-counts, kind="stable")[:10]]))
    dictionary = Dictionary(english_tokens)
    pool = sorted(w for w, i in dictionary.token2id.items() if dictionary.dfs[i] >= 3)
    rng = np.random.default_rng(0)
    topics += [list(rng.choice(pool, 10, replace=False)) for _ in range(10)]
    return topics


def gensim_scores(topics, texts, measure, top_n=10, window_size=None):
    model = gensim_models.CoherenceModel(topics=topics, texts=texts, dictionary=Dictionary(texts),
                                         coherence=measure, topn=top_n, window_size=window_size, processes=1)
    return np.array(model.get_coherence_per_topic())


# -- hand-computed -----------------------------------------------------------------------
def test_document_counts_by_hand():
    counts = ReferenceTexts(SMALL).counts(["a", "b", "c"], None)
    assert counts.n_windows == 4
    np.testing.assert_array_equal(counts.occurrences, [3, 2, 2])
    np.testing.assert_array_equal(counts.cooccurrences.toarray(), [[3, 1, 1], [1, 2, 1], [1, 1, 2]])


def test_sliding_window_counts_follow_gensim_edge_rule():
    # "a x a y", window 3: windows [a x a] and [x a y]. Sliding to the second window
    # gensim removes the leaving "a" although another "a" is still inside, so "a" is
    # counted in 1 window, not 2; x in 2, y in 1; (a, x) together in 1, (a, y) in 0.
    counts = ReferenceTexts([["a", "x", "a", "y"]]).counts(["a", "x", "y"], 3)
    assert counts.n_windows == 2
    np.testing.assert_array_equal(counts.occurrences, [1, 2, 1])
    np.testing.assert_array_equal(counts.cooccurrences.toarray(), [[1, 1, 0], [1, 2, 1], [0, 1, 1]])


def test_short_and_empty_documents_are_one_window():
    # lengths 0, 2 and 5 with window 3 -> 1 + 1 + 3 windows
    counts = ReferenceTexts([[], ["a", "b"], ["a", "b", "c", "d", "e"]]).counts(["a", "e"], 3)
    assert counts.n_windows == 5
    np.testing.assert_array_equal(counts.occurrences, [2, 1])  # a: doc 2, first window of doc 3


def test_measures_by_hand():
    # N = 4; a in 3 documents, b in 2, both in 1.
    # u_mass [a, b]: pair (b | a): ln{(1/4) / (3/4)} = -1.0986
    assert coherence([["a", "b"]], SMALL, "u_mass", top_n=2).mean == pytest.approx(np.log(1 / 3), abs=1e-9)
    # c_uci: ln{(1/4) / [(3/4)(2/4)]} = ln(2/3) = -0.4055
    assert coherence([["a", "b"]], SMALL, "c_uci", top_n=2).mean == pytest.approx(np.log(2 / 3), abs=1e-9)
    # c_npmi: -0.4055 / -ln(1/4) = -0.2925
    npmi = coherence([["a", "b"]], SMALL, "c_npmi", top_n=2).mean
    assert npmi == pytest.approx(np.log(2 / 3) / -np.log(1 / 4), abs=1e-9)


# -- against gensim on real data -----------------------------------------------------------
@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_equals_gensim_on_real_data(measure, english_tokens, real_topics):
    ours = coherence(real_topics, english_tokens, measure)
    theirs = gensim_scores(real_topics, english_tokens, measure)
    np.testing.assert_allclose(ours.per_topic, theirs, rtol=0, atol=1e-6)
    assert ours.mean == pytest.approx(np.mean(theirs), abs=1e-6)


@pytest.mark.parametrize("measure,window_size", [("c_npmi", 3), ("c_v", 20)])
def test_equals_gensim_with_other_windows_and_top_n(measure, window_size, english_tokens, real_topics):
    ours = coherence(real_topics, english_tokens, measure, top_n=5, window_size=window_size)
    theirs = gensim_scores(real_topics, english_tokens, measure, top_n=5, window_size=window_size)
    np.testing.assert_allclose(ours.per_topic, theirs, rtol=0, atol=1e-6)


# -- reuse ---------------------------------------------------------------------------------
def test_counts_are_reused_and_extended(english_tokens, real_topics):
    reference = ReferenceTexts(english_tokens)
    first = reference.counts({w for t in real_topics[:5] for w in t}, 10)
    assert reference.counts(real_topics[0], 10) is first  # a subset: no recount
    assert first.cooccurrences.shape[0] == len(first.words)  # topic words only
    before = coherence(real_topics[:5], reference, "c_npmi").per_topic
    coherence(real_topics[5:], reference, "c_npmi")  # new words: counts grow to the union
    assert set(first.words) < set(reference.counts(real_topics[0], 10).words)
    np.testing.assert_allclose(coherence(real_topics[:5], reference, "c_npmi").per_topic, before, atol=1e-12)


def test_corpus_reference_is_cached_and_equals_tokens(english_corpus, english_tokens, real_topics):
    assert reference_texts(english_corpus) is reference_texts(english_corpus)
    from_corpus = coherence(real_topics, english_corpus, "c_npmi").per_topic
    np.testing.assert_allclose(from_corpus, coherence(real_topics, english_tokens, "c_npmi").per_topic)


def test_settings_name_everything_used():
    settings = coherence([["a", "b"]], SMALL, "c_npmi", top_n=2).settings()
    assert settings | {"measure": "c_npmi", "window_size": 10, "epsilon": 1e-12, "top_n": 2} == settings


# -- bad input -----------------------------------------------------------------------------
def test_missing_words_are_skipped_with_a_warning(english_tokens, real_topics, caplog):
    topics = [t[:4] + ["zzzunknown"] + t[4:9] for t in real_topics[:3]]
    with caplog.at_level(logging.WARNING, logger="polytopic.metrics.coherence"):
        ours = coherence(topics, english_tokens, "c_npmi")
    assert "zzzunknown" in caplog.text and "skipped" in caplog.text
    assert ours.skipped == {0: ["zzzunknown"], 1: ["zzzunknown"], 2: ["zzzunknown"]}
    expected = coherence([t[:9] for t in real_topics[:3]], english_tokens, "c_npmi")
    np.testing.assert_allclose(ours.per_topic, expected.per_topic)
    # gensim drops unknown words silently; with the same nine words it agrees
    np.testing.assert_allclose(ours.per_topic, gensim_scores(topics, english_tokens, "c_npmi"), atol=1e-6)
    with pytest.raises(MetricError, match="zzzunknown"):
        coherence(topics, english_tokens, "c_npmi", on_missing="raise")


def test_topics_shorter_than_top_n_and_single_words(caplog):
    with caplog.at_level(logging.WARNING, logger="polytopic.metrics.coherence"):
        scores = coherence([["a", "b"], ["c"], ["a", "zzz"]], SMALL, "c_uci", top_n=10)
    assert "fewer than top_n" in caplog.text
    assert scores.per_topic[0] == pytest.approx(np.log(2 / 3))
    assert np.isnan(scores.per_topic[1]) and np.isnan(scores.per_topic[2])
    assert scores.mean == pytest.approx(np.log(2 / 3))  # mean over the defined topics
    with pytest.raises(MetricError, match="no topic has a defined"):
        coherence([["a"], ["zzz", "yyy"]], SMALL, "c_uci")


@pytest.mark.parametrize(
    "topics,texts,options,match",
    [
        ([["a", "b"], []], SMALL, {}, "topic 1 is empty"),
        ([], SMALL, {}, "non-empty list"),
        ([["a", "b", "a"]], SMALL, {}, "more than once"),
        ("a b", SMALL, {}, "non-empty list"),
        ([["a", 3]], SMALL, {}, "list of words"),
        ([["a", "b"]], SMALL, {"measure": "c_w2v"}, "unknown coherence measure"),
        ([["a", "b"]], SMALL, {"top_n": 1}, "top_n"),
        ([["a", "b"]], SMALL, {"window_size": 0}, "window_size"),
        ([["a", "b"]], SMALL, {"on_missing": "ignore"}, "on_missing"),
        ([["a", "b"]], ["a b", "c"], {}, "list of token lists"),
        ([["a", "b"]], [], {}, "empty"),
    ],
)
def test_bad_input_raises_metric_error(topics, texts, options, match):
    with pytest.raises(MetricError, match=match) as caught:
        coherence(topics, texts, **options)
    assert isinstance(caught.value, PolytopicError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("window_size", [10, None])
def test_counts_extended_with_new_words_equal_a_fresh_count(english_tokens, real_topics, window_size):
    words = list(dict.fromkeys(w for t in real_topics for w in t))
    extended = ReferenceTexts(english_tokens)
    extended.counts(words[:40], window_size)
    grown = extended.counts(words[30:], window_size)  # 30..39 known, the rest new
    fresh = ReferenceTexts(english_tokens).counts(grown.words, window_size)
    assert grown.words == fresh.words and grown.n_windows == fresh.n_windows
    np.testing.assert_array_equal(grown.occurrences, fresh.occurrences)
    np.testing.assert_array_equal(grown.cooccurrences.toarray(), fresh.cooccurrences.toarray())
