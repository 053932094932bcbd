"""Model files of earlier formats load and give the same results.

format1/: dense first layer (written by the commit before the sparse layer, adce521).
format2/: one language, no views (written by 4fa4e6d's model code, before the views).
The VAEs' expected values are softmax(μ) — θ at the posterior mean — because sampled θ
changed on purpose with per-document noise; LDA and clustering are deterministic.
"""

import json

import numpy as np
import pytest
from conftest import DATA

from polytopic import load_model
from polytopic.datasets import read_jsonl
from polytopic.models import ClusteringTopics


@pytest.fixture(scope="module")
def corpus():
    return read_jsonl(DATA / "debian-aligned-400.jsonl.gz").subset(np.arange(120))


@pytest.mark.parametrize("folder,name", [("format1", "prodlda"), ("format1", "combined"), ("format2", "prodlda"),
                                         ("format2", "combined"), ("format2", "zeroshot")])
def test_vae_files_load_and_infer_alike(folder, name, corpus):
    old = DATA / folder
    model = load_model(old / name).set_params(posterior="mean")
    assert model.languages_ == ("en",) and model.views_ == ("en",)
    embeddings = np.load(old / "embeddings.npy") if model.reads_vectors else None
    got = model.transform(corpus, embeddings=embeddings)
    np.testing.assert_allclose(got, np.load(old / f"{name}-mean.npy"), atol=1e-6)
    if name == "combined":
        assert model.adapt_embedding is True and model.embedding_sizes_ == {"en": embeddings.shape[1]}


@pytest.mark.parametrize("name", ["lda", "clustering"])
def test_format_2_baselines_load_and_transform_alike(name, corpus):
    old = DATA / "format2"
    model = load_model(old / name)
    embeddings = np.load(old / "embeddings.npy") if model.reads_vectors else None
    np.testing.assert_allclose(model.transform(corpus, embeddings=embeddings), np.load(old / f"{name}-transform.npy"),
                               atol=1e-9)


def test_parameters_added_later_keep_what_the_file_was_fitted_with():
    """A clustering model saved before ``word_weights`` existed was fitted with c-TF-IDF
    (and with the PCA reduction it recorded): a refit from its loaded parameters must use
    them, not the new defaults."""
    model = load_model(DATA / "format2" / "clustering")
    assert model.get_params()["word_weights"] == "ctfidf" and model.get_params()["exclusive_words"] == 0
    assert model.get_params()["reduction"] == "pca"
    assert ClusteringTopics().get_params()["word_weights"] == "association"


def test_clustering_saved_before_shared_words_keeps_every_word_exclusive(english_corpus, minilm_embeddings, tmp_path):
    """A file written when ``exclusive_words`` made every listed word exclusive (no
    ``shared_words`` yet) loads, and refits, with no shared head."""
    model = ClusteringTopics(n_topics=6, shared_words=0, exclusive_words=5, progress=False).fit(
        english_corpus, embeddings=minilm_embeddings)
    path = model.save(tmp_path / "old")
    config = json.loads((path / "config.json").read_text())
    del config["params"]["shared_words"]
    (path / "config.json").write_text(json.dumps(config))
    loaded = load_model(path)
    assert loaded.get_params()["shared_words"] == 0 and loaded.topics(top_n=5) == model.topics(top_n=5)
    refit = ClusteringTopics(**loaded.get_params()).fit(english_corpus, embeddings=minilm_embeddings)
    assert refit.topics(top_n=10) == model.topics(top_n=10)
