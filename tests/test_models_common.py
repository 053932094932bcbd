"""The common battery: every registered model, one contract (STYLE.md, item 7)."""

import numpy as np
import pytest

from polytopic import Corpus, NotFittedError, ParameterError, load_model
from polytopic.models import MODELS

FAST = {"epochs": 5}
# Per-model overrides that keep the battery small: TopClus's paper-sized autoencoder costs
# ~13 MFLOP per token and step (its own tests check the paper's shapes).
SMALL = {"topclus": {"epochs": 2, "pretrain_epochs": 1, "encoder_sizes": (64,), "decoder_sizes": (64,),
                     "latent_size": 16}}


def make(name, **params):
    cls = MODELS[name]
    n_topics = params.pop("n_topics", 5)
    chosen = {**FAST, **SMALL.get(name, {}), "progress": False, **params}
    allowed = {k: v for k, v in chosen.items() if k in cls._parameter_constraints}
    return cls(n_topics=n_topics, **allowed)


def embeddings_for(model, minilm_embeddings):
    return minilm_embeddings if "encoder" in model.get_params() else None


@pytest.fixture(scope="module", params=sorted(MODELS))
def fitted(request, english_corpus, minilm_embeddings):
    model = make(request.param)
    emb = embeddings_for(model, minilm_embeddings)
    return model.fit(english_corpus, embeddings=emb), emb


def test_constructor_stores_params_only():
    for name, cls in MODELS.items():
        model = cls(n_topics=7)
        assert model.get_params()["n_topics"] == 7
        assert not model.is_fitted
        assert model.set_params(n_topics=3).n_topics == 3
        with pytest.raises(ParameterError, match="unknown"):
            model.set_params(no_such_param=1)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_not_fitted_errors(name, english_corpus):
    model = make(name)
    with pytest.raises(NotFittedError):
        model.transform(english_corpus)
    with pytest.raises(NotFittedError):
        model.topics()
    with pytest.raises(NotFittedError):
        model.save("never")


def test_shapes_and_distributions(fitted, english_corpus):
    model, emb = fitted
    doc_topic = model.transform(english_corpus, embeddings=emb)
    assert doc_topic.shape == (len(english_corpus), 5)
    np.testing.assert_allclose(doc_topic.sum(1), 1, atol=1e-5)
    assert (doc_topic >= 0).all()
    tw = model.topic_word
    assert tw.shape == (5, len(model.vocabularies_["en"]))
    np.testing.assert_allclose(tw.sum(1), 1, atol=1e-6)
    topics = model.topics(top_n=7)
    assert len(topics) == 5 and all(len(t) == 7 for t in topics)
    assert all(w in model.vocabularies_["en"] for t in topics for w in t)


def test_transform_is_independent_of_batch_and_order(fitted, english_corpus):
    model, emb = fitted
    full = model.transform(english_corpus, embeddings=emb)
    rows = [9, 3, 300]
    part = model.transform(english_corpus.subset(rows), embeddings=None if emb is None else emb[rows])
    np.testing.assert_allclose(part, full[rows], atol=1e-6)


def test_same_seed_same_topics(fitted, english_corpus):
    model, emb = fitted
    again = make(model.name).fit(english_corpus, embeddings=emb)
    assert again.topics() == model.topics()
    np.testing.assert_allclose(again.transform(english_corpus, embeddings=emb),
                               model.transform(english_corpus, embeddings=emb), atol=1e-6)


def test_save_load_round_trip(fitted, english_corpus, tmp_path):
    model, emb = fitted
    path = model.save(tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors", "vocabulary.json"]
    loaded = type(model).load(path)
    assert loaded.get_params() == model._saved_params() | {"progress": loaded.progress}
    assert loaded.topics() == model.topics()
    np.testing.assert_array_equal(loaded.transform(english_corpus, embeddings=emb),
                                  model.transform(english_corpus, embeddings=emb))
    assert type(load_model(path)) is type(model)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_bad_hyperparameters_are_parameter_errors(name, english_corpus):
    with pytest.raises(ParameterError, match="n_topics"):
        make(name, n_topics=0).fit(english_corpus)
    with pytest.raises(ParameterError, match="exceeds the vocabulary"):
        make(name, n_topics=50, vocabulary_size=20).fit(english_corpus)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_too_few_documents_for_k(name):
    corpus = Corpus(["apple banana cherry", "banana cherry apple", "cherry apple date"] * 1)
    with pytest.raises(ParameterError):
        make(name, n_topics=4, min_df=1).fit(corpus, embeddings=np.zeros((3, 384)) if "encoder" in MODELS[name]._parameter_constraints else None)
