import numpy as np
import pytest
import torch

from polytopic import Corpus, EncoderError, ParameterError
from polytopic.encoders.tokens import TokenEncoder
from polytopic.models import TopClus
from polytopic.models.topclus_network import segment_softmax, sharpened_target

SMALL = {"latent_size": 8, "encoder_sizes": (32,), "decoder_sizes": (32,), "epochs": 8, "pretrain_epochs": 1,
         "batch_size": 8, "min_df": 1, "progress": False}
FRUIT = ["apple", "banana", "cherry", "grape", "melon", "orange"]
KERNEL = ["linux", "kernel", "driver", "module", "boot", "firmware"]


def planted_corpus(n_docs=48, seed=0):
    rng = np.random.default_rng(seed)
    return Corpus([" ".join(rng.choice([FRUIT, KERNEL][i % 2], 8)) for i in range(n_docs)])


@pytest.fixture(scope="module")
def topclus():
    return TopClus(n_topics=2, **SMALL).fit(planted_corpus())


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


def test_planted_topics_and_documents(topclus):
    assert sorted(sorted(t) for t in topclus.topics(top_n=6)) == [sorted(FRUIT), sorted(KERNEL)]
    doc_topic = topclus.transform(planted_corpus(20, seed=1))
    np.testing.assert_allclose(doc_topic.sum(1), 1, atol=1e-6)
    assert len(set(doc_topic.argmax(1)[0::2])) == 1 and len(set(doc_topic.argmax(1)[1::2])) == 1
    assert doc_topic.argmax(1)[0] != doc_topic.argmax(1)[1]
    latent = topclus.document_embeddings(["a kernel driver", "a text without known words"])
    np.testing.assert_allclose(np.linalg.norm(latent, axis=1), 1, atol=1e-5)
    assert topclus.timings_["embedding_tokens_per_second"] > 0 and topclus.n_tokens_ == 48 * 8


def test_rare_words_are_dropped():
    corpus = Corpus([t + (" zebra" if i < 4 else "") for i, t in enumerate(planted_corpus().texts())])
    model = TopClus(n_topics=2, **(SMALL | {"epochs": 1})).fit(corpus)
    assert "zebra" not in model.vocabularies_["en"]  # 4 < min_count = 5 (Appendix C)


def test_save_load_and_encoder_mismatch(topclus, tmp_path):
    loaded = TopClus.load(topclus.save(tmp_path / "topclus"))
    corpus = planted_corpus(10, seed=2)
    np.testing.assert_array_equal(loaded.transform(corpus), topclus.transform(corpus))
    assert loaded.topics() == topclus.topics()
    loaded.encoder = TokenEncoder(window=64, progress=False)
    with pytest.raises(EncoderError, match="another encoder"):
        loaded.transform(corpus)


def test_too_many_topics():
    with pytest.raises(ParameterError, match="exceeds the 'en' vocabulary"):
        TopClus(n_topics=13, **SMALL).fit(planted_corpus())


def test_transform_is_independent_of_batch_and_order(topclus):
    corpus = planted_corpus(12, seed=3)
    full = topclus.transform(corpus)
    np.testing.assert_allclose(topclus.transform(corpus.subset([7, 2])), full[[7, 2]], atol=1e-6)


def test_same_seed_same_model():
    fits = [TopClus(n_topics=2, **(SMALL | {"epochs": 2})).fit(planted_corpus(24)) for _ in range(2)]
    assert fits[0].topics() == fits[1].topics()
    np.testing.assert_array_equal(fits[0].topic_word(), fits[1].topic_word())


def test_defaults_are_the_papers():
    from polytopic.models.topclus_network import TopClusNetwork

    params = TopClus().get_params()  # Appendix C
    assert (params["latent_size"], params["kappa"], params["clustering_weight"], params["learning_rate"],
            params["batch_size"], params["epochs"], params["min_count"]) == (100, 10.0, 0.1, 5e-4, 32, 20, 5)
    network = TopClusNetwork(384, 5)
    assert [m.out_features for m in network.f if hasattr(m, "out_features")] == [500, 500, 1000, 100]
    assert [m.out_features for m in network.g if hasattr(m, "out_features")] == [1000, 500, 500, 384]
