"""The HTML report (polytopic.report: data, map, figures, html, and the
``report`` command): what it gathers is checked against the model's own transform and
topic-word matrix, the page against being self-contained and whole, and each kind of
report (one language, several, with images, a comparison) in headless Chromium."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import DATA

from polytopic.cli import main
from polytopic.errors import DependencyError, ModelFileError, ParameterError
from polytopic.models import load_model
from polytopic.report.data import gather, similar_pairs, topic_similarity
from polytopic.report.html import render, write
from polytopic.report.map import layout
from polytopic.runs import Run
from polytopic.typical import most_typical

APPS = DATA / "apps" / "apps-60.jsonl"


def _fit(*args) -> None:
    result = CliRunner().invoke(main, ["-q", "fit", *map(str, args)])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """The 400 aligned descriptions (en, de, fr, it) and their English texts alone."""
    folder = tmp_path_factory.mktemp("corpora")
    aligned = folder / "aligned.jsonl"
    english = folder / "english.jsonl"
    with gzip.open(DATA / "debian-aligned-400.jsonl.gz", "rt", encoding="utf-8") as handle:
        items = [json.loads(line) for line in handle]
    aligned.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    english.write_text("".join(json.dumps({"id": i["id"], "text": i["text"]["en"]}) + "\n" for i in items),
                       encoding="utf-8")
    return {"aligned": aligned, "english": english}


@pytest.fixture(scope="module")
def lda_run(tmp_path_factory, corpora):
    out = tmp_path_factory.mktemp("runs") / "lda"
    _fit(corpora["english"], "--model", "lda", "--topics", "6", "--param", "iterations=60", "--out", out)
    return out


@pytest.fixture(scope="module")
def pltm_run(tmp_path_factory, corpora):
    out = tmp_path_factory.mktemp("runs") / "pltm"
    _fit(corpora["aligned"], "--model", "pltm", "--languages", "en,de", "--topics", "6", "--param", "iterations=60",
         "--out", out)
    return out


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    """M3L-Contrast over the apps' English texts and icons, the icons copied so that a test
    can take them away."""
    folder = tmp_path_factory.mktemp("apps")
    shutil.copytree(APPS.parent / "icons", folder / "icons")
    shutil.copy(APPS, folder / "apps.jsonl")
    out = folder / "m3l"
    _fit(folder / "apps.jsonl", "--model", "m3l", "--text-field", "debian", "--image-field", "icon",
         "--languages", "en", "--encoder", "all-MiniLM-L6-v2", "--topics", "4", "--epochs", "3", "--out", out)
    return out


@pytest.fixture(scope="module")
def lda_report(lda_run):
    return gather(Run.open(lda_run))


def test_a_report_gathers_what_the_model_says(lda_run, lda_report):
    from polytopic.datasets import read_corpus

    model = load_model(lda_run)
    corpus = read_corpus(lda_report.facts["corpus"])
    theta = model.transform(corpus)
    assert [t.words["en"] for t in lda_report.topics] == model.topics(top_n=10)
    np.testing.assert_allclose([t.share for t in lda_report.topics], theta.mean(axis=0), rtol=1e-6)
    best = most_typical(theta, 3)
    assert [[d["id"] for d in t.documents["en"]] for t in lda_report.topics] == \
        [[corpus.ids[r] for r in row] for row in best]
    assert lda_report.metrics_origin.startswith("computed by this report")
    per_topic = lda_report.metrics["coherence"]["c_npmi"]["per_topic"]
    assert [t.coherence["en"]["c_npmi"] for t in lda_report.topics] == per_topic
    assert lda_report.document_map.n_items == lda_report.document_map.n_total == len(corpus)
    assert lda_report.document_map.x.shape == (len(corpus),)
    np.testing.assert_array_equal(lda_report.document_map.topic, np.argmax(theta, axis=1))
    assert lda_report.alignment is None and lda_report.notes == []


def test_topic_similarity_and_its_nearest_pairs(lda_run, lda_report):
    similarity = topic_similarity(load_model(lda_run).topic_word())
    np.testing.assert_allclose(similarity, similarity.T)
    np.testing.assert_allclose(np.diag(similarity), 1.0)
    pairs = similar_pairs(similarity, 4)
    assert [v for *_, v in pairs] == sorted((v for *_, v in pairs), reverse=True)
    k, j = np.triu_indices(6, 1)
    assert pairs[0][2] == pytest.approx(similarity[k, j].max())
    for topic in lda_report.topics:
        others = [(similarity[topic.index, j], j) for j in range(6) if j != topic.index]
        assert topic.nearest[0] == max(others)[1]
    # centred on the column means (2/3, 1): rows (1/3, -1), (1/3, 0), (-2/3, 1)
    by_hand = topic_similarity(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))
    np.testing.assert_allclose(by_hand[0], [1.0, 1 / np.sqrt(10), -11 / np.sqrt(130)])
    shared = np.array([[5.0, 1.0, 0.0], [5.0, 0.0, 1.0]])  # a heavy shared word hides that they differ
    assert topic_similarity(shared)[0, 1] == pytest.approx(-1.0)


def test_the_map_samples_and_lays_out(lda_run):
    report = gather(Run.open(lda_run), map_documents=50, seed=3)
    assert report.document_map.n_items == 50 and report.document_map.x.size == 50
    again = gather(Run.open(lda_run), map_documents=50, seed=3)
    np.testing.assert_array_equal(report.document_map.item, again.document_map.item)
    np.testing.assert_allclose(report.document_map.x, again.document_map.x)
    assert gather(Run.open(lda_run), map_documents=0).document_map is None
    with pytest.raises(ParameterError, match="map_documents"):
        gather(Run.open(lda_run), map_documents=-1)
    xy, method = layout(np.array([[1.0, 0.0], [0.0, 1.0]]), 0)  # too few points for t-SNE
    assert xy.shape == (2, 2) and "principal axes" in method


def test_metrics_json_is_used_when_present(tmp_path, lda_run):
    run = tmp_path / "lda"
    shutil.copytree(lda_run, run)
    assert CliRunner().invoke(main, ["-q", "evaluate", str(run)]).exit_code == 0
    report = gather(Run.open(run), map_documents=0)
    assert report.metrics_origin.startswith("metrics.json")
    assert report.metrics == json.loads((run / "metrics.json").read_text())


def test_a_multilingual_report(pltm_run):
    report = gather(Run.open(pltm_run), map_documents=100)
    model = load_model(pltm_run)
    assert report.languages == ["en", "de"] == report.views
    for lang in ("en", "de"):
        assert [t.words[lang] for t in report.topics] == model.topics(top_n=10, language=lang)
    pairs = report.alignment["pairs"]
    assert set(pairs) == {"en->de", "de->en"} and pairs["en->de"]["n_pairs"] == 400
    assert "alignment computed now on the training corpus" in report.metrics_origin
    doc_map = report.document_map
    assert doc_map.n_items == 100 and doc_map.x.size == 200  # one point per language of each item
    assert sorted(set(doc_map.view)) == ["de", "en"]
    page = render([report])
    assert page.count('id="figure-confusion-') == 1  # one matrix per pair of views
    assert "Across languages" in page
    for lang in ("en", "de"):  # each language's per-topic coherence, from the alignment's
        assert [t.coherence[lang]["c_npmi"] for t in report.topics] == \
            report.alignment["coherence"][lang]["c_npmi"]["per_topic"]


def test_a_report_loads_the_model_once_and_reads_the_corpus_once(pltm_run, tmp_path, load_counts):
    """A multi-view run without metrics.json: its report, its metrics and its alignment
    share one loaded model and one reading of the training corpus (three of each before
    the Run object)."""
    run = tmp_path / "pltm"
    shutil.copytree(pltm_run, run)
    (run / "metrics.json").unlink(missing_ok=True)
    result = CliRunner().invoke(main, ["-q", "report", str(run), "--out", str(tmp_path / "r.html"),
                                       "--map-documents", "50"])
    assert result.exit_code == 0, result.output
    assert load_counts == {"loads": 1, "reads": 1}


def test_held_out_aligned_items(pltm_run, corpora, tmp_path):
    held_out = tmp_path / "held-out.jsonl"
    lines = corpora["aligned"].read_text(encoding="utf-8").splitlines()[:50]
    held_out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = gather(Run.open(pltm_run), aligned=held_out, map_documents=0)
    assert report.alignment["pairs"]["en->de"]["n_pairs"] == 50
    assert "training corpus" not in report.metrics_origin


def test_an_image_report_embeds_the_icons(image_run):
    report = gather(Run.open(image_run))
    assert report.views == ["en", "image"]
    icons = [image for topic in report.topics for image in topic.images]
    assert icons and all(i["data"].startswith("data:image/png;base64,") for i in icons)
    model = load_model(image_run)
    from polytopic.datasets import read_corpus

    corpus = read_corpus(report.facts["corpus"], **report.facts["read_options"])
    theta = model.transform(corpus, images=True)
    best = most_typical(theta, 8)
    positions = corpus.image_indices()
    assert [[i["id"] for i in t.images] for t in report.topics] == \
        [[corpus.ids[positions[r]] for r in row] for row in best]
    assert "image" in set(report.document_map.view)
    assert render([report]).count('<img src="data:image/png;base64,') == len(icons)


def test_images_that_are_gone(image_run, tmp_path):
    folder = tmp_path / "apps"
    shutil.copytree(image_run.parent, folder)
    record_path = folder / "m3l" / "typical-images.json"  # the run as if fitted in the copy
    record_path.write_text(record_path.read_text().replace(str(image_run.parent), str(folder)))
    gone = {str(p) for p in sorted((folder / "icons").iterdir())[::2]}
    for path in gone:
        Path(path).unlink()
    report = gather(Run.open(folder / "m3l"), reference=folder / "apps.jsonl")
    assert any("images are gone" in note for note in report.notes)
    assert report.views == ["en"]  # the map leaves the image view out
    recorded = json.loads(record_path.read_text())
    assert [[i["id"] for i in t.images] for t in report.topics] == \
        [[e["id"] for e in topic[:8]] for topic in recorded["topics"]]
    shown = [i for t in report.topics for i in t.images]
    assert {i["image"] for i in shown} & gone  # some typical icons are gone ...
    assert all((i["data"] is None) == (i["image"] in gone) for i in shown)  # ... and only those lack a picture
    assert "gone: " in render([report])


def test_the_page_is_self_contained(lda_report):
    page = render([lda_report])
    assert page.count("<script") == 1 + 3  # plotly.js, then the map, coherence and similarity figures
    assert not re.search(r"""<(?:script|img|link|iframe)[^>]+(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    for topic in lda_report.topics:
        assert " ".join(topic.words["en"]) in page


def test_a_comparison_and_its_refusals(lda_run, pltm_run, tmp_path):
    other = tmp_path / "lda-k4"
    run = json.loads((lda_run / "run.json").read_text())
    _fit(run["corpus"], "--model", "lda", "--topics", "4", "--param", "iterations=30", "--out", other)
    page = render([gather(Run.open(lda_run), map_documents=0), gather(Run.open(other), map_documents=0)])
    assert 'id="comparison"' in page and "Topics side by side" in page
    monolingual_de = tmp_path / "de"
    aligned = json.loads((pltm_run / "run.json").read_text())["corpus"]
    _fit(aligned, "--model", "lda", "--language", "de", "--topics", "3", "--param", "iterations=20",
         "--out", monolingual_de)
    with pytest.raises(ParameterError, match="different primary languages"):
        render([gather(Run.open(lda_run), map_documents=0), gather(Run.open(monolingual_de), map_documents=0)])
    with pytest.raises(ParameterError, match="at least one run"):
        render([])


def test_the_command_writes_one_file(lda_run, tmp_path):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["-q", "report", str(lda_run), "--out", str(out), "--map-documents", "30"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary left


def test_a_failed_report_leaves_the_old_file(lda_report, tmp_path, monkeypatch):
    out = tmp_path / "report.html"
    out.write_text("old", encoding="utf-8")
    import polytopic.report.html as report_html

    def broken(figure, div_id):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(report_html, "fragment", broken)
    with pytest.raises(RuntimeError):
        write([lda_report], out)
    assert out.read_text(encoding="utf-8") == "old" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_moved_corpus_needs_reference(lda_run, corpora, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(lda_run, run)
    info = json.loads((run / "run.json").read_text())
    info["corpus"] = str(tmp_path / "moved-away.jsonl")
    (run / "run.json").write_text(json.dumps(info))
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(run), "--out", str(out)])
    assert result.exit_code == 1 and "--reference" in result.output and not out.exists()
    with pytest.raises(ModelFileError, match="--reference"):
        gather(Run.open(run))
    result = CliRunner().invoke(main, ["-q", "report", str(run), "--out", str(out), "--reference",
                                       str(corpora["english"]), "--map-documents", "0"])
    assert result.exit_code == 0, result.output
    assert "moved-away.jsonl" in out.read_text(encoding="utf-8")  # where it was fitted is still said
    two = CliRunner().invoke(main, ["report", str(run), str(lda_run), "--out", str(out), "--reference",
                                    str(corpora["english"])])
    assert two.exit_code == 2 and "single run" in two.output


def test_without_the_report_extra(lda_report, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "jinja2", None)  # import jinja2 raises ImportError
    with pytest.raises(DependencyError, match=r'pip install "polytopic\[report\]"'):
        render([lda_report])


# -- in a real browser ---------------------------------------------------------------------------
def _opened(chromium_path, reports, tmp_path, name):
    from chromium import render as open_page

    path = write(reports, tmp_path / f"{name}.html")
    rendered = open_page(path)
    assert rendered.errors == []
    return rendered.dom


def test_each_kind_renders_in_chromium(chromium, lda_report, pltm_run, image_run, lda_run, tmp_path):
    dom = _opened(chromium, [lda_report], tmp_path, "one")
    assert dom.count('class="main-svg"') >= 3  # map, coherence, similarity drawn by plotly
    assert " ".join(lda_report.topics[0].words["en"]) in dom
    multilingual = gather(Run.open(pltm_run), map_documents=100)
    dom = _opened(chromium, [multilingual], tmp_path, "multilingual")
    assert dom.count('class="main-svg"') >= 4 and " ".join(multilingual.topics[0].words["de"]) in dom
    images = gather(Run.open(image_run))
    dom = _opened(chromium, [images], tmp_path, "images")
    assert dom.count("data:image/png;base64,") >= sum(len(t.images) for t in images.topics)
    dom = _opened(chromium, [lda_report, gather(Run.open(lda_run), map_documents=0, seed=1)], tmp_path, "two")
    assert 'id="comparison"' in dom
