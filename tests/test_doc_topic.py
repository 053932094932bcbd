"""θ written a chunk at a time: the same numbers as one transform, and a file that is
whole or absent."""

import errno
import json

import numpy as np
import pytest

from polytopic.doc_topic import write_doc_topic
from polytopic.errors import CorpusError, OutputError, ViewError
from polytopic.models import ProdLDA


@pytest.fixture(scope="module")
def model(english_corpus):
    return ProdLDA(n_topics=4, epochs=2, progress=False).fit(english_corpus)


@pytest.mark.parametrize("suffix", [".npy", ".jsonl", ".tsv", ".csv"])
def test_chunks_write_what_one_transform_gives(model, english_corpus, tmp_path, suffix):
    path = tmp_path / f"theta{suffix}"
    assert write_doc_topic(model, english_corpus, path, chunk_size=37) == len(english_corpus)
    whole = model.transform(english_corpus)
    text = path.read_text(encoding="utf-8") if suffix != ".npy" else None
    if suffix == ".npy":
        written, ids = np.load(path), english_corpus.ids
        assert written.dtype == whole.dtype
    elif suffix == ".jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
        written, ids = np.array([r["topics"] for r in rows]), [r["id"] for r in rows]
    else:
        sep = "," if suffix == ".csv" else "\t"
        lines = [line.split(sep) for line in text.splitlines()]
        assert lines[0] == ["id", "topic_0", "topic_1", "topic_2", "topic_3"]
        written, ids = np.array([[float(v) for v in line[1:]] for line in lines[1:]]), [line[0] for line in lines[1:]]
        assert text.count("id" + sep) == 1  # one header, not one per chunk
    assert ids == english_corpus.ids
    # a batch of other rows changes θ by float32 rounding only (the battery's bound), the text's 6 decimals
    np.testing.assert_allclose(written, whole, atol=1e-6 if suffix == ".npy" else 2e-6)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_failure_midway_leaves_no_file(model, english_corpus, tmp_path, monkeypatch):
    calls = []
    real = model.transform

    def fails_on_the_third_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "transform", fails_on_the_third_chunk)
    for suffix in (".npy", ".jsonl"):
        calls.clear()
        with pytest.raises(KeyboardInterrupt):
            write_doc_topic(model, english_corpus, tmp_path / f"theta{suffix}", chunk_size=100)
    assert list(tmp_path.iterdir()) == []


def test_no_space_left_is_a_clear_error_and_leaves_nothing(model, english_corpus, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np.lib.format, "open_memmap", full)
    with pytest.raises(OutputError, match="No space left on device"):
        write_doc_topic(model, english_corpus, tmp_path / "theta.npy")
    assert list(tmp_path.iterdir()) == []


def test_views_and_formats_are_checked_before_any_work(model, english_corpus, tmp_path):
    with pytest.raises(ViewError, match="image"):
        write_doc_topic(model, english_corpus, tmp_path / "theta.npy", images=True)
    with pytest.raises(OutputError, match="unknown format '.parquet'"):
        write_doc_topic(model, english_corpus, tmp_path / "theta.parquet")
    from polytopic import Corpus

    german_only = Corpus({"en": [None, None], "de": ["ein Text", "noch einer"]})
    with pytest.raises(CorpusError, match="nothing to transform"):
        write_doc_topic(model, german_only, tmp_path / "theta.npy")
    assert list(tmp_path.iterdir()) == []
