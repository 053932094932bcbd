import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from polytopic import EncoderError, ParameterError
from polytopic.models import ClusteringTopics
from polytopic.models.cluster_words import (
    class_tfidf,
    exclusive_words,
    head_and_tail,
    put_first,
    top_words,
    word_cluster_association,
)


def test_class_tfidf_matches_hand_computation():
    # Two classes, words (a, b): class 0 has a×2, class 1 has a×1 and b×1.
    # A = 4 / 2 = 2; f = (3, 1); W0 = (2·ln(1 + 2/3), 0); W1 = (ln(1 + 2/3), ln 3).
    counts = sp.csr_matrix([[2.0, 0.0], [1.0, 1.0]])
    weights = class_tfidf(counts, np.array([0, 1]), 2)
    w1 = np.array([np.log(5 / 3), np.log(3)])
    np.testing.assert_allclose(weights, [[1.0, 0.0], w1 / w1.sum()])


#: Documents about kernels or about fruit in turn (each its topic's four words), with embeddings that separate them.
TOPICS = [["linux", "kernel", "driver", "boot"], ["apple", "banana", "cherry", "melon"]]


@pytest.mark.parametrize("options", [{}, {"clustering": "hdbscan", "min_cluster_size": 5, "reduction": "none"}])
def test_planted_clusters_and_their_words(options, planted):
    documents = planted(TOPICS, 60, mode="whole")
    corpus, embeddings = documents.corpus, documents.vectors()
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


def test_bad_inputs(planted):
    documents = planted(TOPICS, 20, mode="whole")
    corpus, embeddings = documents.corpus, documents.vectors()
    with pytest.raises(ParameterError, match="HDBSCAN found"):
        ClusteringTopics(n_topics=2, min_df=1, clustering="hdbscan", min_cluster_size=15,
                         reduction="none", progress=False).fit(corpus, embeddings=embeddings)
    with pytest.raises(EncoderError, match="shape"):
        ClusteringTopics(n_topics=2, min_df=1, progress=False).fit(corpus, embeddings=embeddings[:5])
    model = ClusteringTopics(n_topics=2, min_df=1, progress=False).fit(corpus, embeddings=embeddings)
    with pytest.raises(EncoderError, match="dimension"):
        model.transform(corpus, embeddings=np.ones((20, 3)))


def test_association_matches_hand_computation():
    # Six documents, clusters (0, 0, 0, 1, 1, 1). Word a is in documents 0-2, b in 0 and 3,
    # c in 1-3. a|0: p(a,0) = 1/2 = 2·p(a)p(0) -> NPMI ln 2 / ln 2 = 1, times 3 documents;
    # b|0: p(b,0) = p(b)p(0) -> 0; c|0: p(c,0) = 1/3, p(c)p(0) = 1/4 -> ln(4/3) / ln 3,
    # times 2. Cluster 1 has no positive association: a uniform row.
    counts = sp.csr_matrix([[1, 1, 0], [2, 0, 1], [1, 0, 1], [0, 1, 3], [0, 0, 0], [0, 0, 0]], dtype=float)
    weights = word_cluster_association(counts, np.array([0, 0, 0, 1, 1, 1]), 2)
    row = np.array([3.0, 0.0, 2 * np.log(4 / 3) / np.log(3)])
    np.testing.assert_allclose(weights, [row / row.sum(), [1 / 3] * 3])


def test_exclusive_words_is_the_best_assignment():
    # Greedy by weight would give word 0 to topic 0 (0.9 > 0.8) and leave topic 1 a poor
    # word; the log-relative objective gives topic 0 its near-equal second word instead.
    weights = np.array([[0.9, 0.85, 0.01, 0.01],
                        [0.8, 0.02, 0.02, 0.01]])
    chosen = exclusive_words(weights, 1)
    np.testing.assert_array_equal(chosen, [[False, True, False, False], [True, False, False, False]])
    rng = np.random.default_rng(0)
    weights = rng.random((3, 7))
    chosen = exclusive_words(weights, 2)
    assert (chosen.sum(1) == 2).all() and chosen.sum(0).max() == 1
    relative = np.log(weights / weights.max(1, keepdims=True))
    best = max(sum(relative[k, w] for k, pair in enumerate(split) for w in pair)
               for split in itertools.product(itertools.combinations(range(7), 2), repeat=3)
               if len({w for pair in split for w in pair}) == 6)
    assert relative[chosen].sum() == pytest.approx(best)
    with pytest.raises(ParameterError, match="needs 9 words"):
        exclusive_words(weights, 3)


def test_put_first_keeps_both_orders():
    weights = np.array([[0.5, 0.3, 0.15, 0.05]])
    chosen = np.array([[False, False, True, True]])
    ranked = put_first(weights, chosen)
    assert list(np.argsort(-ranked[0])) == [2, 3, 0, 1]
    np.testing.assert_allclose(ranked.sum(1), 1.0)


def test_exclusive_words_gives_only_available_words():
    weights = np.array([[0.9, 0.85, 0.3, 0.01],
                        [0.8, 0.02, 0.5, 0.01]])
    chosen = exclusive_words(weights, 1, available=np.array([False, True, True, True]))
    np.testing.assert_array_equal(chosen, [[False, True, False, False], [False, False, True, False]])
    with pytest.raises(ParameterError, match="needs 4 words; 3 are free"):
        exclusive_words(weights, 2, available=np.array([False, True, True, True]))


def test_top_words_marks_each_rows_largest():
    np.testing.assert_array_equal(top_words(np.array([[0.1, 0.5, 0.5, 0.2]]), 2), [[False, True, True, False]])
    # ties at the cut-off go to the lower index, as topics() ranks them
    np.testing.assert_array_equal(top_words(np.array([[0.5, 0.2, 0.5, 0.5]]), 2), [[True, False, True, False]])


def test_head_and_tail_ranks_head_then_tail_then_rest(caplog):
    weights = np.array([[1.0, 0.3, 0.45, 0.25, 0.0, 0.0, 0.0],
                        [0.0, 0.2, 0.0, 0.1, 0.9, 0.5, 0.05]])
    # heads {0, 2} and {4, 5}; three words are left, so each tail shrinks to one word; the
    # log-relative assignment gives word 3 to topic 0 and word 1 to topic 1
    with caplog.at_level("INFO", logger="polytopic.models.cluster_words"):
        ranked = head_and_tail(weights, 2, 2)
    assert "each topic gets 1" in caplog.text
    assert list(np.argsort(-ranked[0], kind="stable")[:4]) == [0, 2, 3, 1]
    assert list(np.argsort(-ranked[1], kind="stable")[:5]) == [4, 5, 1, 3, 6]
    np.testing.assert_allclose(ranked.sum(1), 1.0)
    assert (ranked >= 0).all()


def test_a_tail_takes_no_word_its_topic_does_not_weigh():
    # the one free word of weight 0 is not put above the weighted ones: the head keeps its order
    weights = np.array([[1.0, 0.3, 0.45, 0.25, 0.0]])
    ranked = head_and_tail(weights, 3, 2)
    assert list(np.argsort(-ranked[0], kind="stable")) == [0, 2, 1, 3, 4]
    assert ranked[0, 4] == 0.0


def test_exclusive_topics_share_no_first_words(english_corpus, minilm_embeddings, tmp_path):
    model = ClusteringTopics(n_topics=8, word_weights="association", shared_words=0, exclusive_words=10,
                             progress=False).fit(english_corpus, embeddings=minilm_embeddings)
    first = [w for t in model.topics(top_n=10) for w in t]
    assert len(first) == len(set(first)) == 80
    loaded = ClusteringTopics.load(model.save(tmp_path / "m"))
    assert loaded.topics(top_n=12) == model.topics(top_n=12)


def test_default_lists_are_a_shared_head_and_an_exclusive_tail(english_corpus, minilm_embeddings):
    model = ClusteringTopics(n_topics=8, progress=False).fit(english_corpus, embeddings=minilm_embeddings)
    plain = ClusteringTopics(n_topics=8, exclusive_words=0, progress=False).fit(english_corpus,
                                                                              embeddings=minilm_embeddings)
    topics = model.topics(top_n=25)
    assert model.topics(top_n=8) == plain.topics(top_n=8)  # the head: plain weight order
    heads = {w for t in topics for w in t[:8]}
    tails = [w for t in topics for w in t[8:]]
    assert len(tails) == len(set(tails)) == 8 * 17 and not heads & set(tails)
    # the head is shared where topics overlap: these 400 documents do overlap
    assert len(heads) < 64


def test_exclusive_tail_shrinks_to_the_words_left(english_corpus, minilm_embeddings, caplog):
    with caplog.at_level("INFO", logger="polytopic.models.cluster_words"):
        model = ClusteringTopics(n_topics=8, exclusive_words=1000, progress=False).fit(english_corpus,
                                                                                        embeddings=minilm_embeddings)
    assert "each topic gets" in caplog.text
    tail = [w for t in model.topics(top_n=30) for w in t[8:]]
    assert len(tail) == len(set(tail))


def test_auto_samples_above_the_measured_size(english_corpus, minilm_embeddings, monkeypatch):
    def labels(kmeans):
        model = ClusteringTopics(n_topics=8, kmeans=kmeans, progress=False)
        return model.fit(english_corpus, embeddings=minilm_embeddings).labels_

    full = labels("full")
    np.testing.assert_array_equal(labels("auto"), full)  # 400 documents: below the sample size
    np.testing.assert_array_equal(labels("sampled"), full)  # a sample of all 400 is the whole corpus
    monkeypatch.setattr("polytopic.models.clustering.KMEANS_SAMPLE", 150)
    sampled = labels("sampled")
    assert (sampled != full).any()  # restarts on 150 documents, refined on all 400
    np.testing.assert_array_equal(labels("auto"), sampled)


def _chunks(corpus, embeddings, size):
    for start in range(0, len(corpus), size):
        positions = np.arange(start, min(start + size, len(corpus)))
        yield corpus.subset(positions), embeddings[positions]


def test_partial_fit_in_chunks_finds_the_planted_topics(planted):
    documents = planted(TOPICS + [["piano", "violin", "guitar", "drums"]], 90, mode="whole")
    corpus, embeddings = documents.corpus, documents.vectors()
    whole = ClusteringTopics(n_topics=3, min_df=1, progress=False).fit(corpus, embeddings=embeddings)
    streamed = ClusteringTopics(n_topics=3, min_df=1, progress=False)
    for chunk, vectors in _chunks(corpus, embeddings, 30):
        assert streamed.partial_fit(chunk, embeddings=vectors) is streamed
    assert streamed.n_chunks_ == 3 and streamed.cluster_sizes_.sum() == 90
    assert sorted(map(sorted, streamed.topics(top_n=4))) == sorted(map(sorted, whole.topics(top_n=4)))
    np.testing.assert_array_equal(streamed.transform(corpus, embeddings=embeddings).argmax(1), streamed.labels_)


def test_partial_fit_on_real_chunks_agrees_with_one_fit(english_corpus, minilm_embeddings):
    from sklearn.metrics import normalized_mutual_info_score

    whole = ClusteringTopics(n_topics=8, progress=False).fit(english_corpus, embeddings=minilm_embeddings)
    streamed = ClusteringTopics(n_topics=8, progress=False)
    for chunk, vectors in _chunks(english_corpus, minilm_embeddings, 100):
        streamed.partial_fit(chunk, embeddings=vectors)
    # the vocabulary is the first chunk's: smaller than the whole corpus's
    assert len(streamed.vocabularies_["en"]) < len(whole.vocabularies_["en"])
    # one fit against another seed's agrees at NMI 0.53-0.64 on these 400 texts, the
    # streamed clusters at 0.45-0.57 (seeds 0-2), random labels near 0.05
    clusters = streamed.transform(english_corpus, embeddings=minilm_embeddings).argmax(1)
    assert normalized_mutual_info_score(whole.labels_, clusters) > 0.35


def test_partial_fit_continues_after_a_save(english_corpus, minilm_embeddings, tmp_path):
    (first, e1), (second, e2), (third, e3) = list(_chunks(english_corpus, minilm_embeddings, 150))[:3]
    model = ClusteringTopics(n_topics=6, progress=False).partial_fit(first, embeddings=e1)
    loaded = ClusteringTopics.load(model.save(tmp_path / "m"))
    for m in (model, loaded):
        m.partial_fit(second, embeddings=e2).partial_fit(third, embeddings=e3)
    np.testing.assert_allclose(loaded.topic_word_, model.topic_word_)
    np.testing.assert_array_equal(loaded.labels_, model.labels_)
    assert ClusteringTopics(n_topics=6, progress=False).fit(first, embeddings=e1).partial_fit(
        second, embeddings=e2).n_chunks_ == 2


def test_partial_fit_refuses_what_needs_every_document(english_corpus, minilm_embeddings):
    for options in ({"clustering": "hdbscan"}, {"reduction": "pca"}):
        with pytest.raises(ParameterError, match="every document at once"):
            ClusteringTopics(n_topics=4, progress=False, **options).partial_fit(english_corpus,
                                                                                 embeddings=minilm_embeddings)
