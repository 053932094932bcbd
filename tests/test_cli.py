import json
import logging
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import DATA

from polytopic.cli import main


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
    assert run["read_options"] == {"text_field": "text", "id_field": "id", "language": "en", "language_field": None,
                                   "image_field": None}
    assert {"polytopic", "python", "numpy", "torch"} <= set(run["versions"])


def test_run_json_records_each_stage(run_dir):
    """Where a fit's time and memory went: each stage in the order it ran, with what it
    handled; the peak RSS only rises (it is the process's peak so far)."""
    stages = json.loads((run_dir / "run.json").read_text())["stages"]
    assert list(stages) == ["read", "vocabulary", "train", "write"]  # prodlda encodes nothing
    assert stages["read"]["items"] == stages["vocabulary"]["items"] == stages["train"]["items"] == 400
    assert all(stage["seconds"] >= 0 for stage in stages.values())
    assert stages["train"]["items_per_second"] == pytest.approx(400 / stages["train"]["seconds"], rel=0.01)
    peaks = [stage["peak_rss_mb"] for stage in stages.values()]
    assert peaks == sorted(peaks) and peaks[0] > 10


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

    takers = [name for name, cls in MODELS.items() if "languages" in cls.parameter_names()]
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


APPS = DATA / "apps" / "apps-60.jsonl"


@pytest.fixture(scope="module")
def apps_run(tmp_path_factory):
    """m3l over the apps' English and Italian texts and their icons."""
    out = tmp_path_factory.mktemp("apps") / "apps"
    fit = CliRunner().invoke(main, ["-q", "fit", str(APPS), "--model", "m3l", "--text-field", "debian",
                                    "--languages", "en,it", "--image-field", "icon", "--topics", "4", "--epochs", "2",
                                    "--out", str(out)])
    assert fit.exit_code == 0, fit.output
    return out


def test_multilingual_and_image_run_from_the_command_line(apps_run, tmp_path):
    """Topics per language, θ of images."""
    apps, out = str(APPS), apps_run
    runner = CliRunner()
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


def test_evaluate_aligned_reads_the_file_as_at_fit_time(apps_run):
    """No reading option given: the run's (--text-field debian, --image-field icon) apply
    to the aligned file and to the training corpus; the languages are the run's."""
    run = json.loads((apps_run / "run.json").read_text())
    assert run["read_options"] == {"text_field": "debian", "id_field": "id", "language": "en",
                                   "language_field": None, "image_field": "icon"}
    result = CliRunner().invoke(main, ["evaluate", str(apps_run), "--aligned", str(APPS), "--images", "--seed", "3"])
    assert result.exit_code == 0, result.output
    for row in ("en→it match", "en→it match (shuffled)", "it→image MRR", "image→en KL (shuffled)",
                "coherence c_npmi [it]", "coherence c_npmi"):
        assert any(line.startswith(row + " ") for line in result.stdout.splitlines()), row
    metrics = json.loads((apps_run / "metrics.json").read_text())
    assert metrics["settings"]["reference_documents"] == 60 and "coherence" in metrics
    aligned = metrics["alignment"]
    assert aligned["settings"]["views"] == ["en", "it", "image"] and aligned["settings"]["shuffle_seed"] == 3
    assert aligned["n_items"] == {"en": 60, "it": 59, "image": 60}  # one app has no Italian text
    assert {key: pair["n_pairs"] for key, pair in aligned["pairs"].items()} == {
        "en->it": 59, "it->en": 59, "en->image": 60, "image->en": 60, "it->image": 59, "image->it": 59}
    assert set(aligned["coherence"]) == {"en", "it"} and aligned["settings"]["reference_documents"]["it"] == 59
    figures = ["confusion-en-it.png", "confusion-en-image.png", "confusion-it-image.png"]
    assert aligned["figures"] == figures and all((apps_run / name).is_file() for name in figures)
    assert "INFO polytopic.cli: alignment over" in result.stderr
    compared = CliRunner().invoke(main, ["compare", str(apps_run), "-q"])
    assert compared.exit_code == 0 and "en→image match (shuffled)" in compared.output


def test_topics_with_typical_images(apps_run):
    """`topics --images 3`: each topic's words, then its three most typical training icons
    indented, as fit recorded them (typical-images.json, absolute paths)."""
    result = CliRunner().invoke(main, ["topics", str(apps_run), "--top-n", "5", "--images", "3"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 4 * (1 + 3)
    words, paths = lines[::4], [lines[4 * k + 1: 4 * k + 4] for k in range(4)]
    assert words == CliRunner().invoke(main, ["topics", str(apps_run), "--top-n", "5"]).stdout.splitlines()
    recorded = json.loads((apps_run / "typical-images.json").read_text())
    assert recorded["top_n"] == 20 and [len(topic) for topic in recorded["topics"]] == [20] * 4
    for k in range(4):
        assert all(line.startswith("  ") and not line.startswith("   ") for line in paths[k])
        assert [line.strip() for line in paths[k]] == [entry["image"] for entry in recorded["topics"][k][:3]]
        assert all(Path(line.strip()).is_absolute() and Path(line.strip()).is_file() for line in paths[k])
    many = CliRunner().invoke(main, ["topics", str(apps_run), "--images", "25"])
    assert many.exit_code == 0 and len(many.stdout.splitlines()) == 4 * (1 + 20)
    assert "only the 20 most typical images of each topic are recorded" in many.stderr


def test_topics_with_images_does_not_import_torch(apps_run):
    code = (
        "import sys\n"
        "from polytopic.cli import main\n"
        f"main(['topics', {str(apps_run)!r}, '--top-n', '3', '--images', '2'], standalone_mode=False)\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'scipy'})\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 4 * 3


def test_images_of_a_run_without_an_image_view(run_dir):
    """`topics --images` of a text-only run is refused in one line; an image run written
    without its typical images (before they were recorded) says so."""
    result = CliRunner().invoke(main, ["topics", str(run_dir), "--images", "2"])
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert "has no image view (its model learned ['en'])" in result.stderr and result.stdout == ""


def test_typical_images_missing_from_an_image_run(apps_run, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(apps_run, old)
    (old / "typical-images.json").unlink()
    result = CliRunner().invoke(main, ["topics", str(old), "--images", "2"])
    assert result.exit_code == 1 and "records no typical images" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_evaluate_uap_by_category(apps_run):
    """--category-field categories: every pair gains the UAP of retrieving the apps sharing a
    category (["Game", "ArcadeGame"]), beside its shuffled baseline."""
    result = CliRunner().invoke(main, ["evaluate", str(apps_run), "--aligned", str(APPS), "--images",
                                       "--category-field", "categories", "-q"])
    assert result.exit_code == 0, result.output
    shown = {line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1] for line in result.stdout.splitlines()
             if "UAP" in line}
    for pair in ("en→image", "image→en", "en→it", "it→image"):
        assert f"{pair} UAP (categories)" in shown and f"{pair} UAP (categories, shuffled)" in shown
    aligned = json.loads((apps_run / "metrics.json").read_text())["alignment"]
    assert aligned["settings"]["category_field"] == "categories" and aligned["settings"]["items_without_category"] == 0
    for pair in aligned["pairs"].values():
        assert 0 < pair["uap"] <= 1 and 0 < pair["uap_random"] <= 1
        # 21% of the pairs of the 60 apps share a category (the same app included)
        assert 0.15 < pair["relevant_share"] < 0.3 and abs(pair["uap_random"] - pair["relevant_share"]) < 0.15


@pytest.mark.parametrize("args, status, message", [
    (["--category-field", "categories"], 2, "--category-field only go with --aligned"),
    (["--aligned", str(APPS), "--category-field", "genre"], 1, "has no field 'genre' to read categories from"),
])
def test_category_field_refusals(args, status, message, apps_run):
    result = CliRunner().invoke(main, ["evaluate", str(apps_run), "-q", *args])
    assert result.exit_code == status and message in result.stderr, result.output


def _apps_copy(directory, broken: dict) -> Path:
    """apps-60.jsonl in ``directory`` with absolute icon paths, some replaced: {row: path}."""
    lines = []
    for i, line in enumerate(APPS.read_text(encoding="utf-8").splitlines()):
        app = json.loads(line)
        app["icon"] = str(broken.get(i, APPS.parent / app["icon"]))
        lines.append(json.dumps(app))
    path = directory / "apps.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "gone.png", "gone.png does not exist"),
    (lambda d: (d / "notes.png").write_text("not a picture") and d / "notes.png",
     "notes.png is not an image (cannot identify image file)"),
    (lambda d: (d / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>') and d / "logo.svg",
     "SVG images are not read: rasterise it to PNG first"),
])
def test_bad_icons_are_named_in_one_line(make, message, apps_run, tmp_path):
    """Transform --images over a file whose sixth icon is missing, not an image, or SVG:
    status 1, one line naming the item and the file."""
    corpus = _apps_copy(tmp_path, {5: make(tmp_path)})
    item = json.loads(APPS.read_text(encoding="utf-8").splitlines()[5])["id"]
    result = CliRunner().invoke(main, ["-q", "transform", str(apps_run), str(corpus), "--text-field", "debian",
                                       "--image-field", "icon", "--images"])
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.output
    assert result.stderr.startswith(f"error: item {item!r}: {tmp_path}") and message in result.stderr
    assert result.stdout == ""


def test_image_encoder_that_is_not_a_vision_model(apps_run, tmp_path):
    """--image-encoder naming a text model's folder: status 1, one line, before anything is written."""
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    result = CliRunner().invoke(main, ["-q", "fit", str(APPS), "--model", "m3l", "--text-field", "debian",
                                       "--languages", "en", "--image-field", "icon", "--image-encoder", str(bert),
                                       "--topics", "3", "--epochs", "1", "--out", str(tmp_path / "run")])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]  # after fit's warnings
    assert result.exit_code == 1 and errors == result.stderr.splitlines()[-1:], result.output
    assert "is not a CLIP-family model directory (bert)" in errors[0] and not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, status, message", [
    (["--languages", "en,it"], 1, "has topics for ['en'], not 'it'"),  # the model's ViewError
    (["--languages", "en,xx"], 1, "has no texts in 'xx'; it has ['en', 'de', 'fr', 'it']"),
    (["--languages", "en"], 1, "at least two views"),
    ([], 2, "--languages"),
    (["--languages", "en,it", "--images"], 2, "--image-field"),
])
def test_evaluate_aligned_refusals(args, status, message, run_dir, corpus_file):
    result = CliRunner().invoke(main, ["evaluate", str(run_dir), "--aligned", str(corpus_file), "-q", *args])
    assert result.exit_code == status and message in result.stderr, result.output
    assert not (run_dir / "metrics.json").exists() and not list(run_dir.glob("confusion-*"))


def test_aligned_options_need_aligned(run_dir):
    result = CliRunner().invoke(main, ["evaluate", str(run_dir), "--languages", "en,it", "--text-field", "t"])
    assert result.exit_code == 2 and "--languages, --text-field only go with --aligned" in result.stderr


@pytest.fixture(scope="module")
def apps_teacher(tmp_path_factory):
    """A ZeroShotTM of the apps' English texts (multilingual USE, cached by apps_run's fit)."""
    out = tmp_path_factory.mktemp("teacher") / "zs"
    fit = CliRunner().invoke(main, ["-q", "fit", str(APPS), "--model", "zeroshot", "--text-field", "debian",
                                    "--language", "en", "--encoder", "use-multilingual", "--topics", "4",
                                    "--epochs", "2", "--param", "min_df=1", "--out", str(out)])
    assert fit.exit_code == 0, fit.output
    return out


def test_distillation_students_from_the_command_line(apps_run, apps_teacher, tmp_path):
    """`--teacher RUN --language it` and `--teacher RUN --images`: K from the teacher."""
    common = ["-q", "fit", str(APPS), "--model", "zeroshot-kd", "--teacher", str(apps_teacher),
              "--text-field", "debian", "--epochs", "2", "--param", "min_df=1"]
    italian = CliRunner().invoke(main, [*common, "--language", "it", "--out", str(tmp_path / "it")])
    assert italian.exit_code == 0, italian.output
    run = json.loads((tmp_path / "it" / "run.json").read_text())
    assert (run["model"], run["n_topics"], run["languages"]) == ("zeroshot-kd", 4, ["it"])
    assert run["options"]["teacher"] == str(apps_teacher)
    icons = CliRunner().invoke(main, [*common, "--images", "--image-field", "icon", "--out", str(tmp_path / "img")])
    assert icons.exit_code == 0, icons.output
    theta = tmp_path / "theta.npy"
    done = CliRunner().invoke(main, ["-q", "transform", str(tmp_path / "img"), str(APPS), "--text-field", "debian",
                                     "--image-field", "icon", "--images", "--output", str(theta)])
    assert done.exit_code == 0 and np.load(theta).shape == (60, 4)
    shown = CliRunner().invoke(main, ["topics", str(tmp_path / "img"), "--images", "2"])  # the student's icons
    assert shown.exit_code == 0 and len(shown.stdout.splitlines()) == 4 * 3
    assert not (tmp_path / "it" / "typical-images.json").exists()


@pytest.mark.parametrize("extra, status, message", [
    (["--topics", "7"], 1, "the teacher has 4 topics"),
    (["--images"], 2, "needs --image-field"),
    (["--language", "en"], 1, "other than the teacher's 'en'"),
])
def test_distillation_refusals(extra, status, message, apps_teacher, tmp_path):
    result = CliRunner().invoke(main, ["-q", "fit", str(APPS), "--model", "zeroshot-kd", "--teacher",
                                       str(apps_teacher), "--text-field", "debian", "--epochs", "1",
                                       "--out", str(tmp_path / "kd"), *extra])
    assert result.exit_code == status and message in result.stderr, result.output
    assert not (tmp_path / "kd").exists()


def test_teacher_of_another_model_is_refused(run_dir, corpus_file, tmp_path):
    """A teacher run that is not a ZeroShotTM (prodlda), and --teacher for a model without one."""
    result = CliRunner().invoke(main, ["-q", "fit", str(corpus_file), "--model", "zeroshot-kd", "--teacher",
                                       str(run_dir), "--out", str(tmp_path / "kd")])
    assert result.exit_code == 1 and "must be a ZeroShotTM ('zeroshot'), not a 'prodlda'" in result.stderr
    result = CliRunner().invoke(main, ["-q", "fit", str(corpus_file), "--model", "lda", "--teacher", str(run_dir),
                                       "--out", str(tmp_path / "lda")])
    assert result.exit_code == 2 and "has no option(s) ['teacher']" in result.stderr


def test_pltm_and_per_language_encoders_from_the_command_line(apps_run, tmp_path):
    pltm = CliRunner().invoke(main, ["-q", "fit", str(APPS), "--model", "pltm", "--text-field", "debian",
                                     "--languages", "en,it", "--topics", "4", "--param", "iterations=20",
                                     "--param", "min_df=1", "--out", str(tmp_path / "pltm")])
    assert pltm.exit_code == 0, pltm.output
    assert {"topics-en.txt", "topics-it.txt"} <= {p.name for p in (tmp_path / "pltm").iterdir()}
    unaligned = CliRunner().invoke(main, ["-q", "fit", str(APPS), "--model", "m3l", "--text-field", "debian",
                                          "--languages", "en,it",
                                          "--encoder", "en=use-multilingual,it=use-multilingual",
                                          "--topics", "4", "--epochs", "1", "--out", str(tmp_path / "m3l")])
    assert unaligned.exit_code == 0, unaligned.output
    options = json.loads((tmp_path / "m3l" / "run.json").read_text())["options"]
    assert options["encoder"] == {"en": "use-multilingual", "it": "use-multilingual"}
    bad = CliRunner().invoke(main, ["-q", "fit", str(APPS), "--model", "m3l", "--encoder", "en=,it=x",
                                    "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "LANGUAGE=NAME pairs" in bad.stderr


def test_demo_fits_the_clustering_model_on_the_bundled_corpus(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["-q", "demo", "--topics", "6", "--out", str(out)])
    assert result.exit_code == 0, result.output
    topics = [line.split() for line in result.stdout.splitlines() if line.strip()]  # warnings go to stderr
    assert len(topics) == 6 and all(len(t) >= 10 for t in topics)
    assert "Loading weights" not in result.output  # -q hides transformers' loading bar too
    assert json.loads((out / "run.json").read_text())["model"] == "clustering"
    refused = CliRunner().invoke(main, ["-q", "demo", "--epochs", "3", "--out", str(tmp_path / "x")])
    assert refused.exit_code != 0 and "no option(s) ['epochs']" in refused.output
