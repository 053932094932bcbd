"""Evaluating run directories: metrics.json with its settings, and the CLI commands."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import DATA

from polytopic.cli import main
from polytopic.errors import CorpusError, ModelFileError
from polytopic.evaluation import evaluate_run
from polytopic.metrics import coherence, topic_diversity
from polytopic.runs import METRICS_FILE, Run, read_metrics

CORPUS = DATA / "debian-aligned-400.jsonl.gz"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, english_corpus):
    """A run directory as `polytopic fit` writes it: a small ProdLDA (no encoder)."""
    from polytopic import ProdLDA

    path = tmp_path_factory.mktemp("runs") / "prodlda"
    path.mkdir()
    model = ProdLDA(n_topics=5, epochs=2, language="en", progress=False).fit(english_corpus)
    model.write(path)
    (path / "run.json").write_text(json.dumps({"corpus": str(CORPUS), "model": "prodlda", "n_topics": 5}))
    return path


def test_evaluate_run_scores_and_records_settings(run_dir, english_corpus):
    from polytopic.models import load_model

    metrics = evaluate_run(Run.open(run_dir))
    model = load_model(run_dir)
    tokens = english_corpus.tokens("en", tokenizer=model.vocabularies_["en"].tokenizer)
    expected = coherence(model.topics(10), tokens, "c_v")
    np.testing.assert_allclose(metrics["coherence"]["c_v"]["per_topic"], expected.per_topic)
    assert metrics["diversity"]["topic_diversity"] == topic_diversity(model.topics(25))
    settings = metrics["settings"]
    assert settings["reference_corpus"] == str(CORPUS) and settings["reference_documents"] == 400
    assert settings["coherence_windows"] == {"c_npmi": 10, "c_v": 110, "u_mass": None, "c_uci": 10}
    assert settings["epsilon"] == 1e-12 and settings["coherence_top_n"] == 10
    assert "clustering" not in metrics


def test_cli_evaluate_writes_metrics_json(run_dir):
    result = CliRunner().invoke(main, ["evaluate", str(run_dir), "--labels", "section", "--intrusion", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "coherence c_npmi" in result.output and "argmax topic NMI" in result.output
    assert "word intrusion (embedding proxy, not the human test)" in result.output
    metrics = read_metrics(run_dir)
    assert "proxy" in metrics["intrusion_proxy"]["name"] and 0 <= metrics["intrusion_proxy"]["mean"] <= 1
    for key in ("argmax_topic", "kmeans_doc_topic"):
        assert 0 <= metrics["clustering"][key]["nmi"] <= 1 and 0 < metrics["clustering"][key]["purity"] <= 1
    assert metrics["settings"]["labels"] == "section"


def test_cli_compare_puts_runs_side_by_side(run_dir, tmp_path):
    other = tmp_path / "copy"
    shutil.copytree(run_dir, other)
    (other / METRICS_FILE).unlink(missing_ok=True)  # evaluated by compare itself
    result = CliRunner().invoke(main, ["compare", str(run_dir), str(other), "--quiet"])
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0]
    assert str(run_dir) in header and str(other) in header
    assert (other / METRICS_FILE).is_file()
    line = next(line for line in result.output.splitlines() if line.startswith("coherence c_v"))
    assert len(set(line.split()[2:])) == 1  # the same model scores the same


def test_missing_training_corpus_asks_for_a_reference(run_dir, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(run_dir, moved)
    (moved / "run.json").write_text(json.dumps({"corpus": "no/such/file.jsonl", "model": "prodlda"}))
    with pytest.raises(ModelFileError, match="--reference"):
        evaluate_run(Run.open(moved))
    assert evaluate_run(Run.open(moved), reference=CORPUS)["settings"]["reference_corpus"] == str(CORPUS)
    result = CliRunner().invoke(main, ["evaluate", str(moved), "--quiet"])
    assert result.exit_code == 1 and "--reference" in result.output


def test_training_corpus_is_read_as_at_fit_time(run_dir, tmp_path):
    """run.json's read_options apply to the training corpus (the apps keep their texts
    under "debian"); an explicit --reference is read with the defaults."""
    apps = tmp_path / "apps"
    shutil.copytree(run_dir, apps)
    (apps / METRICS_FILE).unlink(missing_ok=True)
    run = {"corpus": str(DATA / "apps-30.jsonl"), "model": "prodlda", "read_options": {"text_field": "debian"}}
    (apps / "run.json").write_text(json.dumps(run))
    assert evaluate_run(Run.open(apps))["settings"]["reference_documents"] == 30
    with pytest.raises(CorpusError, match="no field 'text'"):
        evaluate_run(Run.open(apps), reference=DATA / "apps-30.jsonl")
