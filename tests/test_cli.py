import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from polytopic.cli import main

from conftest import DATA


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "debian.jsonl.gz"
    shutil.copy(DATA / "debian-aligned-400.jsonl.gz", path)
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, corpus_file):
    out = tmp_path_factory.mktemp("runs") / "first"
    result = CliRunner().invoke(main, ["fit", str(corpus_file), "--model", "prodlda", "--topics", "6",
                                       "--language", "en", "--epochs", "3", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def test_fit_writes_a_complete_run(run_dir):
    assert {p.name for p in run_dir.iterdir()} == {"config.json", "vocabulary.json", "model.safetensors",
                                                 "run.json", "topics.txt"}
    run = json.loads((run_dir / "run.json").read_text())
    assert run["model"] == "prodlda" and run["n_topics"] == 6 and run["options"]["epochs"] == 3


def test_topics_prints_one_topic_a_line(run_dir):
    result = CliRunner().invoke(main, ["topics", str(run_dir), "--top-n", "4"])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 0 and len(lines) == 6 and all(len(line.split()) == 4 for line in lines)
    assert (run_dir / "topics.txt").read_text().splitlines()[0].split()[:4] == lines[0].split()


def test_transform_prints_distributions(run_dir, corpus_file, tmp_path):
    result = CliRunner().invoke(main, ["transform", str(run_dir), str(corpus_file), "--quiet"])
    assert result.exit_code == 0, result.output
    header, *rows = result.output.strip().splitlines()
    assert header.split("\t")[:2] == ["id", "topic_0"] and len(rows) == 400
    probs = np.array([[float(x) for x in row.split("\t")[1:]] for row in rows])
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-4)
    out = tmp_path / "doc_topic.npy"
    CliRunner().invoke(main, ["transform", str(run_dir), str(corpus_file), "--output", str(out), "--quiet"])
    np.testing.assert_allclose(np.load(out), probs, atol=1e-5)


def test_combined_fit_with_encoder_cache(corpus_file, tmp_path, minilm_embeddings):
    """CombinedTM from the command line; the session cache already holds the vectors."""
    out = tmp_path / "combined"
    result = CliRunner().invoke(main, ["fit", str(corpus_file), "--model", "combined", "--topics", "4",
                                       "--language", "en", "--epochs", "2", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert len((out / "topics.txt").read_text().splitlines()) == 4


def test_failed_fit_leaves_no_run_directory(corpus_file, tmp_path):
    out = tmp_path / "bad"
    result = CliRunner().invoke(main, ["fit", str(corpus_file), "--model", "prodlda", "--topics", "5000",
                                       "--language", "en", "--out", str(out), "--quiet"])
    assert result.exit_code == 2 and "error: n_topics=5000 exceeds" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["topics", "no/such/run"], "no such model directory"),
    (["fit", "{corpus}", "--out", "{tmp}/x", "--language", "xx", "--model", "prodlda"], "no texts in language 'xx'"),
    (["fit", "{corpus}", "--out", "{tmp}/x", "--model", "prodlda", "--param", "nonsense=1"], "no option"),
    (["fit", "{bad}", "--out", "{tmp}/x", "--model", "prodlda"], "not valid JSON"),
])
def test_errors_are_one_line_messages(args, message, corpus_file, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{broken\n')
    args = [a.format(corpus=corpus_file, tmp=tmp_path, bad=bad) for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "x").exists()


def test_existing_run_is_not_overwritten_without_flag(run_dir, corpus_file):
    result = CliRunner().invoke(main, ["fit", str(corpus_file), "--model", "prodlda", "--out", str(run_dir)])
    assert result.exit_code == 2 and "already exists" in result.output


def test_fit_help_lists_models():
    result = CliRunner().invoke(main, ["fit", "--help"])
    for name in ("prodlda", "combined", "zeroshot"):
        assert f"  {name}" in result.output
