"""Static (model2vec) encoders distilled on first use: static-minilm, and the distillation
pipeline on multilingual-e5-small's XLM-R vocabulary (restricted to its 3,000 most probable
pieces here: the full 250k-piece distillation takes minutes)."""

import json
from pathlib import Path

import numpy as np
import pytest

from polytopic.encoders import get_encoder, static
from polytopic.encoders.static import StaticE5Encoder, StaticMiniLMEncoder, pca, sif_weights

pytest.importorskip("model2vec")

CAT, KITTEN, COMPILER = ("a cat sleeps on the sofa", "the kitten naps on a couch",
                         "compiler for the rust programming language")


@pytest.fixture(scope="module")
def minilm():
    encoder = StaticMiniLMEncoder(cache_dir=False, progress=False)
    encoder.model_path  # noqa: B018 — distils once into the session's private cache
    return encoder


def test_shape_normalisation_and_determinism(minilm):
    vectors = minilm.encode([CAT, KITTEN, COMPILER, ""])
    assert vectors.shape == (4, 256) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-3)
    assert not vectors[3].any()  # no tokens, no vector
    again = StaticMiniLMEncoder(cache_dir=False, progress=False).encode([CAT, KITTEN, COMPILER, ""])
    np.testing.assert_array_equal(again, vectors)


def test_semantic_sanity(minilm):
    cat, kitten, compiler = minilm.encode([CAT, KITTEN, COMPILER])
    assert cat @ kitten > cat @ compiler + 0.3


def test_distilled_directory_is_reused(minilm):
    folder = minilm.model_path
    weights = (Path(folder) / "model.safetensors").stat()
    second = get_encoder("static-minilm", progress=False)
    assert second.model_path == folder
    assert (Path(folder) / "model.safetensors").stat().st_mtime_ns == weights.st_mtime_ns
    assert Path(folder).name.startswith("static-minilm-")


def test_model2vec_format_and_inference(minilm):
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    model = StaticModel.from_pretrained(minilm.model_path)
    np.testing.assert_allclose(model.encode([CAT]), minilm.encode([CAT]), atol=1e-6)
    config = json.loads((Path(minilm.model_path) / "config.json").read_text())
    assert config["hidden_dim"] == 256 and config["sif_coefficient"] == 1e-4
    # [unusedN] removed and ids renumbered; the word pieces are the source's
    source = Tokenizer.from_file(str(minilm.source / "tokenizer.json"))
    source.no_padding()
    assert model.embedding.shape[0] == source.get_vocab_size() - 994  # [unused0] … [unused993]
    text = "Tokenisation of unbelievably long words"
    assert model.tokenizer.encode(text).tokens == source.encode(text, add_special_tokens=False).tokens


def test_identity_differs_from_minilm(minilm):
    assert minilm.identity.startswith("model2vec:sha256:")
    assert minilm.identity != get_encoder(progress=False).identity
    assert minilm.dimension == 256


def test_sif_weights_by_hand():
    # n = 2: 1/r for r = 2, 3 -> p = (0.6, 0.4); w = a / (a + p)
    np.testing.assert_allclose(sif_weights(2, 0.1), [0.1 / 0.7, 0.1 / 0.5])


def test_pca_matches_scikit_learn_up_to_sign():
    from sklearn.decomposition import PCA

    data = np.random.default_rng(0).normal(size=(200, 10)) @ np.diag(np.arange(10, 0, -1.0))
    ours, theirs = pca(data, 4), PCA(4).fit_transform(data)
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), atol=1e-8)
    assert (np.abs(ours).argmax(axis=0) == np.abs(theirs).argmax(axis=0)).all()
    assert (ours[np.abs(ours).argmax(axis=0), np.arange(4)] > 0).all()


def test_e5_vocabulary_distils(monkeypatch, tmp_path):
    from model2vec import StaticModel

    from polytopic.encoders.e5 import converted_model_dir

    monkeypatch.setattr(static, "_vocabulary", lambda tokenizer, pattern: list(range(3000)))
    folder = static.distilled_model_dir(converted_model_dir(), "static-e5", tmp_path, progress=False)
    model = StaticModel.from_pretrained(folder)
    assert model.embedding.shape == (3000, 256)
    ids = model.tokenize(["die Katze"])[0]
    assert ids and max(ids) < 3000  # Unigram restricted and renumbered, "▁" prepended
    assert model.tokenizer.encode("die").tokens == ["▁die"]


def test_static_e5_is_registered():
    encoder = get_encoder("static-e5", progress=False)
    assert isinstance(encoder, StaticE5Encoder) and encoder.name == "static-e5"
