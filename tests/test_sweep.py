"""``polytopic sweep``: a run per K and seed, scored; the table, the figure and the
suggested K; bad --topics refused; nothing half-written; the corpus encoded once."""

import gzip
import json
import math
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import DATA

from polytopic import ModelFileError, ParameterError
from polytopic.cli import main
from polytopic.sweep import HIGHEST_NPMI, TOPIC_QUALITY, suggest_k, summarise, sweep, write_figure

RUN_FILES = {"config.json", "vocabulary.json", "model.safetensors", "run.json", "topics.txt",
             "topic_word.safetensors", "metrics.json"}


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    """150 Debian descriptions (en, de, fr, it texts per item)."""
    path = tmp_path_factory.mktemp("corpus") / "debian-150.jsonl"
    lines = gzip.open(DATA / "debian-aligned-400.jsonl.gz", "rt", encoding="utf-8").read().splitlines()
    path.write_text("\n".join(lines[:150]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def swept(tmp_path_factory, corpus_file):
    """ProdLDA at K = 3 and 5 (given out of order), two seeds each, two epochs."""
    out = tmp_path_factory.mktemp("sweeps") / "sweep"
    result = CliRunner().invoke(main, ["sweep", str(corpus_file), "--model", "prodlda", "--topics", "5,3",
                                       "--seeds", "2", "--epochs", "2", "--language", "en", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result


def test_a_run_per_fit_each_scored(swept, corpus_file):
    out, _ = swept
    names = ["k3-seed0", "k3-seed1", "k5-seed0", "k5-seed1"]
    assert {p.name for p in out.iterdir()} == {*names, "sweep.json", "sweep.tsv", "sweep.png"}
    record = json.loads((out / "sweep.json").read_text())
    assert [(row["k"], row["seed"], row["run"]) for row in record["rows"]] == [
        (3, 0, "k3-seed0"), (3, 1, "k3-seed1"), (5, 0, "k5-seed0"), (5, 1, "k5-seed1")]
    for row in record["rows"]:
        run = out / row["run"]
        assert {p.name for p in run.iterdir()} == RUN_FILES
        info = json.loads((run / "run.json").read_text())
        assert (info["n_topics"], info["options"]["seed"], info["corpus"]) == (row["k"], row["seed"], str(corpus_file))
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["run"] == str(run)  # the final place, not the temporary one
        assert row["c_npmi"] == metrics["coherence"]["c_npmi"]["mean"]
        assert row["topic_diversity"] == metrics["diversity"]["topic_diversity"]
        assert row["inverted_rbo"] == metrics["diversity"]["inverted_rbo"]
        assert row["fit_seconds"] == info["fit_seconds"]
        assert metrics["settings"] == record["settings"]
    assert record["settings"]["reference_corpus"] == str(corpus_file)
    assert record["settings"]["coherence_top_n"] == 10 and record["settings"]["coherence_windows"]["c_npmi"] == 10
    assert (record["model"], record["topics"], record["seeds"]) == ("prodlda", [3, 5], [0, 1])


def test_means_table_figure_and_suggestion(swept):
    out, result = swept
    record = json.loads((out / "sweep.json").read_text())
    assert record["by_k"] == summarise(record["rows"]) and record["suggestion"] == suggest_k(record["by_k"])
    npmi_k3 = [row["c_npmi"] for row in record["rows"] if row["k"] == 3]
    assert math.isclose(record["by_k"][0]["c_npmi"]["mean"], np.mean(npmi_k3))
    assert math.isclose(record["by_k"][0]["c_npmi"]["sd"], np.std(npmi_k3, ddof=1))
    header, *lines = (out / "sweep.tsv").read_text().splitlines()
    assert header.split("\t")[:4] == ["k", "n_fits", "c_npmi", "c_npmi_sd"]
    assert [line.split("\t")[:2] for line in lines] == [["3", "2"], ["5", "2"]]
    assert math.isclose(float(lines[1].split("\t")[2]), record["by_k"][1]["c_npmi"]["mean"], rel_tol=1e-5)
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "coherence c_npmi" in result.stdout and " ± " in result.stdout
    assert f"suggested K: {record['suggestion']['k']} (" in result.stdout
    progress = [line for line in result.stderr.splitlines() if "INFO polytopic.sweep: fit " in line]
    assert [line.split(": fit ")[1].split(" in ")[0] for line in progress] == [
        "1/4: K=3 seed 0", "2/4: K=3 seed 1", "3/4: K=5 seed 0", "4/4: K=5 seed 1"]
    assert all("left" in line for line in progress[:3]) and "elapsed" in progress[3]


def _rows(values: dict[int, list[tuple[float, float | None]]]) -> list[dict]:
    """Rows of sweep.json from {K: [(c_npmi, topic diversity) per seed]}."""
    return [{"k": k, "seed": seed, "c_npmi": npmi, "topic_diversity": diversity, "inverted_rbo": 1.0,
             "fit_seconds": 1.0, "run": f"k{k}"}
            for k, per_seed in values.items() for seed, (npmi, diversity) in enumerate(per_seed)]


def test_summary_means_and_sd():
    (entry,) = summarise(_rows({10: [(0.1, 0.8), (0.3, 0.6)]}))
    assert entry["n_fits"] == 2 and math.isclose(entry["c_npmi"]["mean"], 0.2)
    assert math.isclose(entry["c_npmi"]["sd"], math.sqrt(0.02))  # (0.1² + 0.1²) / (2 - 1)
    assert math.isclose(entry["topic_quality"], 0.2 * 0.7)
    (one,) = summarise(_rows({10: [(0.1, 0.8)]}))
    assert one["c_npmi"] == {"mean": 0.1, "sd": None}


@pytest.mark.parametrize("values, k, rule", [
    # TQ 0.045, 0.048, 0.063: K=30, though K=20 has the highest NPMI
    ({10: [(0.05, 0.9)], 20: [(0.08, 0.6)], 30: [(0.07, 0.9)]}, 30, TOPIC_QUALITY),
    # one positive NPMI is enough for topic quality: TQ -0.018 and 0.005
    ({10: [(-0.02, 0.9)], 20: [(0.01, 0.5)]}, 20, TOPIC_QUALITY),
    # TQ 0.05 and 0.05: the smaller K, whatever the order
    ({20: [(0.05, 1.0)], 10: [(0.1, 0.5)]}, 10, TOPIC_QUALITY),
    # every NPMI negative: TQ -0.01, -0.018, -0.01 would pick K=10; the highest NPMI is K=20's
    ({10: [(-0.1, 0.1)], 20: [(-0.02, 0.9)], 30: [(-0.05, 0.2)]}, 20, HIGHEST_NPMI),
    # NPMI 0 is not positive; ties to the smaller K
    ({30: [(0.0, 0.9)], 20: [(0.0, 0.5)], 10: [(-0.3, 0.9)]}, 20, HIGHEST_NPMI),
    # means over seeds decide: K=10's mean NPMI is 0.02 (TQ 0.018), K=20's 0.03 (TQ 0.015)
    ({10: [(0.0, 0.9), (0.04, 0.9)], 20: [(0.03, 0.5), (0.03, 0.5)]}, 10, TOPIC_QUALITY),
    # no topic diversity for one K (a vocabulary under 25 words): the highest NPMI
    ({10: [(0.05, 0.9)], 20: [(0.08, None)]}, 20, HIGHEST_NPMI),
])
def test_suggestion_rule(values, k, rule):
    suggestion = suggest_k(summarise(_rows(values)))
    assert (suggestion["k"], suggestion["rule"]) == (k, rule)
    assert ("reason" in suggestion) == (rule == HIGHEST_NPMI)
    if rule == HIGHEST_NPMI:
        assert ("diversity" if None in [d for v in values.values() for _, d in v] else "positive") \
            in suggestion["reason"]


@pytest.mark.parametrize("topics, message", [
    ("10,20,10,20,5", "more than once: 10, 20"),
    ("1,10", "at least 2, got 1"),
    ("0", "at least 2, got 0"),
    ("x", "whole numbers"),
    ("10,2.5", "whole numbers"),
    (",", "at least one"),
])
def test_bad_topics_are_usage_errors(topics, message, corpus_file, tmp_path):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", str(corpus_file), "--topics", topics, "--out", str(out)])
    assert result.exit_code == 2 and message in result.stderr and "--topics" in result.stderr, result.output
    assert list(tmp_path.iterdir()) == []


def test_library_refusals(corpus_file, tmp_path):
    out = tmp_path / "sweep"
    for kwargs, message in [({"topics": [5, 5]}, "more than once: 5"), ({"topics": [3], "seeds": [0, 0]}, "distinct"),
                            ({"topics": [3], "options": {"seed": 1}}, "sets seed itself"),
                            ({"topics": [3], "model_name": "zeroshot-kd"}, "teacher's number of topics")]:
        kwargs = {"model_name": "prodlda", **kwargs}
        with pytest.raises(ParameterError, match=message):
            sweep(corpus_file, out=out, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_existing_directory_is_kept_without_overwrite(corpus_file, tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = ["sweep", str(corpus_file), "--model", "prodlda", "--topics", "2", "--epochs", "1", "--language", "en",
            "--out", str(out), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and [p.name for p in tmp_path.iterdir()] == ["sweep"]
    assert CliRunner().invoke(main, args + ["--overwrite"]).exit_code == 0
    assert {p.name for p in out.iterdir()} == {"k2", "sweep.json", "sweep.tsv", "sweep.png"}
    assert [p.name for p in tmp_path.iterdir()] == ["sweep"]


def test_failure_mid_sweep_leaves_nothing(corpus_file, tmp_path):
    """The second K exceeds the vocabulary: the first, fitted and scored, goes too."""
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", str(corpus_file), "--model", "prodlda", "--topics", "3,5000",
                                       "--epochs", "1", "--language", "en", "--out", str(out), "-q"])
    assert result.exit_code == 1 and result.stderr.splitlines()[-1].startswith("error: n_topics=5000 exceeds")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_sweep_leaves_nothing(corpus_file, tmp_path, monkeypatch):
    """Ctrl-C during the second fit, after the first was written and scored."""
    import polytopic.sweep as sweep_module

    fits = []

    def fit_run(model, *args, **kwargs):
        fits.append(model.n_topics)
        if len(fits) == 2:
            raise KeyboardInterrupt
        return real_fit_run(model, *args, **kwargs)

    real_fit_run = sweep_module.fit_run
    monkeypatch.setattr(sweep_module, "fit_run", fit_run)
    with pytest.raises(KeyboardInterrupt):
        sweep(corpus_file, "prodlda", [3, 4], tmp_path / "sweep", options={"epochs": 1, "language": "en"})
    assert fits == [3, 4] and list(tmp_path.iterdir()) == []


def test_corpus_encoded_once(corpus_file, tmp_path, monkeypatch, hash_encoder_cls):
    """Every fit resolves its encoder anew, as from a name; the second finds every vector
    in the on-disk cache and encodes nothing."""
    import polytopic.models.base as base

    encoders = []

    def get_encoder(spec, modality="text", **options):
        assert spec == "hash-test" and modality == "text"
        encoders.append(hash_encoder_cls(cache_dir=tmp_path / "cache", **options))
        return encoders[-1]

    monkeypatch.setattr(base, "get_encoder", get_encoder)
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", str(corpus_file), "--model", "combined", "--topics", "3,4",
                                       "--encoder", "hash-test", "--epochs", "1", "--language", "en",
                                       "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    first, second = encoders
    texts = [json.loads(line)["text"]["en"] for line in corpus_file.read_text().splitlines()]
    assert sorted(t for batch in first.batches for t in batch) == sorted(set(texts))
    assert second.batches == []
    assert json.loads((out / "k4" / "run.json").read_text())["options"]["encoder"] == "hash-test"


def test_figure_skipped_without_matplotlib(swept, tmp_path, monkeypatch, caplog):
    out, _ = swept
    record = json.loads((out / "sweep.json").read_text())
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails
    with caplog.at_level("INFO", logger="polytopic"):
        write_figure(tmp_path / "sweep.png", record)
    assert list(tmp_path.iterdir()) == [] and 'pip install "polytopic[report]"' in caplog.text


def test_existing_directory_refused_before_reading(tmp_path):
    """The library refuses an existing directory before it reads (here: a missing) corpus."""
    (tmp_path / "sweep").mkdir()
    with pytest.raises(ModelFileError, match="already exists"):
        sweep(tmp_path / "missing.jsonl", "prodlda", [3], tmp_path / "sweep")


def test_a_sweep_scores_the_models_it_fitted(corpus_file, tmp_path, load_counts):
    """Every fit is scored with the model in hand: no model is loaded back from its run,
    and the corpus file is read once."""
    record = sweep(corpus_file, "lda", [2, 3], tmp_path / "sweep", options={"iterations": 20, "language": "en"})
    assert [row["k"] for row in record["rows"]] == [2, 3] and load_counts == {"loads": 0, "reads": 1}
