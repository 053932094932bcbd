"""The common battery: every registered model, one contract (STYLE.md, item 7; the model
is scikit-learn's ``check_estimator``)."""

import inspect

import numpy as np
import pytest

from polytopic import Corpus, EncoderError, NotFittedError, ParameterError, load_model
from polytopic.errors import ViewError
from polytopic.models import MODELS
from polytopic.params import Anything, Interval, OneOf, Optional, Sizes

FAST = {"epochs": 5}
# Per-model overrides that keep the battery small: TopClus's paper-sized autoencoder costs
# ~13 MFLOP per token and step (its own tests check the paper's shapes).
SMALL = {"topclus": {"epochs": 2, "pretrain_epochs": 1, "encoder_sizes": (64,), "decoder_sizes": (64,),
                     "latent_size": 16},
         "lda": {"iterations": 50},
         "tcctm": {"label_grid": (5, 10), "label_iterations": 50}}


#: Models that learn from their corpus alone (a distillation student needs a fitted teacher
#: and a corpus with the teacher's language: tests/test_distillation.py covers it).
ALONE = sorted(name for name, cls in MODELS.items() if not cls.takes_teacher)


def make(name, **params):
    cls = MODELS[name]
    n_topics = params.pop("n_topics", 5)
    chosen = {**FAST, **SMALL.get(name, {}), "progress": False, **params}
    allowed = {k: v for k, v in chosen.items() if k in cls._parameter_constraints}
    return cls(n_topics=n_topics, **allowed)


def embeddings_for(model, minilm_embeddings):
    return minilm_embeddings if model.reads_vectors else None


def invalid_values(constraint):
    """Values that ``constraint`` must refuse (none for Anything)."""
    if isinstance(constraint, Optional):
        return invalid_values(constraint.inner)
    if isinstance(constraint, Interval):
        bad = ["seven", True]
        if constraint.low is not None:
            bad.append(constraint.low - 1)
        if constraint.high is not None:
            bad.append(constraint.high + 1)
        return bad
    if isinstance(constraint, OneOf):
        return ["no-such-choice"]
    if isinstance(constraint, Sizes):
        return [[], [0], "100"]
    assert isinstance(constraint, Anything), constraint
    return []


@pytest.fixture(scope="module", params=ALONE)
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
def test_every_constraint_refuses_a_bad_value(name, english_corpus):
    cls = MODELS[name]
    checked = 0
    for param, constraint in cls._parameter_constraints.items():
        for value in invalid_values(constraint):
            model = make(name).set_params(**{param: value})
            with pytest.raises(ParameterError, match=param):
                model.fit(english_corpus)
            checked += 1
    free = [c for c in cls._parameter_constraints.values() if not invalid_values(c)]
    # the free ones: encoders, device, language(s), teacher
    assert checked >= len(cls._parameter_constraints) - len(free) and len(free) <= 5


def constructor_arguments(cls) -> set[str]:
    """The keyword arguments ``cls(...)`` accepts, read from the signatures: a constructor
    that passes ``**params`` on accepts its parent's too."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in parameters if p.name != "self" and p.kind is not p.VAR_KEYWORD}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            return names
    raise AssertionError(f"{cls.__name__}'s constructors pass **params to object")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_get_params_is_what_the_constructor_takes(name):
    """Every constructor argument is a parameter (in get_params, set_params and the saved
    configuration) and every parameter a constructor argument."""
    cls = MODELS[name]
    assert constructor_arguments(cls) == set(cls.parameter_names())
    defaults = cls(n_topics=3).get_params()
    assert list(defaults) == list(cls.parameter_names())
    assert cls(**defaults).get_params() == defaults
    assert cls(n_topics=3).set_params(**defaults).get_params() == defaults
    assert set(cls(n_topics=3).saved_params()) == set(defaults)


def test_a_parameter_a_model_does_not_have_is_refused():
    """ETM has no sampled posterior: its constructor refuses the VAEs' n_samples rather than
    storing a value that get_params, set_params and the saved file would not know."""
    from polytopic.models import ETM

    with pytest.raises(TypeError, match="n_samples"):
        ETM(n_samples=5)


def test_seed_none_fits_with_a_fresh_seed_it_keeps(english_corpus, tmp_path):
    """seed=None: each fit draws a seed, kept as seed_ (and saved), which repeats the fit."""
    first, second = (make("prodlda", seed=None).fit(english_corpus) for _ in range(2))
    assert first.get_params()["seed"] is None and first.seed_ != second.seed_
    again = make("prodlda", seed=first.seed_).fit(english_corpus)
    assert again.topics() == first.topics()
    np.testing.assert_array_equal(again.transform(english_corpus), first.transform(english_corpus))
    loaded = load_model(first.save(tmp_path / "model"))
    assert loaded.seed_ == first.seed_
    np.testing.assert_array_equal(loaded.transform(english_corpus), first.transform(english_corpus))


def test_fit_leaves_no_private_side_channel(fitted):
    """What a fit leaves on the model is its parameters, learned attributes (ending in _)
    and the cache of the encoders its parameters name."""
    model, _ = fitted
    private = {name for name in vars(model) if name.startswith("_")}
    assert private <= {"_encoders"}
    unlearned = {name for name in vars(model) if not name.startswith("_") and not name.endswith("_")}
    assert unlearned == set(model.parameter_names())
    assert model.get_params() == make(model.name).get_params()  # fitting changed no parameter


def test_root_package_exports_every_registered_model():
    import polytopic

    for name, cls in MODELS.items():
        assert getattr(polytopic, cls.__name__) is cls and cls.__name__ in polytopic.__all__, name
    from polytopic import PLTM, M3LContrast, ZeroShotKD  # noqa: F401  (the names users import)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_not_fitted_errors(name, english_corpus):
    model = make(name)
    with pytest.raises(NotFittedError):
        model.transform(english_corpus)
    with pytest.raises(NotFittedError):
        model.topics()
    with pytest.raises(NotFittedError):
        model.topic_word()
    with pytest.raises(NotFittedError):
        model.save("never")


def test_shapes_and_distributions(fitted, english_corpus):
    model, emb = fitted
    doc_topic = model.transform(english_corpus, embeddings=emb)
    assert doc_topic.shape == (len(english_corpus), 5)
    np.testing.assert_allclose(doc_topic.sum(1), 1, atol=1e-5)
    assert (doc_topic >= 0).all()
    tw = model.topic_word()
    assert tw.shape == (5, len(model.vocabularies_["en"]))
    np.testing.assert_allclose(tw.sum(1), 1, atol=1e-6)
    np.testing.assert_array_equal(model.topic_word(language="en"), tw)
    topics = model.topics(top_n=7)
    assert len(topics) == 5 and all(len(t) == 7 for t in topics)
    assert all(w in model.vocabularies_["en"] for t in topics for w in t)
    assert model.languages_ == ("en",) and model.language_ == "en" and model.views_ == ("en",)


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


def test_refit_equals_a_fresh_fit(fitted, english_corpus, minilm_embeddings):
    """A fitted model fitted again on other data keeps nothing of the first fit."""
    model, emb = fitted
    rows = np.arange(0, 400, 2)
    other = english_corpus.subset(rows)
    other_emb = None if emb is None else emb[rows]
    refit = make(model.name).fit(english_corpus, embeddings=emb).fit(other, embeddings=other_emb)
    fresh = make(model.name).fit(other, embeddings=other_emb)
    assert refit.topics() == fresh.topics()
    assert refit.vocabularies_["en"].words == fresh.vocabularies_["en"].words
    np.testing.assert_allclose(refit.transform(other, embeddings=other_emb),
                               fresh.transform(other, embeddings=other_emb), atol=1e-6)


def test_save_load_round_trip(fitted, english_corpus, tmp_path):
    model, emb = fitted
    path = model.save(tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors", "vocabulary.json"]
    loaded = type(model).load(path)
    assert loaded.get_params() == model.saved_params() | {"progress": loaded.progress}
    assert (loaded.languages_, loaded.views_, loaded.n_dropped_) == (model.languages_, model.views_, model.n_dropped_)
    assert loaded.topics() == model.topics()
    np.testing.assert_array_equal(loaded.transform(english_corpus, embeddings=emb),
                                  model.transform(english_corpus, embeddings=emb))
    assert type(load_model(path)) is type(model)


def test_unknown_language_and_image_view_are_view_errors(fitted, english_corpus):
    model, emb = fitted
    with pytest.raises(ViewError, match="image"):
        model.transform(english_corpus, images=True)
    if model.transform_reads_bow:
        with pytest.raises(ViewError, match="'de'"):
            model.transform(["ein deutscher Text über Pakete"], language="de")
    with pytest.raises(ViewError, match="'de'"):
        make(model.name, language="de", languages=["de"]).fit(english_corpus, embeddings=emb)
    with pytest.raises(ViewError, match="'de'"):
        model.topics(language="de")


def test_bad_embeddings_are_encoder_or_view_errors(fitted, english_corpus):
    model, emb = fitted
    if not model.reads_vectors:
        pytest.skip(f"{model.name} reads no sentence vectors")
    bad = emb.copy()
    bad[3, 0] = np.nan
    with pytest.raises(EncoderError, match="NaN"):
        make(model.name).fit(english_corpus, embeddings=bad)
    with pytest.raises(EncoderError, match="shape"):
        make(model.name).fit(english_corpus, embeddings=emb[:-1])
    with pytest.raises(EncoderError, match="dimension"):
        model.transform(english_corpus, embeddings=emb[:, :10])
    with pytest.raises(ViewError, match="'image'"):
        make(model.name).fit(english_corpus, embeddings={"en": emb, "image": emb})


@pytest.mark.parametrize("name", ALONE)
def test_bad_hyperparameters_are_parameter_errors(name, english_corpus):
    with pytest.raises(ParameterError, match="n_topics"):
        make(name, n_topics=0).fit(english_corpus)
    with pytest.raises(ParameterError, match="exceeds the 'en' vocabulary"):
        make(name, n_topics=50, vocabulary_size=20).fit(english_corpus)


@pytest.mark.parametrize("name", ALONE)
def test_too_few_documents_for_k(name):
    """Three documents, a vocabulary of 12 words: K = 4 fails on the documents, not the words."""
    corpus = Corpus(["apple banana cherry date", "elder fig grape honeydew", "kiwi lemon mango nectarine"])
    emb = np.zeros((3, 384)) if MODELS[name].reads_vectors else None
    with pytest.raises(ParameterError, match="3 usable 'en' documents cannot support 4 topics"):
        make(name, n_topics=4, min_df=1, min_count=1).fit(corpus, embeddings=emb)


def test_every_model_has_a_report(fitted, english_corpus, tmp_path):
    """The HTML report reads only the contract and the run's files, so any model has one."""
    import json

    from polytopic.report.data import gather
    from polytopic.report.html import render
    from polytopic.runs import Run, write_run

    model, _ = fitted
    declared = model.get_params().get("encoder")
    if model.reads_vectors and declared is not None:  # fitted on MiniLM's vectors: say so, as a run would
        model.set_params(encoder="all-MiniLM-L6-v2")
    corpus = tmp_path / "english.jsonl"
    corpus.write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                              for i, t in zip(english_corpus.ids, english_corpus.texts())), encoding="utf-8")
    (tmp_path / "run").mkdir()
    try:
        write_run(tmp_path / "run", model, corpus=str(corpus), n_documents=len(english_corpus), fit_seconds=1.0)
    finally:
        if declared is not None:
            model.set_params(encoder=declared)
    report = gather(Run.open(tmp_path / "run"), map_documents=40)
    assert [t.words["en"] for t in report.topics] == model.topics(top_n=10)
    assert sum(t.share for t in report.topics) == pytest.approx(1.0, abs=1e-4)
    assert report.document_map.x.size == 40
    page = render([report])
    assert all(" ".join(t.words["en"]) in page for t in report.topics)


@pytest.fixture(scope="module")
def narrow_bert(tmp_path_factory):
    """A second token encoder, 32-d: a one-layer BERT (seeded weights) with the packaged
    MiniLM's tokenizer, saved as any local model directory is."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from polytopic.encoders.sentence import PACKAGED_MINILM, resolve_model_path

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(PACKAGED_MINILM))
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("narrow-bert")
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.mark.parametrize("name", ["etm", "topclus"])
def test_refit_after_set_params_encoder_reads_the_new_encoder(name, narrow_bert, english_corpus):
    """The encoders a model resolves are keyed on the parameter they come from, so a
    refit after set_params(encoder=...) reads the new one (a 32-d encoder after MiniLM's 384)."""
    from polytopic.encoders.tokens import TokenEncoder

    corpus = english_corpus.subset(np.arange(80))
    model = make(name, n_topics=3).fit(corpus)
    model.set_params(encoder=narrow_bert).fit(corpus)
    narrow = TokenEncoder(narrow_bert, progress=False)
    if name == "etm":
        rho = model.network_.decoder.word_vectors.numpy()
        raw = narrow.static_word_vectors(model.vocabularies_["en"].words)
        assert model.word_dimension_ == 32
        np.testing.assert_allclose(rho, raw / raw.std(), rtol=1e-5)
    else:
        assert model.encoder_identity_ == narrow.identity
    assert model.transform(corpus).shape == (80, 3)
