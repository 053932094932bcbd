"""Cross-lingual and cross-view evaluation (evaluate_aligned): known answers on a stand-in
model, aligned topics of M3L-Contrast against their shuffled baselines, zero-shot transfer,
the confusion figures and the errors."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest
from conftest import DATA

from polytopic import Corpus
from polytopic.errors import CorpusError, ParameterError, ViewError, install_hint
from polytopic.evaluation import comparison_rows, confusion_figures, format_table
from polytopic.evaluation.aligned import confusion_matrix, evaluate_aligned, pair_scores
from polytopic.evaluation.tables import alignment_rows
from polytopic.metrics import alignment, js_divergence, mrr, shared_category_relevance, uap
from polytopic.runs import Run

CORPUS = DATA / "debian-aligned-400.jsonl.gz"


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The networks here are tiny: one thread. (On a busy 2-core machine two threads spin
    against other processes: the M3L fit below took 70 s instead of 2 s.)"""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class SameOnEveryView:
    """A stand-in fitted model that gives an item the same distribution in every view (its
    texts in any language, its image): a Dirichlet draw chosen by the item's id."""

    name, n_topics, languages_, vocabularies_ = "stub", 4, ("en", "it"), {}

    def __init__(self, ids):
        rows = np.random.default_rng(1).dirichlet(np.full(self.n_topics, 0.5), size=len(ids))
        self.rows = dict(zip(ids, rows))

    def transform(self, corpus, *, language=None, images=False):
        positions = corpus.image_indices() if images else corpus.indices(language)
        return np.array([self.rows[corpus.ids[i]] for i in positions])


@pytest.fixture(scope="module")
def small():
    """Six items; the third has no Italian text, the fifth no image."""
    texts = {"en": ["one", "two", "three", "four", "five", "six"],
             "it": ["uno", "due", None, "quattro", "cinque", "sei"]}
    images = ["a.png", "b.png", "c.png", "d.png", None, "f.png"]
    return Corpus(texts, ids=list("abcdef"), images=images)


def test_confusion_matrix_and_pair_scores_by_hand():
    source = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]]  # argmax 0, 1, 2
    target = [[0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.5, 0.1, 0.4]]  # argmax 0, 1, 0
    counts = confusion_matrix(source, target)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    scores = pair_scores(source, target, seed=3)
    assert scores["n_pairs"] == 3 and scores["confusion"] == counts.tolist()
    assert scores["match"] == pytest.approx(2 / 3) == np.trace(counts) / counts.sum()
    # KL of the first pair: .7 ln(.7/.6) + .2 ln(.2/.3) + .1 ln 1 = 0.107906 - 0.081093 = 0.026813
    first = pair_scores(source[:1], target[:1])
    assert first["kl"] == pytest.approx(0.026813, abs=1e-6) and first["mrr"] == 1.0
    # the baselines shuffle the source rows with alignment()'s permutation
    shuffled = np.asarray(source)[np.random.default_rng(3).permutation(3)]
    assert scores["match_random"] == alignment(source, target, seed=3).match_random
    assert scores["jsd_random"] == pytest.approx(js_divergence(shuffled, target).mean())
    assert scores["mrr_random"] == pytest.approx(mrr(shuffled, target))


def test_pair_scores_with_a_relevance_matrix():
    source = np.random.default_rng(2).dirichlet(np.ones(3), size=6)
    target = 0.7 * source + 0.3 * np.random.default_rng(3).dirichlet(np.ones(3), size=6)
    relevant = shared_category_relevance([["x"], ["x", "y"], ["y"], [], ["z"], ["z"]])
    scores = pair_scores(source, target, seed=4, relevant=relevant)
    shuffled = source[np.random.default_rng(4).permutation(6)]
    assert scores["uap"] == pytest.approx(uap(source, target, relevant))
    assert scores["uap_random"] == pytest.approx(uap(shuffled, target, relevant))
    # relevant: the 6 diagonal entries, 0-1 and 1-0 (x), 1-2 and 2-1 (y), 4-5 and 5-4 (z): 12 of 36
    assert relevant.sum() == 12 and scores["relevant_share"] == pytest.approx(12 / 36)
    assert "uap" not in pair_scores(source, target, seed=4)


@pytest.fixture(scope="module")
def categorised(small):
    """``small`` with categories: a list, a list of two, null, one string, an empty list, a list."""
    categories = [["Game"], ["Game", "Audio"], None, "Audio", [], ["Science"]]
    return Corpus({lang: small.texts(lang) if lang == "en" else ["uno", "due", None, "quattro", "cinque", "sei"]
                   for lang in ("en", "it")}, ids=small.ids, images=small.images, labels={"categories": categories})


def test_category_uap_over_every_pair(categorised):
    stub = SameOnEveryView(categorised.ids)
    result = evaluate_aligned(stub, categorised, images=True, category_field="categories", seed=1)
    assert result["settings"]["category_field"] == "categories"
    assert result["settings"]["items_without_category"] == 2 and "UAP" in result["settings"]["category_retrieval"]
    categories = [frozenset(["Game"]), frozenset(["Game", "Audio"]), frozenset(), frozenset(["Audio"]), frozenset(),
                  frozenset(["Science"])]
    for key, pair in result["pairs"].items():
        a, b = key.split("->")
        items = np.intersect1d(categorised.image_indices() if "image" in (a, b) else np.arange(6),
                               categorised.indices("it") if "it" in (a, b) else np.arange(6))
        rows = np.array([stub.rows[categorised.ids[i]] for i in items])
        relevant = shared_category_relevance([categories[i] for i in items])
        assert pair["uap"] == pytest.approx(uap(rows, rows, relevant)), key
        shuffled = rows[np.random.default_rng(1).permutation(len(rows))]
        assert pair["uap_random"] == pytest.approx(uap(shuffled, rows, relevant)), key
        assert pair["relevant_share"] == pytest.approx(relevant.mean())
    plain = evaluate_aligned(stub, categorised, images=True)
    assert "uap" not in plain["pairs"]["en->it"] and "category_field" not in plain["settings"]
    rows = dict(alignment_rows([{"alignment": result}, {"alignment": plain}]))
    assert rows["en→image UAP (categories)"] == [result["pairs"]["en->image"]["uap"], None]
    assert rows["image→it UAP (categories, shuffled)"][0] == result["pairs"]["image->it"]["uap_random"]
    assert not any("UAP" in name for name, _ in alignment_rows([{"alignment": plain}]))


def test_category_field_refusals(categorised):
    stub = SameOnEveryView(categorised.ids)
    with pytest.raises(CorpusError, match=r"has no field 'genre' to read categories from; its other fields are "
                                          r"\['categories'\]"):
        evaluate_aligned(stub, categorised, category_field="genre")
    nested = Corpus({"en": ["a", "b"], "it": ["c", "d"]}, labels={"categories": [["x"], [{"main": "y"}]]})
    with pytest.raises(CorpusError, match=r"item '1' of .*'categories' holds \{'main': 'y'\}; categories are"):
        evaluate_aligned(SameOnEveryView(nested.ids), nested, category_field="categories")


def test_items_without_any_text_are_in_no_text_view(tmp_path):
    """An aligned item whose text object is empty, or whose texts are blank, is left out of
    every language's view (counted among the aligned items); a null text is refused, naming
    its line."""
    from polytopic.datasets import read_jsonl

    path = tmp_path / "aligned.jsonl"
    path.write_text('{"id": "a", "text": {"en": "one", "it": "uno"}}\n{"id": "b", "text": {}}\n'
                    '{"id": "c", "text": {"en": " ", "it": ""}}\n'
                    '{"id": "d", "text": {"en": "four", "it": "quattro"}}\n')
    corpus = read_jsonl(path)
    result = evaluate_aligned(SameOnEveryView(corpus.ids), corpus)
    assert result["n_items"] == {"en": 2, "it": 2} and result["settings"]["aligned_items"] == 4
    assert result["pairs"]["en->it"]["n_pairs"] == 2 and result["pairs"]["en->it"]["mrr"] == 1
    path.write_text('{"id": "a", "text": {"en": "one"}}\n{"id": "b", "text": null}\n')
    with pytest.raises(CorpusError, match=r"aligned.jsonl:2: 'text' must be a string or a \{language: text\}"):
        evaluate_aligned(SameOnEveryView(["a", "b"]), path)


def test_identical_views_score_perfectly_over_the_items_having_both(small):
    result = evaluate_aligned(SameOnEveryView(small.ids), small, images=True)
    assert result["settings"]["views"] == ["en", "it", "image"] and len(result["pairs"]) == 6
    assert result["n_items"] == {"en": 6, "it": 5, "image": 5}
    n_pairs = {key: pair["n_pairs"] for key, pair in result["pairs"].items()}
    assert n_pairs == {"en->it": 5, "it->en": 5, "en->image": 5, "image->en": 5, "it->image": 4, "image->it": 4}
    for pair in result["pairs"].values():  # a row taken from the wrong item would break these
        assert pair["match"] == 1 and pair["mrr"] == 1
        assert pair["kl"] == pytest.approx(0, abs=1e-12) and pair["jsd"] == pytest.approx(0, abs=1e-12)
        assert pair["mrr_random"] < 1 and pair["jsd_random"] > 0.01
        counts = np.array(pair["confusion"])
        assert counts.shape == (4, 4) and np.trace(counts) == counts.sum() == pair["n_pairs"]
    assert result["coherence"] == {} and set(result["coherence_skipped"]) == {"en", "it"}


@pytest.fixture(scope="module")
def stand_in_vectors(aligned_corpus):
    """Cheap stand-ins for an aligned multilingual encoder's vectors of the 400 items: the
    LSA of each item's English text (24 dimensions) plus independent noise per language,
    so that an item's English and Italian vectors are close and other items' are not."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    lsa = TruncatedSVD(24, random_state=0).fit_transform(TfidfVectorizer(min_df=2).fit_transform(
        aligned_corpus.texts("en")))
    lsa /= np.linalg.norm(lsa, axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    return {lang: (lsa + 0.05 * rng.normal(size=lsa.shape)).astype(np.float32) for lang in ("en", "it")}


@pytest.fixture(scope="module")
def m3l(aligned_corpus, stand_in_vectors):
    from polytopic.models.m3l import M3LContrast

    model = M3LContrast(n_topics=8, languages=["en", "it"], vocabulary_size=500, epochs=20, learning_rate=1e-2,
                        batch_size=64, progress=False)
    return model.fit(aligned_corpus, embeddings=stand_in_vectors)


@pytest.fixture(scope="module")
def m3l_result(m3l, aligned_corpus, stand_in_vectors):
    return evaluate_aligned(m3l, aligned_corpus, ["en", "it"], reference=aligned_corpus, embeddings=stand_in_vectors)


def test_m3l_aligned_topics_beat_the_shuffled_baselines(m3l, m3l_result, aligned_corpus, stand_in_vectors):
    english = m3l.transform(aligned_corpus, language="en", embeddings=stand_in_vectors["en"])
    italian = m3l.transform(aligned_corpus, language="it", embeddings=stand_in_vectors["it"])
    expected = alignment(english, italian).as_dict()
    pair = m3l_result["pairs"]["en->it"]
    assert {k: pair[k] for k in expected} == pytest.approx(expected)
    assert pair["mrr"] == pytest.approx(mrr(english, italian))
    # measured (en->it): Match 0.41 (shuffled 0.13), KL 0.095 (0.23), JSD 0.023 (0.053), MRR 0.087 (0.015)
    for pair in m3l_result["pairs"].values():
        assert pair["n_pairs"] == 400
        assert pair["match"] > 2 * pair["match_random"] and pair["mrr"] > 3 * pair["mrr_random"]
        assert pair["kl"] < pair["kl_random"] and pair["jsd"] < pair["jsd_random"]
        counts = np.array(pair["confusion"])
        assert counts.sum() == 400 and np.trace(counts) / 400 == pytest.approx(pair["match"])
    assert np.array_equal(np.array(m3l_result["pairs"]["it->en"]["confusion"]).T,
                          m3l_result["pairs"]["en->it"]["confusion"])


def test_coherence_per_language_and_settings(m3l, m3l_result, aligned_corpus):
    from polytopic.metrics import coherence

    assert set(m3l_result["coherence"]) == {"en", "it"} and m3l_result["coherence_skipped"] == {}
    tokens = aligned_corpus.tokens("it", tokenizer=m3l.vocabularies_["it"].tokenizer)
    expected = coherence(m3l.topics(10, language="it"), tokens, "c_npmi")
    np.testing.assert_allclose(m3l_result["coherence"]["it"]["c_npmi"]["per_topic"], expected.per_topic)
    settings = m3l_result["settings"]
    assert settings["views"] == ["en", "it"] and settings["shuffle_seed"] == 0 and settings["aligned_items"] == 400
    assert settings["divergence_base"].startswith("nats") and "JSD" in settings["retrieval"]
    assert settings["reference_documents"] == {"en": 400, "it": 400}
    assert settings["tokenizers"]["it"]["language"] == "it" and settings["coherence_top_n"] == 10


def test_zero_shot_transfer_has_coherence_only_where_it_has_words(aligned_corpus, stand_in_vectors):
    from polytopic.models.ctm import ZeroShotTM

    model = ZeroShotTM(n_topics=8, language="en", vocabulary_size=500, epochs=20, learning_rate=1e-2,
                       progress=False).fit(aligned_corpus, embeddings=stand_in_vectors["en"])
    with pytest.raises(ViewError, match=r"learned only \['en'\].*--languages"):
        evaluate_aligned(model, aligned_corpus)
    result = evaluate_aligned(model, aligned_corpus, ["en", "it"], reference=aligned_corpus,
                              embeddings=stand_in_vectors)
    assert set(result["coherence"]) == {"en"} and "zero-shot" in result["coherence_skipped"]["it"]
    pair = result["pairs"]["it->en"]  # measured: Match 0.45 (shuffled 0.19), MRR 0.12 (0.018)
    assert pair["n_pairs"] == 400 and pair["match"] > 1.5 * pair["match_random"]


def test_a_run_directory_and_a_file_read_as_at_fit_time(m3l, stand_in_vectors, tmp_path):
    from polytopic.runs import write_run

    options = {"text_field": "text", "id_field": "id", "language": "en", "language_field": None, "image_field": None}
    write_run(tmp_path, m3l, corpus=str(CORPUS), n_documents=400, fit_seconds=1.0, read_options=options)
    result = evaluate_aligned(Run.open(tmp_path), CORPUS, embeddings=stand_in_vectors, seed=5)
    settings = result["settings"]
    assert settings["views"] == ["en", "it"] and settings["aligned_corpus"] == str(CORPUS)
    assert settings["reference_corpus"] == str(CORPUS) and settings["shuffle_seed"] == 5
    assert settings["read_options"] == {"text_field": "text", "id_field": "id", "image_field": None, "language": "en"}
    assert result["pairs"]["en->it"]["match"] > result["pairs"]["en->it"]["match_random"]


def test_images_of_m3l_are_a_view():
    from polytopic.datasets import read_jsonl
    from polytopic.models.m3l import M3LContrast

    apps = read_jsonl(DATA / "apps" / "apps-60.jsonl", text_field="debian", image_field="icon")
    vectors = {"en": np.random.default_rng(0).normal(size=(60, 16)).astype(np.float32)}
    model = M3LContrast(n_topics=4, languages=["en"], epochs=3, progress=False).fit(apps, embeddings=vectors)
    result = evaluate_aligned(model, apps, images=True, embeddings=vectors)
    assert set(result["pairs"]) == {"en->image", "image->en"} and result["n_items"] == {"en": 60, "image": 60}
    assert np.array(result["pairs"]["image->en"]["confusion"]).sum() == 60
    assert result["coherence_skipped"] == {"en": "no reference corpus given"}


def test_bad_requests_are_refused_before_any_transform(small, aligned_corpus):
    from polytopic.models.lda import LDA

    stub = SameOnEveryView(small.ids)
    with pytest.raises(CorpusError, match=r"has no texts in 'fr'; it has \['en', 'it'\]"):
        evaluate_aligned(stub, small, ["en", "fr"])
    with pytest.raises(ParameterError, match="at least two views"):
        evaluate_aligned(stub, small, ["en"])
    with pytest.raises(ParameterError, match="once"):
        evaluate_aligned(stub, small, ["en", "en"])
    disjoint = Corpus({"en": ["a", "b", None], "it": [None, None, "c"]})
    with pytest.raises(CorpusError, match="no item of .* has both the 'en' and the 'it' view"):
        evaluate_aligned(SameOnEveryView(disjoint.ids), disjoint)
    with pytest.raises(CorpusError, match="has no images"):
        evaluate_aligned(stub, Corpus({"en": ["a"], "it": ["b"]}), images=True)
    lda = LDA(n_topics=3, language="en", iterations=20, vocabulary_size=300, progress=False).fit(aligned_corpus)
    with pytest.raises(ViewError, match=r"has topics for \['en'\], not 'it'"):
        evaluate_aligned(lda, aligned_corpus, ["en", "it"])
    with pytest.raises(ViewError, match="no image view"):
        evaluate_aligned(lda, small, ["en"], images=True)


def test_confusion_figures_one_per_unordered_pair(small, tmp_path):
    pytest.importorskip("matplotlib")
    result = evaluate_aligned(SameOnEveryView(small.ids), small, images=True)
    figures = confusion_figures(result)
    assert list(figures) == ["confusion-en-it.png", "confusion-en-image.png", "confusion-it-image.png"]
    assert all(png.startswith(b"\x89PNG") for png in figures.values())
    Run(tmp_path, {}).write_metrics({"alignment": result}, figures)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*figures, "metrics.json"])  # no temporary left
    assert all((tmp_path / name).read_bytes() == png for name, png in figures.items())


def test_a_run_writes_figures_by_file_name_only(tmp_path):
    with pytest.raises(ParameterError, match="file name"):
        Run(tmp_path / "run", {}).write_metrics({}, {"../escape.png": b"\x89PNG"})
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_one_info_line_and_no_figure(small, tmp_path, monkeypatch, caplog):
    result = evaluate_aligned(SameOnEveryView(small.ids), small)
    for name in ["matplotlib", *(m for m in sys.modules if m.startswith("matplotlib."))]:
        monkeypatch.setitem(sys.modules, name, None)  # import matplotlib... now raises ImportError
    with caplog.at_level(logging.INFO, logger="polytopic"):
        assert confusion_figures(result) == {}
    assert [r.getMessage() for r in caplog.records] == [
        f"the confusion-matrix figures need matplotlib: {install_hint('report')}"]
    assert caplog.records[0].levelno == logging.INFO and list(tmp_path.iterdir()) == []


def test_table_rows_of_the_alignment(m3l_result):
    plain = {"model": "prodlda", "n_topics": 8, "coherence": {}, "diversity": {}}
    rows = dict(alignment_rows([{"alignment": m3l_result}, plain]))
    assert rows["en→it match"] == [m3l_result["pairs"]["en->it"]["match"], None]
    assert rows["it→en MRR (shuffled)"][0] == m3l_result["pairs"]["it->en"]["mrr_random"]
    assert rows["en→it pairs"] == [400, None] and "coherence c_npmi [it]" in rows
    assert alignment_rows([plain]) == [] and not any("UAP" in name for name in rows)
    metrics = {**plain, "coherence": {name: {"mean": 0.1} for name in ("c_npmi", "c_v", "u_mass", "c_uci")},
               "diversity": {"topic_diversity": 1.0, "inverted_rbo": 1.0}, "alignment": m3l_result}
    table = format_table(["metric", "run"], comparison_rows([metrics]))
    assert "en→it match (shuffled)" in table and "coherence c_npmi [it]" in table and "KL (shuffled)" in table
