"""Each topic's most typical items (polytopic.typical) and the typical images a run records:
the highest-θ items checked against numpy on the model's own transform, for a model with
images (M3L-Contrast, a ZeroshotTM-KD image student) and a text-only one (LDA)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from conftest import DATA

from polytopic.datasets import read_jsonl
from polytopic.errors import ModelFileError, ParameterError, ViewError
from polytopic.models.views import IMAGE
from polytopic.runs import IMAGE_VIEW, TYPICAL_IMAGES_FILE, TYPICAL_TOP_N, read_typical_images, write_run
from polytopic.typical import image_record, most_typical, typical_images, typical_items

APPS = DATA / "apps" / "apps-60.jsonl"
FAST = {"epochs": 3, "progress": False}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """The 60 apps, every seventh without its icon (so image rows are not corpus positions)."""
    path = tmp_path_factory.mktemp("apps") / "apps.jsonl"
    lines = []
    for i, line in enumerate(APPS.read_text(encoding="utf-8").splitlines()):
        app = json.loads(line)
        icon = app.pop("icon")
        if i % 7:
            app["icon"] = str(APPS.parent / icon)
        lines.append(json.dumps(app))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = read_jsonl(path, text_field="debian", image_field="icon")
    assert corpus.image_indices().size == 51
    return corpus


@pytest.fixture(scope="module")
def vectors():
    return {"en": np.random.default_rng(0).normal(size=(60, 16)).astype(np.float32)}


@pytest.fixture(scope="module")
def m3l(apps, vectors):
    from polytopic.models.m3l import M3LContrast

    return M3LContrast(n_topics=4, languages=["en"], **FAST).fit(apps, embeddings=vectors)


def _by_numpy(theta: np.ndarray, positions: np.ndarray, top_n: int) -> np.ndarray:
    """Each topic's top_n positions by a plain sort on (-θ, row): the reference."""
    return np.array([[positions[i] for i in sorted(range(len(theta)), key=lambda i: (-theta[i, k], i))[:top_n]]
                     for k in range(theta.shape[1])])


def test_most_typical_by_hand():
    theta = np.array([[0.2, 0.5], [0.6, 0.1], [0.6, 0.3], [0.1, 0.1]])
    # topic 0: rows 1 and 2 tie at 0.6 (row 1 first), then row 0; topic 1: 0.5, 0.3, then 0.1 of rows 1 and 3
    np.testing.assert_array_equal(most_typical(theta, 3), [[1, 2, 0], [0, 2, 1]])
    np.testing.assert_array_equal(most_typical(theta, 10), [[1, 2, 0, 3], [0, 2, 1, 3]])
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ParameterError, match="top_n must be a positive integer"):
            most_typical(theta, bad)


def test_typical_images_are_the_highest_theta_images(m3l, apps):
    theta = m3l.transform(apps, images=True)
    positions = apps.image_indices()
    typical = typical_items(m3l, apps, images=True, top_n=5)
    np.testing.assert_array_equal(typical, _by_numpy(theta, positions, 5))
    assert typical.shape == (4, 5) and set(typical.ravel()) <= set(positions)
    for k, row in enumerate(typical):  # every other image is no more typical than the last one shown
        shown = theta[np.searchsorted(positions, row), k]
        others = np.setdiff1d(positions, row)
        assert np.all(np.diff(shown) <= 0) and np.all(theta[np.searchsorted(positions, others), k] <= shown[-1])
    assert typical_images(m3l, apps, top_n=5) == [[apps.images[p] for p in row] for row in typical]
    assert typical_items(m3l, apps, images=True, top_n=100).shape == (4, 51)  # all there are


def test_typical_texts_of_any_model(m3l, apps, vectors):
    from polytopic.models.lda import LDA

    theta = m3l.transform(apps, language="en", embeddings=vectors["en"])
    np.testing.assert_array_equal(typical_items(m3l, apps, top_n=4, embeddings=vectors),
                                  _by_numpy(theta, apps.indices("en"), 4))
    lda = LDA(n_topics=3, language="en", iterations=30, min_df=1, progress=False).fit(apps)
    np.testing.assert_array_equal(typical_items(lda, apps, language="en", top_n=6),
                                  _by_numpy(lda.transform(apps), apps.indices("en"), 6))
    with pytest.raises(ViewError, match="no image view"):
        typical_items(lda, apps, images=True)
    with pytest.raises(ViewError, match=r"has topics for \['en'\], not 'it'"):
        typical_items(lda, apps, language="it")


def test_ties_go_to_the_earlier_item(apps):
    class Uniform:
        """Every item gets the same θ: the ranking is the corpus order."""

        language_ = "en"

        def transform(self, corpus, *, language=None, images=False, embeddings=None):
            n = corpus.image_indices().size if images else corpus.indices(language).size
            return np.full((n, 3), 1 / 3)

    np.testing.assert_array_equal(typical_items(Uniform(), apps, images=True, top_n=4),
                                  np.tile(apps.image_indices()[:4], (3, 1)))


def test_image_student_of_a_distillation(apps, vectors):
    from polytopic.models.ctm import ZeroShotTM
    from polytopic.models.distillation import ZeroShotKD

    teacher = ZeroShotTM(n_topics=4, language="en", min_df=1, **FAST).fit(apps, embeddings=vectors["en"])
    student = ZeroShotKD(teacher=teacher, images=True, min_df=1, **FAST).fit(apps, embeddings=vectors)
    np.testing.assert_array_equal(typical_items(student, apps, images=True, top_n=3),
                                  _by_numpy(student.transform(apps, images=True), apps.image_indices(), 3))
    with pytest.raises(ViewError, match="reads images"):
        typical_items(student, apps, embeddings=vectors)


def test_a_run_records_the_typical_training_images(m3l, apps, vectors, tmp_path, caplog):
    write_run(tmp_path, m3l, corpus="apps.jsonl", n_documents=60, fit_seconds=1.0, training_corpus=apps,
              embeddings=vectors)
    record = json.loads((tmp_path / TYPICAL_IMAGES_FILE).read_text())
    assert record["view"] == IMAGE == IMAGE_VIEW and record["top_n"] == TYPICAL_TOP_N == 20
    typical = typical_items(m3l, apps, images=True, top_n=20)
    theta = m3l.transform(apps, images=True)
    positions = apps.image_indices()
    for k, (entries, row) in enumerate(zip(record["topics"], typical)):
        assert [e["id"] for e in entries] == [apps.ids[p] for p in row]
        assert [e["image"] for e in entries] == [apps.images[p] for p in row]  # absolute, as the corpus holds them
        np.testing.assert_allclose([e["theta"] for e in entries], theta[np.searchsorted(positions, row), k],
                                   atol=1e-6)
    assert record == image_record(m3l, apps, 20, embeddings=vectors)
    assert read_typical_images(tmp_path, 3) == [[apps.images[p] for p in row[:3]] for row in typical]
    with caplog.at_level(logging.WARNING, logger="polytopic.runs"):
        assert read_typical_images(tmp_path, 25) == typical_images(m3l, apps, top_n=20)
    assert "only the 20 most typical images of each topic are recorded" in caplog.text


def test_runs_without_typical_images(m3l, apps, tmp_path):
    from polytopic.models.lda import LDA

    (tmp_path / "m3l").mkdir()
    write_run(tmp_path / "m3l", m3l, corpus="apps.jsonl", n_documents=60, fit_seconds=1.0)  # no training corpus
    with pytest.raises(ModelFileError, match="records no typical images"):
        read_typical_images(tmp_path / "m3l")
    lda = LDA(n_topics=3, language="en", iterations=10, min_df=1, progress=False).fit(apps)
    (tmp_path / "lda").mkdir()
    write_run(tmp_path / "lda", lda, corpus="apps.jsonl", n_documents=60, fit_seconds=1.0, training_corpus=apps)
    assert not (tmp_path / "lda" / TYPICAL_IMAGES_FILE).exists()
    with pytest.raises(ViewError, match=r"has no image view \(its model learned \['en'\]\)"):
        read_typical_images(tmp_path / "lda", 5)
    with pytest.raises(ParameterError, match="top_n"):
        read_typical_images(tmp_path / "lda", 0)
