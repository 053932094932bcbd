"""The run directory: what write_run puts in it and how topics and metrics are read back."""

import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from polytopic import ModelFileError, ParameterError, ProdLDA, ViewError
from polytopic.persistence import write_json
from polytopic.preprocessing import Tokenizer, Vocabulary
from polytopic.runs import (
    TOPIC_WORD_FILE,
    read_metrics,
    read_run,
    read_topics,
    top_words,
    write_metrics,
    write_run,
)


class TwoLanguageModel:
    """What write_run reads of a fitted model that learned English and Italian, with
    topic-word weights chosen so that the top words are known."""

    name, n_topics, n_topics_, language_, languages_ = "stub", 2, 2, "it", ("it", "en")
    weights = {
        "en": [[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]],  # topic 0: dog fish cat; topic 1: cat fish dog
        "it": [[0.7, 0.1, 0.2], [0.2, 0.2, 0.6]],  # topic 0: gatto pesce cane; topic 1: pesce gatto cane (tie)
    }
    vocabularies_ = {"en": Vocabulary(("cat", "dog", "fish"), Tokenizer("en", stopwords=[])),
                     "it": Vocabulary(("gatto", "cane", "pesce"), Tokenizer("it", stopwords=[]))}

    def write(self, directory):
        write_json(directory / "vocabulary.json", {k: v.to_dict() for k, v in self.vocabularies_.items()})

    def topic_word(self, language=None):
        return np.array(self.weights[language or self.language_])  # float64, as some models give

    def saved_params(self):
        return {"n_topics": 2, "languages": ["it", "en"]}


@pytest.fixture
def two_language_run(tmp_path):
    write_run(tmp_path, TwoLanguageModel(), corpus="corpus.jsonl", n_documents=7, fit_seconds=1.23456)
    return tmp_path


def test_a_run_holds_topic_words_per_language(two_language_run):
    run = two_language_run
    assert {p.name for p in run.iterdir()} == {"vocabulary.json", "run.json", TOPIC_WORD_FILE, "topics.txt",
                                              "topics-it.txt", "topics-en.txt"}
    matrices = load_file(str(run / TOPIC_WORD_FILE))
    assert sorted(matrices) == ["en", "it"] and all(m.dtype == np.float32 for m in matrices.values())
    np.testing.assert_allclose(matrices["en"], TwoLanguageModel.weights["en"])
    assert (run / "topics.txt").read_text() == "gatto pesce cane\npesce gatto cane\n"
    assert (run / "topics-it.txt").read_text() == (run / "topics.txt").read_text()
    assert (run / "topics-en.txt").read_text() == "dog fish cat\ncat fish dog\n"
    info = read_run(run)
    assert info["corpus"] == "corpus.jsonl" and info["model"] == "stub" and info["n_topics"] == 2
    assert info["language"] == "it" and info["languages"] == ["it", "en"] and info["fit_seconds"] == 1.235
    assert info["options"] == {"n_topics": 2, "languages": ["it", "en"]} and info["n_documents"] == 7
    assert "read_options" not in info  # recorded only when given
    assert {"polytopic", "python", "numpy"} <= set(info["versions"])


def test_topics_are_read_per_language_without_the_model(two_language_run):
    assert read_topics(two_language_run, top_n=2) == [["gatto", "pesce"], ["pesce", "gatto"]]
    assert read_topics(two_language_run, top_n=1, language="en") == [["dog"], ["cat"]]
    assert read_topics(two_language_run, top_n=50, language="en")[0] == ["dog", "fish", "cat"]
    with pytest.raises(ViewError, match=r"topic words for \['en', 'it'\], not 'de'"):
        read_topics(two_language_run, language="de")
    with pytest.raises(ParameterError, match="top_n"):
        read_topics(two_language_run, top_n=0)


def test_topic_words_that_do_not_match_the_vocabulary_are_refused(two_language_run):
    vocabulary = json.loads((two_language_run / "vocabulary.json").read_text())
    vocabulary["en"]["words"] = ["cat", "dog"]
    (two_language_run / "vocabulary.json").write_text(json.dumps(vocabulary))
    with pytest.raises(ModelFileError, match="does not match"):
        read_topics(two_language_run, language="en")
    with pytest.raises(ModelFileError, match="no such run directory"):
        read_topics(two_language_run / "nothing")


def test_ties_keep_vocabulary_order():
    weights = np.array([[0.25, 0.25, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    assert top_words(weights, ["a", "b", "c"], 2) == [["c", "a"], ["a", "b"]]


@pytest.fixture(scope="module")
def model_run(tmp_path_factory, english_corpus):
    path = tmp_path_factory.mktemp("run")
    model = ProdLDA(n_topics=4, epochs=2, language="en", progress=False).fit(english_corpus)
    write_run(path, model, corpus="corpus.jsonl", n_documents=len(english_corpus), fit_seconds=0.5)
    return path, model


def test_a_fitted_model_reads_back_alike(model_run):
    path, model = model_run
    assert read_topics(path, top_n=7) == model.topics(top_n=7)
    assert [line.split() for line in (path / "topics.txt").read_text().splitlines()] == model.topics(top_n=10)
    assert not list(path.glob("topics-*.txt"))  # one language: topics.txt only


def test_runs_without_topic_word_file_are_read_through_the_model(model_run, tmp_path):
    import shutil

    old = shutil.copytree(model_run[0], tmp_path / "old")
    (old / TOPIC_WORD_FILE).unlink()
    assert read_topics(old, top_n=5) == read_topics(model_run[0], top_n=5)


def test_metrics_round_trip_and_leave_no_partial_file(tmp_path):
    metrics = {"coherence": {"c_npmi": {"mean": 0.1}}, "settings": {"language": "en"}}
    path = write_metrics(tmp_path, metrics)
    assert path == tmp_path / "metrics.json" and read_metrics(tmp_path) == metrics
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_reading_options_are_recorded(tmp_path):
    options = {"text_field": "debian", "id_field": "id", "language": "en", "language_field": None,
               "image_field": "icon"}
    write_run(tmp_path, TwoLanguageModel(), corpus="apps.jsonl", n_documents=7, fit_seconds=1.0, read_options=options)
    assert read_run(tmp_path)["read_options"] == options


def test_a_stage_entered_again_adds_up():
    """One stage per view: a model with two languages builds two vocabularies."""
    from polytopic.stages import Stages

    stages = Stages()
    with stages.stage("vocabulary", 3):
        pass
    with stages.stage("vocabulary") as again:
        again.items = 4
    with stages.stage("write"):
        pass
    record = stages.as_dict()
    assert list(record) == ["vocabulary", "write"] and record["vocabulary"]["items"] == 7
    assert "items" not in record["write"] and record["write"]["peak_rss_mb"] >= record["vocabulary"]["peak_rss_mb"]
