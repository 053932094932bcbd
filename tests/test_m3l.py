"""M3L-Contrast: aligned topics across languages and images (Zosa & Pivovarova 2022)."""

import numpy as np
import pytest
import torch
from conftest import DATA

from polytopic import Corpus
from polytopic.errors import ViewError
from polytopic.metrics import alignment
from polytopic.models.m3l import M3LContrast
from polytopic.models.m3l_network import gaussian_kl, info_nce


def test_gaussian_kl_matches_torch_distributions():
    rng = torch.Generator().manual_seed(0)
    mean_a, mean_b, lv_a, lv_b = (torch.randn(4, 3, generator=rng) for _ in range(4))
    normal = lambda m, lv: torch.distributions.Normal(m, (0.5 * lv).exp())  # noqa: E731
    expected = torch.distributions.kl_divergence(normal(mean_a, lv_a), normal(mean_b, lv_b)).sum(1)
    torch.testing.assert_close(gaussian_kl(mean_a, lv_a, mean_b, lv_b), expected)
    assert torch.allclose(gaussian_kl(mean_a, lv_a, mean_a, lv_a), torch.zeros(4), atol=1e-6)


def test_info_nce_by_hand():
    """Two tuples, one-hot θ: the positive scores 1/τ, the negative 0. Each direction is
    −log(e^{1/τ} / (e^{1/τ} + 1)) = log(1 + e^{−1/τ}); with τ = 1: log(1 + 1/e) = 0.3133."""
    theta = torch.eye(2)
    np.testing.assert_allclose(info_nce(theta, theta, 1.0, cosine=False).numpy(), [2 * 0.31326169] * 2, rtol=1e-6)
    swapped = info_nce(theta, theta.flip(0), 1.0, cosine=False)  # positives now score 0
    assert (swapped > info_nce(theta, theta, 1.0, cosine=False)).all()


@pytest.fixture(scope="module")
def bilingual(use_vectors):
    corpus, english, german = use_vectors
    model = M3LContrast(n_topics=10, languages=["en", "de"], vocabulary_size=500, progress=False)
    return model.fit(corpus, embeddings={"en": english, "de": german}), corpus, english, german


def test_languages_share_one_topic_space(bilingual):
    model, corpus, english, german = bilingual
    en = model.transform(corpus, language="en", embeddings=english)
    de = model.transform(corpus, language="de", embeddings=german)
    scores = alignment(en, de)
    # measured with the dot product: Match 0.61 (shuffled 0.17), KL 0.061 (shuffled 0.33); at 40 epochs the
    # contrastive term still held θ near uniform (Match 0.16)
    assert scores.match > 0.45 and scores.match > 2.5 * scores.match_random and scores.kl < scores.kl_random / 3
    assert model.languages_ == ("en", "de") and model.views_ == ("en", "de")
    german_words = set(model.vocabularies_["de"].words)
    assert all(w in german_words for t in model.topics(language="de") for w in t)
    assert model.topic_word(language="de").shape == (10, len(german_words))


def test_save_load_round_trip(bilingual, tmp_path):
    from polytopic import load_model

    model, corpus, english, german = bilingual
    loaded = load_model(model.save(tmp_path / "m3l"))
    assert loaded.topics(language="de") == model.topics(language="de")
    np.testing.assert_array_equal(loaded.transform(corpus, language="de", embeddings=german),
                                  model.transform(corpus, language="de", embeddings=german))
    with pytest.raises(ViewError, match="'fr'"):
        loaded.transform(corpus, language="fr")


def test_missing_members_and_the_alternatives_of_eq_1(use_vectors):
    """Tuples without a German text are trained on with their English one; prior_kl=False
    (Eq. 1 to the letter) and cosine scores train too."""
    corpus, english, german = use_vectors
    keep_de = np.arange(200) % 3 != 0
    texts = {"en": corpus.texts("en"), "de": [t if k else None for t, k in zip(corpus.texts("de"), keep_de)]}
    partial = Corpus(texts, ids=corpus.ids)
    for options in ({}, {"prior_kl": False, "similarity": "cosine"}):
        model = M3LContrast(n_topics=5, epochs=3, vocabulary_size=300, progress=False, **options)
        model.fit(partial, embeddings={"en": english, "de": german[keep_de]})
        assert model.languages_ == ("en", "de")
        assert model.transform(partial, language="de", embeddings=german[keep_de]).shape == (keep_de.sum(), 5)
        assert np.isfinite(model.training_.train_loss).all()


def test_images_are_a_view_of_their_own(tmp_path):
    from polytopic.datasets import read_jsonl

    apps = read_jsonl(DATA / "apps" / "apps-60.jsonl", text_field="debian", image_field="icon")
    rng = np.random.default_rng(0)
    model = M3LContrast(n_topics=4, languages=["en"], epochs=3, progress=False)
    model.fit(apps, embeddings={"en": rng.normal(size=(60, 16)).astype(np.float32)})
    assert model.views_ == ("en", "image")
    assert model.transform(apps, images=True).shape == (60, 4)  # icons through the default image features
    assert model.embedding_sizes_["image"] > 100


def test_unaligned_encoders_are_aligned_by_training(use_vectors, minilm_embeddings):
    """English through MiniLM (384-d), German through USE (512-d): two unrelated spaces
    that only the KL and InfoNCE terms tie together (the paper's unaligned setting, §6)."""
    corpus, _, german = use_vectors
    english = minilm_embeddings[:200]
    model = M3LContrast(n_topics=10, languages=["en", "de"], vocabulary_size=500, progress=False)
    model.fit(corpus, embeddings={"en": english, "de": german})
    assert model.embedding_sizes_ == {"en": 384, "de": 512}
    scores = alignment(model.transform(corpus, language="en", embeddings=english),
                       model.transform(corpus, language="de", embeddings=german))
    # measured with the dot product: Match 0.635 (shuffled 0.12), KL 0.079 (shuffled 0.36)
    assert scores.match > 2 * scores.match_random and scores.kl < scores.kl_random / 2
