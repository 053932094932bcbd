"""LDA topic labels (Mueller & Dredze 2021, §3.2 and §4): τ chosen by NPMI, each document
labelled with the topic whose top-10 words cover most of its tokens, "no topic" = K."""

import json
import logging
from collections import defaultdict

import numpy as np
import pytest

from polytopic import Corpus, ParameterError
from polytopic.metrics import coherence
from polytopic.models.lda import LDA, top_word_labels
from polytopic.models.topic_labels import choose_topics

GRID = (5, 10, 20)
FAST = {"iterations": 50, "progress": False}


def authors_labels(topics: list[list[str]], token_lists: list[list[str]]) -> list[int]:
    """A line-by-line port of the authors' ``data/wiki/assign_topics.py``, with "no topic"
    written as K instead of their 101."""
    topic_sets = {idx: set(words) for idx, words in enumerate(topics)}
    labels = []
    for tokens in token_lists:
        has_topic = False
        topic_word_counts = defaultdict(int)
        for token in tokens:
            for topic in topic_sets.keys():
                if token in topic_sets[topic]:
                    has_topic = True
                    topic_word_counts[topic] += 1
        if not has_topic:
            labels.append(len(topics))
            continue
        labels.append(max(topic_word_counts, key=lambda key: topic_word_counts[key]))
    return labels


@pytest.fixture(scope="module")
def choice(english_corpus):
    return choose_topics(english_corpus, GRID, **FAST)


def test_labels_equal_the_authors_procedure(choice, english_corpus):
    lda = choice.lda
    vocabulary = lda.vocabularies_["en"]
    tokens = [[t for t in doc if t in vocabulary] for doc in english_corpus.tokens(tokenizer=vocabulary.tokenizer)]
    expected = authors_labels(lda.topics(10), tokens)
    np.testing.assert_array_equal(lda.topic_labels(english_corpus), expected)
    np.testing.assert_array_equal(choice.labels, expected)
    # the tie rule is exercised: some documents' label is not the lowest-index topic of most hits
    top = lda.topics(10)
    hits = np.array([[sum(t in set(words) for t in doc) for words in top] for doc in tokens])
    assert (np.argmax(hits, axis=1)[hits.max(1) > 0] != np.asarray(expected)[hits.max(1) > 0]).any()


def test_ties_go_to_the_topic_hit_first_and_no_hit_documents_get_k():
    # topic 0 lists {a, b}, topic 1 {c, a}, topic 2 {d, e}; word f is in no list
    topic_word = np.array([[0.5, 0.4, 0.0, 0.0, 0.0, 0.1],
                           [0.4, 0.0, 0.5, 0.0, 0.0, 0.1],
                           [0.0, 0.0, 0.0, 0.5, 0.4, 0.1]])
    a, b, c, d, e, f = range(6)
    docs = [[c, b],        # 1 hit each for topics 1 and 0: topic 1 was hit first
            [b, c],        # the same tie the other way round: topic 0
            [a],           # one token in two lists: the lower topic index
            [d, c, c, a],  # topic 1 has 3 hits (c, c, a), topic 0 one, topic 2 one
            [f, f],        # tokens, but in no list: "no topic"
            []]            # no token at all: "no topic"
    indptr = np.r_[0, np.cumsum([len(doc) for doc in docs])]
    labels = top_word_labels(topic_word, np.array(sum(docs, []), dtype=np.int64), indptr, top_n=2)
    np.testing.assert_array_equal(labels, [1, 0, 0, 1, 3, 3])


def test_documents_without_a_top_word_get_the_no_topic_label(choice):
    lda = choice.lda
    listed = {w for words in lda.topics(10) for w in words}
    unlisted = [w for w in lda.vocabularies_["en"].words if w not in listed][:3]
    only_two = next(w for w in lda.topics(10)[2] if sum(w in words for words in lda.topics(10)) == 1)
    labels = lda.topic_labels([" ".join(unlisted), "zzzq qqqz", f"{unlisted[0]} {only_two}"])
    np.testing.assert_array_equal(labels, [lda.n_topics, lda.n_topics, 2])


def test_the_chosen_number_of_topics_has_the_highest_npmi(choice, english_corpus):
    assert list(choice.scores) == list(GRID)
    assert choice.n_topics == max(GRID, key=choice.scores.get) == choice.lda.n_topics
    # each score is the mean c_npmi of that LDA's top-10 words over the corpus's own texts
    again = LDA(choice.n_topics, **FAST).fit(english_corpus)
    tokens = english_corpus.tokens(tokenizer=again.vocabularies_["en"].tokenizer)
    assert coherence(again.topics(10), tokens, "c_npmi", top_n=10).mean == pytest.approx(choice.scores[choice.n_topics])
    assert len(set(choice.scores.values())) == len(GRID)
    assert choice.labels.shape == (400,) and choice.labels.max() <= choice.n_topics
    record = json.loads(json.dumps(choice.record()))
    assert record["chosen"] == choice.n_topics and record["grid"] == list(GRID)
    assert record["lda"]["iterations"] == 50 and record["top_n"] == 10 and record["measure"] == "c_npmi"
    assert record["n_no_topic"] == int((choice.labels == choice.n_topics).sum())


def test_equal_scores_choose_the_smaller_grid_value(english_corpus, monkeypatch, caplog):
    class Flat:
        mean = 0.25

    monkeypatch.setattr("polytopic.models.topic_labels.coherence", lambda *args, **kwargs: Flat)
    with caplog.at_level(logging.INFO, logger="polytopic"):
        chosen = choose_topics(english_corpus, (10, 5), **FAST)
    assert chosen.n_topics == 5 and chosen.scores == {5: 0.25, 10: 0.25}
    assert "τ = 5, mean NPMI 0.2500" in caplog.text and "τ = 10, mean NPMI 0.2500" in caplog.text


@pytest.mark.parametrize("grid, message", [
    ((), "non-empty"), ("10", "non-empty"), ((1, 10), r"\[1\]"), ((0, 5), r"\[0\]"),
    ((5, 401), r"\[401\]: each must be between 2 and the 400 texts"), ((5.5,), "integers"), ((True,), "integers"),
])
def test_bad_grids_are_refused(english_corpus, grid, message):
    with pytest.raises(ParameterError, match=message):
        choose_topics(english_corpus, grid, **FAST)


def test_unknown_lda_parameters_and_short_word_lists_are_refused():
    corpus = Corpus(["apple banana", "banana cherry", "cherry apple"])
    with pytest.raises(ParameterError, match="unknown parameters"):
        choose_topics(corpus, (2,), no_such=1)
    with pytest.raises(ParameterError, match="top_n"):
        choose_topics(corpus, (2,), top_n=1)
