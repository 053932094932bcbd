import numpy as np
import pytest
import scipy.sparse as sp

from polytopic import Corpus, EncoderError, ParameterError
from polytopic.models import ClusteringTopics
from polytopic.models.clustering import class_tfidf


def test_class_tfidf_matches_hand_computation():
    # Two classes, words (a, b): class 0 has a×2, class 1 has a×1 and b×1.
    # A = 4 / 2 = 2; f = (3, 1); W0 = (2·ln(1 + 2/3), 0); W1 = (ln(1 + 2/3), ln 3).
    counts = sp.csr_matrix([[2.0, 0.0], [1.0, 1.0]])
    weights = class_tfidf(counts, np.array([0, 1]), 2)
    w1 = np.array([np.log(5 / 3), np.log(3)])
    np.testing.assert_allclose(weights, [[1.0, 0.0], w1 / w1.sum()])


def planted(n=60):
    """Documents about fruit or about kernels, with embeddings that separate them."""
    rng = np.random.default_rng(0)
    texts = [("apple banana cherry melon" if i % 2 else "linux kernel driver boot") for i in range(n)]
    centres = np.eye(8)[:2] * 5
    return Corpus(texts), centres[np.arange(n) % 2] + rng.normal(0, 0.3, (n, 8))


@pytest.mark.parametrize("options", [{}, {"clustering": "hdbscan", "min_cluster_size": 5, "reduction": "none"}])
def test_planted_clusters_and_their_words(options):
    corpus, embeddings = planted()
    model = ClusteringTopics(n_topics=2, min_df=1, progress=False, **options).fit(corpus, embeddings=embeddings)
    assert sorted(sorted(t) for t in model.topics(top_n=4)) == [
        ["apple", "banana", "cherry", "melon"], ["boot", "driver", "kernel", "linux"]]
    doc_topic = model.transform(corpus, embeddings=embeddings)
    np.testing.assert_array_equal(doc_topic.argmax(1), model.labels_)
    assert doc_topic.max(1).min() > 0.9  # the fitted scale makes clear cases confident


def test_debian_clusters(english_corpus, minilm_embeddings, tmp_path):
    model = ClusteringTopics(n_topics=8, progress=False).fit(english_corpus, embeddings=minilm_embeddings)
    words = {w for t in model.topics(top_n=10) for w in t}
    assert {"game", "library"} <= words
    doc_topic = model.transform(english_corpus, embeddings=minilm_embeddings)
    assert (doc_topic.argmax(1) == model.labels_).mean() > 0.8
    loaded = ClusteringTopics.load(model.save(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.transform(english_corpus, embeddings=minilm_embeddings), doc_topic)


def test_bad_inputs():
    corpus, embeddings = planted(20)
    with pytest.raises(ParameterError, match="HDBSCAN found"):
        ClusteringTopics(n_topics=2, min_df=1, clustering="hdbscan", min_cluster_size=15,
                         reduction="none", progress=False).fit(corpus, embeddings=embeddings)
    with pytest.raises(EncoderError, match="shape"):
        ClusteringTopics(n_topics=2, min_df=1, progress=False).fit(corpus, embeddings=embeddings[:5])
    model = ClusteringTopics(n_topics=2, min_df=1, progress=False).fit(corpus, embeddings=embeddings)
    with pytest.raises(EncoderError, match="dimension"):
        model.transform(corpus, embeddings=np.ones((20, 3)))
