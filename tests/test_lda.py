import numpy as np
import pytest
import scipy.sparse as sp

from polytopic import Corpus, ParameterError
from polytopic.models import LDA
from polytopic.models.lda import infer_doc_topic

#: Two vocabularies that never mix: every planted document draws 12 words from one of them.
TOPICS = [["apple", "banana", "cherry", "grape", "melon"], ["linux", "kernel", "driver", "module", "boot"]]


@pytest.fixture(scope="module")
def lda(english_corpus):
    return LDA(n_topics=12, iterations=100, progress=False).fit(english_corpus)


def test_planted_topics_are_recovered(planted):
    model = LDA(n_topics=2, iterations=50, min_df=1, progress=False).fit(planted(TOPICS, 120, doc_length=12).corpus)
    found = sorted(sorted(t) for t in model.topics(top_n=5))
    assert found == [["apple", "banana", "cherry", "grape", "melon"], ["boot", "driver", "kernel", "linux", "module"]]
    doc_topic = model.transform(["apple melon grape", "kernel boot"])
    assert doc_topic.max(1).min() > 0.8 and doc_topic.argmax(1)[0] != doc_topic.argmax(1)[1]


def test_inference_on_fixed_topics_matches_hand_computation():
    # One word that only topic 0 emits: every token goes to topic 0,
    # so θ = (n + α) / (N + Σα) = (3 + 1, 0 + 1) / 5.
    phi = np.array([[1.0, 0.0], [0.0, 1.0]])
    theta = infer_doc_topic(sp.csr_matrix([[3.0, 0.0], [0.0, 0.0]]), phi, np.array([1.0, 1.0]))
    np.testing.assert_allclose(theta, [[0.8, 0.2], [0.5, 0.5]])


def test_debian_topics_hold_expected_words(lda, english_corpus):
    words = {w for topic in lda.topics(top_n=10) for w in topic}
    assert {"game", "library", "server"} <= words
    doc_topic = lda.transform(english_corpus)
    assert doc_topic.shape == (400, 12)
    np.testing.assert_allclose(doc_topic.sum(1), 1)


def test_topic_labels_count_top_words(lda, english_corpus):
    labels = lda.topic_labels(english_corpus)
    assert labels.shape == (400,) and labels.dtype.kind == "i"
    top = lda.topics(top_n=10)
    text = ["game " * 5 + " ".join(top[3][:3])]
    tokens = Corpus(text).tokens()[0]
    hits = [sum(t in set(topic) for t in tokens) for topic in top]
    assert lda.topic_labels(text)[0] == int(np.argmax(hits))
    # labels agree with the most probable topic far above chance (1/12): 0.50 measured
    assert (labels == lda.transform(english_corpus).argmax(1)).mean() > 0.35


def test_save_load_keeps_topics(lda, english_corpus, tmp_path):
    loaded = LDA.load(lda.save(tmp_path / "lda"))
    assert loaded.topics() == lda.topics()
    np.testing.assert_array_equal(loaded.topic_labels(english_corpus), lda.topic_labels(english_corpus))


def test_too_many_topics_for_the_vocabulary(planted):
    with pytest.raises(ParameterError, match="exceeds the 'en' vocabulary"):
        LDA(n_topics=20, min_df=1, progress=False).fit(planted(TOPICS, 10, doc_length=12).corpus)
    with pytest.raises(ParameterError, match="usable 'en' documents"):
        LDA(n_topics=5, min_df=1, progress=False).fit(["apple banana cherry grape melon kiwi"] * 3)


def test_a_corpus_beyond_the_limit_is_refused_before_any_counting(english_corpus, monkeypatch):
    monkeypatch.setattr(LDA, "max_documents", 399)
    monkeypatch.setattr("polytopic.models.base.fit_bag_of_words", None)  # counting would fail
    with pytest.raises(ParameterError, match="at most 399 documents.*this corpus has 400.*partial_fit.*clustering"):
        LDA(n_topics=4, progress=False).fit(english_corpus)
