"""TCCTM (Mueller & Dredze 2021, §3.4): CombinedTM + λ · NLL of a topic-classification
head on the inference network's hidden representation."""

import json

import numpy as np
import pytest

from polytopic import TCCTM, CombinedTM, Corpus, CorpusError, ParameterError, load_model

FAST = {"n_topics": 5, "progress": False}
LDA_LABELS = {"label_grid": (5, 10, 20), "label_iterations": 50}


@pytest.fixture(scope="module")
def lda_labelled(english_corpus, minilm_embeddings):
    """A TCCTM on LDA topic labels, trained long enough for its head to learn them."""
    return TCCTM(epochs=40, **LDA_LABELS, **FAST).fit(english_corpus, embeddings=minilm_embeddings)


def accuracy(model, corpus, embeddings):
    return (model.predict_labels(corpus, embeddings=embeddings) == model.training_labels_).mean()


def test_the_head_learns_the_lda_topic_labels(lda_labelled, english_corpus, minilm_embeddings):
    model = lda_labelled
    chosen = model.label_source_["chosen"]
    assert model.label_source_["method"] == "lda" and chosen in LDA_LABELS["label_grid"]
    assert model.label_names_ == [f"topic {k}" for k in range(chosen)] + ["no topic"]
    assert model.n_dropped_ == 0 and model.training_labels_.shape == (400,)
    majority = np.bincount(model.training_labels_).max() / 400
    untrained = TCCTM(epochs=40, label_weight=0.0, **LDA_LABELS, **FAST).fit(english_corpus,
                                                                               embeddings=minilm_embeddings)
    np.testing.assert_array_equal(untrained.training_labels_, model.training_labels_)
    # measured: 0.53 against a majority class of 0.32 and 0.09 for the head trained with λ = 0
    # (0.67, 0.32 and 0.16 with stopwordsiso's English list)
    assert accuracy(model, english_corpus, minilm_embeddings) > majority + 0.15
    assert accuracy(model, english_corpus, minilm_embeddings) > accuracy(untrained, english_corpus,
                                                                         minilm_embeddings) + 0.25


def test_zero_weight_trains_exactly_the_combined_tm(english_corpus, minilm_embeddings):
    params = {"epochs": 4, "validation_split": 0.2, **FAST}
    combined = CombinedTM(**params).fit(english_corpus, embeddings=minilm_embeddings)
    tcctm = TCCTM(label_weight=0.0, label_field="section", **params).fit(english_corpus, embeddings=minilm_embeddings)
    assert tcctm.training_.train_loss == combined.training_.train_loss
    assert tcctm.training_.validation_loss == combined.training_.validation_loss
    np.testing.assert_array_equal(tcctm.transform(english_corpus, embeddings=minilm_embeddings),
                                  combined.transform(english_corpus, embeddings=minilm_embeddings))
    weighted = TCCTM(label_field="section", **params).fit(english_corpus, embeddings=minilm_embeddings)
    assert weighted.training_.train_loss[0] > combined.training_.train_loss[0]  # λ·NLL > 0 is added


def test_labels_from_a_field(english_corpus, minilm_embeddings):
    model = TCCTM(label_field="section", epochs=2, **FAST).fit(english_corpus, embeddings=minilm_embeddings)
    sections = english_corpus.labels["section"]
    assert model.label_names_ == sorted(set(sections))
    assert [model.label_names_[k] for k in model.training_labels_] == sections
    assert model.label_source_ == {"method": "field", "field": "section"}


def test_missing_labels_are_refused_with_their_count_and_ids(english_corpus):
    sections = list(english_corpus.labels["section"])
    for i in (3, 40, 41):
        sections[i] = None if i != 40 else " "
    corpus = Corpus(english_corpus.texts(), ids=english_corpus.ids, labels={"section": sections})
    ids = ", ".join(english_corpus.ids[i] for i in (3, 40, 41))
    with pytest.raises(ParameterError, match=f"'section' is missing from 3 of 400 'en' documents \\(ids {ids}\\)"):
        TCCTM(label_field="section", epochs=1, **FAST).fit(corpus, embeddings=np.zeros((400, 8)))


def test_one_class_lists_and_unknown_fields_are_refused(english_corpus):
    texts, zeros = english_corpus.texts(), np.zeros((400, 8))
    one = Corpus(texts, labels={"section": ["devel"] * 400})
    with pytest.raises(ParameterError, match="every training document has the label 'devel'"):
        TCCTM(label_field="section", epochs=1, **FAST).fit(one, embeddings=zeros)
    tags = Corpus(texts, labels={"tags": [["role::program"]] * 400})
    with pytest.raises(ParameterError, match="'tags' holds lists"):
        TCCTM(label_field="tags", epochs=1, **FAST).fit(tags, embeddings=zeros)
    with pytest.raises(CorpusError, match="no label field 'topic'"):
        TCCTM(label_field="topic", epochs=1, **FAST).fit(one, embeddings=zeros)
    with pytest.raises(ParameterError, match="label_field"):
        TCCTM(label_field=3, epochs=1, **FAST).fit(one, embeddings=zeros)
    with pytest.raises(ParameterError, match=r"label_grid: .*\[500\]"):
        TCCTM(label_grid=(5, 500), epochs=1, **FAST).fit(one, embeddings=zeros)


def test_save_load_keeps_the_head_and_its_labels(lda_labelled, english_corpus, minilm_embeddings, tmp_path):
    model = lda_labelled
    loaded = load_model(model.save(tmp_path / "tcctm"))
    assert type(loaded) is TCCTM
    assert (loaded.label_names_, loaded.label_source_) == (model.label_names_, model.label_source_)
    np.testing.assert_array_equal(loaded.training_labels_, model.training_labels_)
    np.testing.assert_array_equal(loaded.transform(english_corpus, embeddings=minilm_embeddings),
                                  model.transform(english_corpus, embeddings=minilm_embeddings))
    np.testing.assert_array_equal(loaded.predict_labels(english_corpus, embeddings=minilm_embeddings),
                                  model.predict_labels(english_corpus, embeddings=minilm_embeddings))
    config = json.loads((tmp_path / "tcctm" / "config.json").read_text())
    assert config["params"]["label_grid"] == [5, 10, 20]
    assert config["state"]["labels"]["source"]["scores"].keys() == {"5", "10", "20"}
