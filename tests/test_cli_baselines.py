import json

import numpy as np
import pytest
from click.testing import CliRunner

from polytopic.cli import main
from polytopic.models import MODELS
from polytopic.models.registry import MODEL_TABLE


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory, english_corpus):
    path = tmp_path_factory.mktemp("cli") / "corpus.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                            for i, t in zip(english_corpus.ids[:150], english_corpus.texts()[:150])))
    return path


def test_fit_help_lists_every_model():
    result = CliRunner().invoke(main, ["fit", "--help"])
    for name in ("topclus", "lda", "etm", "clustering", "corex", "prodlda", "combined", "zeroshot"):
        assert name in MODELS and f"\n    {name}" in result.output


def test_registry_names_the_classes_it_imports():
    """The table the CLI reads without importing models agrees with the classes."""
    for name, (module, class_name, description) in MODEL_TABLE.items():
        cls = MODELS[name]
        assert (cls.name, cls.__module__, cls.__name__) == (name, module, class_name) and description


@pytest.mark.parametrize("name", ["lda", "corex"])
def test_fit_topics_transform_on_a_run(name, corpus_file, tmp_path):
    if name == "corex":
        pytest.importorskip("corextopic")
    runner = CliRunner()
    run = tmp_path / "run"
    fitted = runner.invoke(main, ["fit", str(corpus_file), "--model", name, "--topics", "5", "--out", str(run),
                                  "--quiet", "--param", "iterations=20"])
    assert fitted.exit_code == 0, fitted.output
    topics = runner.invoke(main, ["topics", str(run), "--top-n", "4"])
    assert len(topics.output.splitlines()) == 5
    out = tmp_path / "doc_topic.npy"
    transformed = runner.invoke(main, ["transform", str(run), str(corpus_file), "--output", str(out), "--quiet"])
    assert transformed.exit_code == 0
    np.testing.assert_allclose(np.load(out).sum(1), 1, atol=1e-6)


def test_options_a_model_does_not_take_are_refused(corpus_file, tmp_path):
    result = CliRunner().invoke(main, ["fit", str(corpus_file), "--model", "lda", "--topics", "5",
                                       "--out", str(tmp_path / "run"), "--epochs", "3", "--quiet"])
    assert result.exit_code == 2 and "no option" in result.stderr
