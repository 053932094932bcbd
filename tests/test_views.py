"""The views contract: several languages and an image view through one fit/transform,
exercised by a small probe model that records what the base class hands it."""

from typing import ClassVar

import numpy as np
import pytest

from polytopic import Corpus, EncoderError, ParameterError
from polytopic.errors import ViewError
from polytopic.models.base import CORPUS_PARAMETERS, TopicModel
from polytopic.params import Anything, Interval, Optional


class ViewProbe(TopicModel):
    """θ = softmax of a fixed random projection of each view's vectors; topic-word =
    normalised random weights per language. Enough to see every input the base builds."""

    name = "view-probe"
    multilingual = True
    image_view = True
    reads_vectors = True
    transform_reads_bow = False
    _parameter_constraints: ClassVar[dict] = {
        **{k: v for k, v in CORPUS_PARAMETERS.items() if k != "language"},
        "languages": Optional(Anything()), "encoder": Anything(), "image_encoder": Anything(),
        "seed": Optional(Interval(int, 0)),
    }

    def __init__(self, n_topics=3, *, languages=None, vocabulary_size=2000, min_df=2, encoder=None,
                 image_encoder=None, seed=0):
        self.n_topics, self.languages, self.vocabulary_size, self.min_df = n_topics, languages, vocabulary_size, min_df
        self.encoder, self.image_encoder, self.seed = encoder, image_encoder, seed

    def _fit(self, views, rng, device):
        self.seen_ = views
        self.projection_ = {n: rng.normal(size=(v.vectors.shape[1], self.n_topics)) for n, v in views.items()}
        self.weights_ = {n: rng.random((self.n_topics, len(v.vocabulary))) for n, v in views.items()
                         if not v.is_image}

    def _transform(self, view):
        logits = view.vectors @ self.projection_.get(view.name, self.projection_[self.language_])
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def _topic_word(self, language):
        return self.weights_[language] / self.weights_[language].sum(1, keepdims=True)

    def _state(self):
        return {}, {f"projection.{k}": v for k, v in self.projection_.items()} | {
            f"weights.{k}": v for k, v in self.weights_.items()}

    def _restore(self, state, arrays):
        self.projection_ = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("projection.")}
        self.weights_ = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("weights.")}


@pytest.fixture(scope="module")
def tuples(aligned_corpus):
    """120 aligned items; Italian missing for every third, images for every other item."""
    corpus = aligned_corpus.subset(np.arange(120))
    texts = {lang: [t if not (lang == "it" and i % 3 == 0) else None
                    for i, t in enumerate(corpus._column(lang))] for lang in ("en", "it")}
    images = [f"icon-{i}.png" if i % 2 == 0 else None for i in range(120)]
    return Corpus(texts, ids=corpus.ids, images=images)


def vectors(n, dim, seed):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


@pytest.fixture(scope="module")
def given(tuples):
    return {"en": vectors(120, 8, 0), "it": vectors(80, 8, 1), "image": vectors(60, 5, 2)}


@pytest.fixture(scope="module")
def probe(tuples, given):
    return ViewProbe(languages=["en", "it"]).fit(tuples, embeddings=given)


def test_every_view_gets_its_items_counts_and_vectors(probe, tuples, given):
    seen = probe.seen_
    assert list(seen) == ["en", "it", "image"]
    np.testing.assert_array_equal(seen["it"].positions, [i for i in range(120) if i % 3])
    np.testing.assert_array_equal(seen["image"].positions, np.arange(0, 120, 2))
    assert seen["image"].items[:2] == ["icon-0.png", "icon-2.png"] and seen["image"].counts is None
    assert seen["it"].counts.shape == (80, len(seen["it"].vocabulary))
    assert seen["it"].vocabulary.tokenizer.language == "it"
    np.testing.assert_array_equal(seen["it"].vectors, given["it"])
    assert probe.languages_ == ("en", "it") and probe.views_ == ("en", "it", "image")
    assert probe.embedding_sizes_ == {"en": 8, "it": 8, "image": 5}


def test_topics_and_transform_per_view(probe, tuples, given):
    assert probe.topic_word(language="it").shape == (3, len(probe.vocabularies_["it"]))
    assert set(w for t in probe.topics(language="it") for w in t) <= set(probe.vocabularies_["it"].words)
    assert probe.topics() == probe.topics(language="en")
    italian = probe.transform(tuples, language="it", embeddings={"it": given["it"]})
    assert italian.shape == (80, 3)
    images = probe.transform(tuples, images=True, embeddings={"image": given["image"]})
    np.testing.assert_allclose(images, probe._transform(probe.seen_["image"]))
    with pytest.raises(ViewError, match="not both"):
        probe.transform(tuples, language="it", images=True)


def test_save_load_keeps_the_views(probe, tuples, given, tmp_path, monkeypatch):
    from polytopic.models import MODELS

    monkeypatch.setitem(MODELS, ViewProbe.name, ViewProbe)
    loaded = ViewProbe.load(probe.save(tmp_path / "probe"))
    assert loaded.views_ == probe.views_ and loaded.embedding_sizes_ == probe.embedding_sizes_
    assert loaded.topics(language="it") == probe.topics(language="it")
    np.testing.assert_array_equal(loaded.transform(tuples, images=True, embeddings=given["image"]),
                                  probe.transform(tuples, images=True, embeddings=given["image"]))


def test_bad_views(tuples, given):
    with pytest.raises(ViewError, match=r"\['xx'\]"):
        ViewProbe(languages=["en", "xx"]).fit(tuples, embeddings=given)
    with pytest.raises(ViewError, match="'de'"):
        ViewProbe(languages=["en", "it"]).fit(tuples, embeddings=given | {"de": given["en"]})
    with pytest.raises(EncoderError, match="'it' view.*shape"):
        ViewProbe(languages=["en", "it"]).fit(tuples, embeddings=given | {"it": given["en"]})
    with pytest.raises(ViewError, match="no item of the corpus has an image"):
        ViewProbe(languages=["en"]).fit(Corpus(tuples.texts("en")), embeddings={"en": given["en"]})
    with pytest.raises(ViewError, match="no encoder given for the 'it' view"):
        ViewProbe(languages=["en", "it"], encoder={"en": "all-MiniLM-L6-v2"}).fit(
            tuples, embeddings={"en": given["en"], "image": given["image"]})


def test_languages_default_to_all_of_the_corpus(tuples, given):
    assert ViewProbe().fit(tuples, embeddings=given).languages_ == ("en", "it")
    with pytest.raises(ParameterError):
        ViewProbe(n_topics=0).fit(tuples, embeddings=given)


def test_image_only_items_are_ignored_by_text_models(english_corpus, minilm_embeddings):
    """Items without a text in the model's language are not trained on (documented)."""
    from polytopic import ZeroShotTM

    texts = english_corpus.texts() + [None, None]
    corpus = Corpus({"en": texts}, images=[None] * 400 + ["a.png", "b.png"])
    model = ZeroShotTM(n_topics=3, epochs=1, progress=False).fit(corpus, embeddings=minilm_embeddings)
    assert model.transform(corpus, embeddings=minilm_embeddings).shape == (400, 3)
    with pytest.raises(ViewError, match="no image view"):
        model.transform(corpus, images=True)


def test_images_through_the_default_image_encoder(tmp_path):
    """The image view reads the items' icons through the offline image-feature encoder;
    an icon that is missing is an error naming the item and the file."""
    import shutil

    from conftest import DATA

    from polytopic.datasets import read_jsonl

    apps = read_jsonl(DATA / "apps" / "apps-60.jsonl", text_field="debian", image_field="icon")
    probe = ViewProbe(languages=["en"]).fit(apps, embeddings={"en": vectors(60, 8, 0)})
    assert probe.embedding_sizes_["image"] == probe.seen_["image"].vectors.shape[1] > 100
    np.testing.assert_allclose(np.linalg.norm(probe.seen_["image"].vectors, axis=1), 1, atol=1e-5)
    assert probe.transform(apps, images=True).shape == (60, 3)

    shutil.copytree(DATA / "apps", tmp_path / "apps")
    first_icon = tmp_path / "apps" / apps.images[0].split("/apps/", 1)[1]
    first_icon.unlink()
    broken = read_jsonl(tmp_path / "apps" / "apps-60.jsonl", text_field="debian", image_field="icon")
    with pytest.raises(EncoderError, match=f"item '{apps.ids[0]}'.*{first_icon.name}"):
        ViewProbe(languages=["en"]).fit(broken, embeddings={"en": vectors(60, 8, 0)})


def test_an_encoder_warns_about_languages_it_was_not_trained_on(hash_encoder_cls, caplog):
    """A monolingual encoder on German texts: fit and zero-shot transform both say so,
    listing what it covers; an encoder that declares nothing, or covers the language, is quiet."""
    from polytopic.encoders import MultilingualUSEEncoder, get_encoder
    from polytopic.encoders.base import covers
    from polytopic.models.ctm import ZeroShotTM

    assert covers(MultilingualUSEEncoder(), "zh-tw") and not covers(MultilingualUSEEncoder(), "fi")
    assert get_encoder().languages == {"en"} and covers(hash_encoder_cls(), "fi")
    english = hash_encoder_cls()
    english.languages = frozenset({"en"})
    corpus = Corpus([{"en": f"package tool number {i} library", "de": f"Paket Werkzeug Nummer {i}"}
                     for i in range(30)])
    model = ZeroShotTM(n_topics=2, encoder=english, epochs=1, min_df=1, progress=False)
    with caplog.at_level("WARNING", logger="polytopic"):
        model.fit(corpus, embeddings=None)
    assert not [r for r in caplog.records if "not trained on" in r.message]
    with caplog.at_level("WARNING", logger="polytopic"):
        model.transform(corpus, language="de")
    warned = [r.message for r in caplog.records if "not trained on" in r.message]
    assert len(warned) == 1 and "'de'" in warned[0] and "it covers en" in warned[0]
