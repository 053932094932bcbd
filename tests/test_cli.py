import json
import logging
import shutil
import signal
import subprocess
import sys
import time

import click
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
    result = CliRunner().invoke(main, ["-q", "fit", str(corpus_file), "--model", "prodlda", "--topics", "6",
                                       "--language", "en", "--epochs", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_fit_writes_a_complete_run(run_dir, corpus_file):
    assert {p.name for p in run_dir.iterdir()} == {"config.json", "vocabulary.json", "model.safetensors",
                                                 "run.json", "topics.txt", "topic_word.safetensors"}
    run = json.loads((run_dir / "run.json").read_text())
    assert run["model"] == "prodlda" and run["n_topics"] == 6 and run["options"]["epochs"] == 3
    assert run["corpus"] == str(corpus_file) and run["n_documents"] == 400 and run["fit_seconds"] > 0
    assert run["language"] == "en" and run["languages"] == ["en"]
    assert {"polytopic", "python", "numpy", "torch"} <= set(run["versions"])


def test_topics_prints_one_topic_a_line(run_dir):
    result = CliRunner().invoke(main, ["topics", str(run_dir), "--top-n", "4"])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 0 and len(lines) == 6 and all(len(line.split()) == 4 for line in lines)
    assert (run_dir / "topics.txt").read_text().splitlines()[0].split()[:4] == lines[0].split()


def test_topics_in_a_language_the_run_lacks(run_dir):
    result = CliRunner().invoke(main, ["topics", str(run_dir), "--language", "xx"])
    assert result.exit_code == 1 and "has topic words for ['en'], not 'xx'" in result.stderr
    assert CliRunner().invoke(main, ["topics", str(run_dir), "--language", "en"]).exit_code == 0


def test_version_and_topics_do_not_import_torch(run_dir):
    """The quick paths stay quick: neither imports torch (nor scipy); the package's lazy
    names still give the model classes."""
    code = (
        "import sys\n"
        "from polytopic.cli import main\n"
        "assert main(['--version'], standalone_mode=False) == 0\n"
        f"main(['topics', {str(run_dir)!r}, '--top-n', '3'], standalone_mode=False)\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'scipy'})\n"
        "assert not heavy, heavy\n"
        "from polytopic import CombinedTM, load_model\n"
        "assert CombinedTM.name == 'combined' and callable(load_model)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("polytopic, version") and len(done.stdout.splitlines()) == 1 + 6


def test_transform_prints_distributions(run_dir, corpus_file, tmp_path):
    result = CliRunner().invoke(main, ["transform", str(run_dir), str(corpus_file), "--quiet"])
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.strip().splitlines()
    assert header.split("\t")[:2] == ["id", "topic_0"] and len(rows) == 400
    probs = np.array([[float(x) for x in row.split("\t")[1:]] for row in rows])
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-4)
    out = tmp_path / "doc_topic.npy"
    CliRunner().invoke(main, ["-q", "transform", str(run_dir), str(corpus_file), "--output", str(out)])
    np.testing.assert_allclose(np.load(out), probs, atol=1e-5)


@pytest.mark.parametrize("output, message", [("x.parquet", "unknown format '.parquet'"),
                                             ("no/such/folder/x.csv", "does not exist")])
def test_output_is_checked_before_the_model_is_loaded(output, message, corpus_file, tmp_path):
    """The run does not exist: a usage error about --output shows the check came first."""
    result = CliRunner().invoke(main, ["transform", str(tmp_path / "no-run"), str(corpus_file),
                                       "--output", str(tmp_path / output)])
    assert result.exit_code == 2 and message in result.stderr and "--output" in result.stderr


def test_images_of_a_text_only_model_are_refused(run_dir):
    runner = CliRunner()
    apps = ["transform", str(run_dir), str(DATA / "apps-30.jsonl"), "--text-field", "debian", "-q"]
    result = runner.invoke(main, apps + ["--image-field", "icon", "--images"])
    assert result.exit_code == 1 and "image" in result.stderr and result.stderr.startswith("error: ")
    assert runner.invoke(main, apps + ["--images"]).exit_code == 2  # no --image-field
    both = runner.invoke(main, apps + ["--image-field", "icon", "--images", "--language", "en"])
    assert both.exit_code == 2 and "not both" in both.stderr


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
    assert result.exit_code == 1 and result.stderr.splitlines()[-1].startswith("error: n_topics=5000 exceeds")
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["topics", "no/such/run"], "no such run directory"),
    (["fit", "{corpus}", "--out", "{tmp}/x", "--language", "xx", "--model", "prodlda"], "no texts in"),
    (["fit", "{bad}", "--out", "{tmp}/x", "--model", "prodlda"], "not valid JSON"),
    (["fit", "{latin1}", "--out", "{tmp}/x", "--model", "prodlda"], "latin1.jsonl:2: not UTF-8"),
])
def test_runtime_errors_are_one_line_and_status_1(args, message, corpus_file, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{broken\n')
    (tmp_path / "latin1.jsonl").write_bytes('{"text": "fine"}\n{"text": "café"}\n'.encode("latin-1"))
    args = [a.format(corpus=corpus_file, tmp=tmp_path, bad=bad, latin1=tmp_path / "latin1.jsonl") for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args, message", [
    (["fit", "{corpus}", "--out", "{tmp}/x", "--model", "prodlda", "--param", "nonsense=1"], "no option"),
    (["fit", "{corpus}", "--out", "{tmp}/x", "--model", "nope"], "'nope' is not one of"),
    (["fit", "{corpus}", "--out", "{tmp}/x", "--topics", "0"], "--topics"),
    (["topics", "{tmp}", "--top-n", "0"], "--top-n"),
])
def test_usage_errors_are_status_2(args, message, corpus_file, tmp_path):
    args = [a.format(corpus=corpus_file, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not (tmp_path / "x").exists()


def test_languages_only_for_models_that_learn_several(corpus_file, tmp_path):
    from polytopic.models import MODELS

    takers = [name for name, cls in MODELS.items() if "languages" in cls._parameter_constraints]
    one = next(name for name, cls in MODELS.items() if "languages" not in cls._parameter_constraints)
    result = CliRunner().invoke(main, ["fit", str(corpus_file), "--model", one, "--languages", "en,it",
                                       "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--languages" in result.stderr and "learns one language" in result.stderr
    assert all(name in result.stderr for name in takers)


def test_existing_run_is_not_overwritten_without_flag(run_dir, corpus_file):
    result = CliRunner().invoke(main, ["fit", str(corpus_file), "--model", "prodlda", "--out", str(run_dir)])
    assert result.exit_code == 1 and "already exists" in result.stderr


def test_quiet_before_or_after_the_command(corpus_file, tmp_path):
    """Info messages and progress bars by default; -q silences them wherever it is given
    (warnings stay), and repeated invocations in one process never add a second handler."""
    runner, root_handlers = CliRunner(), list(logging.getLogger().handlers)

    def fit(before=(), after=()):
        out = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        result = runner.invoke(main, [*before, "fit", str(corpus_file), "--model", "prodlda", "--topics", "3",
                                      "--language", "en", "--epochs", "1", "--out", str(out), *after])
        assert result.exit_code == 0, result.output
        return result.stderr

    quiet_before, loud, quiet_after = fit(before=["-q"]), fit(), fit(after=["--quiet"])
    assert loud.count("INFO polytopic.cli: fitted prodlda") == 1 and "epoch" in loud
    for quiet in (quiet_before, quiet_after):
        assert "INFO" not in quiet and "epoch" not in quiet and "WARNING polytopic.preprocessing" in quiet
    assert len(logging.getLogger("polytopic").handlers) == 1
    assert logging.getLogger().handlers == root_handlers


def test_every_option_has_help():
    ctx = click.Context(main)
    commands = [main, *main.commands.values()]
    missing = [f"{command.name} {option.opts}" for command in commands for option in command.get_params(ctx)
               if isinstance(option, click.Option) and not option.help]
    assert missing == []


def test_fit_help_lists_models():
    result = CliRunner().invoke(main, ["fit", "--help"])
    for name in ("prodlda", "combined", "zeroshot"):
        assert f"  {name}" in result.output


def test_sigterm_during_fit_leaves_no_temporary(corpus_file, tmp_path):
    """A scheduler's stop (SIGTERM) mid-fit: the process exits with 128 + 15 and the
    temporary run directory is gone, as after Ctrl-C."""
    runs, log = tmp_path / "runs", tmp_path / "stderr.txt"
    runs.mkdir()
    command = [sys.executable, "-m", "polytopic.cli", "-q", "fit", str(corpus_file), "--model", "prodlda",
               "--topics", "3", "--epochs", "100000", "--out", str(runs / "stopped")]
    with log.open("w") as stderr:
        fit = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 120
        while not list(runs.glob(".stopped.*.tmp")):
            assert fit.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        time.sleep(0.5)  # well inside model.fit
        fit.send_signal(signal.SIGTERM)
        assert fit.wait(timeout=60) == 128 + signal.SIGTERM, log.read_text()
    finally:
        fit.kill()
    assert list(runs.iterdir()) == []


def test_multilingual_and_image_run_from_the_command_line(tmp_path):
    """m3l over English and Italian texts and the icons: topics per language, θ of images."""
    apps = str(DATA / "apps" / "apps-60.jsonl")
    out = tmp_path / "apps"
    runner = CliRunner()
    fit = runner.invoke(main, ["-q", "fit", apps, "--model", "m3l", "--text-field", "debian", "--languages", "en,it",
                               "--image-field", "icon", "--topics", "4", "--epochs", "2", "--out", str(out)])
    assert fit.exit_code == 0, fit.output
    assert {"topics-en.txt", "topics-it.txt"} <= {p.name for p in out.iterdir()}
    italian = runner.invoke(main, ["topics", str(out), "--language", "it", "--top-n", "3"])
    assert italian.exit_code == 0 and len(italian.output.splitlines()) == 4
    assert italian.output == "".join(" ".join(line.split()[:3]) + "\n"
                                     for line in (out / "topics-it.txt").read_text().splitlines())
    theta = tmp_path / "theta.npy"
    images = runner.invoke(main, ["-q", "transform", str(out), apps, "--text-field", "debian", "--image-field", "icon",
                                  "--images", "--output", str(theta)])
    assert images.exit_code == 0, images.output
    assert np.load(theta).shape == (60, 4)
