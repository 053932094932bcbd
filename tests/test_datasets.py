import gzip
import json
from pathlib import Path

import pytest
from conftest import DATA

from polytopic import CorpusError
from polytopic.datasets import load_demo, read_corpus, read_csv, read_jsonl, read_text_folder


def test_aligned_jsonl_keeps_languages_ids_and_labels(aligned_corpus):
    first = json.loads(gzip.open(DATA / "debian-aligned-400.jsonl.gz", "rt").readline())
    assert len(aligned_corpus) == 400 and aligned_corpus.ids[0] == first["id"]
    assert aligned_corpus.texts("de")[0] == first["text"]["de"]
    assert aligned_corpus.labels["section"][0] == first["section"]
    assert aligned_corpus.labels["tags"][0] == first["tags"]


def test_apps_with_icons_are_image_text_tuples():
    apps = read_jsonl(DATA / "apps-30.jsonl", text_field="debian", image_field="icon")
    assert len(apps) == 30 and {"en", "de"} <= set(apps.languages)
    assert all(Path(p).is_file() and p.endswith(".png") for p in apps.images)
    assert len(apps.image_indices()) == 30
    assert apps.labels["categories"][0] and "icon" not in apps.labels


def test_language_field_for_monolingual_documents(tmp_path):
    path = tmp_path / "mixed.jsonl"
    rows = [{"id": "a", "body": "Ein Haus", "lang": "de"}, {"id": "b", "body": "A house", "lang": "en"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    corpus = read_jsonl(path, text_field="body", language_field="lang")
    assert corpus.texts("de") == ["Ein Haus"] and corpus.texts("en") == ["A house"]
    assert corpus.labels == {}


def test_csv_and_text_folder(tmp_path):
    (tmp_path / "docs.csv").write_text('id,text,section\n1,"first, text",games\n2,second text,libs\n')
    corpus = read_corpus(tmp_path / "docs.csv")
    assert corpus.texts() == ["first, text", "second text"] and corpus.labels["section"] == ["games", "libs"]
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("bee text")
    (folder / "sub" / "a.txt").write_text("ay text")
    corpus = read_text_folder(folder, language="fr")
    assert corpus.ids == ["b.txt", "sub/a.txt"] and corpus.languages == ("fr",)


@pytest.mark.parametrize("content, message", [
    ('{"text": "ok"}\n[1, 2]\n', ":2: each line must be a JSON object"),
    ('{"text": "ok"}\n{"body": "x"}\n', ":2: no field 'text'"),
    ('{"text": 5}\n', "must be a string"),
    ("\n\n", "no documents"),
])
def test_bad_jsonl_names_the_line(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(CorpusError, match=message):
        read_jsonl(path)


@pytest.mark.parametrize("name, content, message", [
    ("latin1.jsonl", '{"text": "ok"}\n{"text": "café"}\n'.encode("latin-1"),
     r"latin1.jsonl:2: not UTF-8 text \(byte 0xe9 at column 14\)"),
    ("latin1.csv", 'id,text\n1,"two\nlines"\n2,café\n'.encode("latin-1"), r"latin1.csv:4: not UTF-8"),
    ("image.jsonl", sorted((DATA / "icons").glob("*.png"))[0].read_bytes(), r"image.jsonl:1: not UTF-8"),
    ("latin1.jsonl.gz", gzip.compress('{"text": "ok"}\n{"text": "ü"}\n'.encode("latin-1")), r"\.gz:2: not UTF-8"),
    ("plain.jsonl.gz", b'{"text": "ok"}\n', r"plain.jsonl.gz:1: not readable as gzip \(Not a gzipped file"),
    ("cut.jsonl.gz", (DATA / "debian-aligned-400.jsonl.gz").read_bytes()[:5000],
     r"cut.jsonl.gz:\d+: not readable as gzip"),
])
def test_undecodable_files_name_the_file_and_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=message):
        read_corpus(path)


def test_utf8_byte_order_mark_and_line_numbers_of_csv_rows(tmp_path):
    """A spreadsheet's BOM is not part of the first header; a row is numbered by the line
    it ends on, so a quoted field across lines does not shift later numbers."""
    path = tmp_path / "excel.csv"
    path.write_bytes(b'\xef\xbb\xbfid,text\n1,"two\nlines"\n2,\xc3\xa9t\xc3\xa9\n')
    corpus = read_csv(path)
    assert corpus.ids == ["1", "2"] and corpus.texts() == ["two\nlines", "été"]
    (tmp_path / "short.csv").write_text('id,text\n1,"two\nlines"\n2\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"short.csv:4: 'text' must be a string"):
        read_csv(tmp_path / "short.csv")


def test_missing_path_and_unknown_format(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        read_corpus(tmp_path / "nope.jsonl")
    (tmp_path / "x.parquet").write_text("")
    with pytest.raises(CorpusError, match="unknown corpus format"):
        read_corpus(tmp_path / "x.parquet")
    with pytest.raises(CorpusError, match="no files"):
        read_text_folder(tmp_path / ".." / tmp_path.name, pattern="*.md")


def test_bundled_demo_corpus():
    demo = load_demo()
    assert len(demo) == 2000 and demo.primary_language == "en"
    assert "section" in demo.labels


def test_repeated_ids_in_a_file_are_suffixed_with_a_warning(tmp_path, caplog):
    """The Debian apps list org.goldendict.GoldenDict twice (two packages): reading the
    file keeps both items, the second as ...#2, and says so."""
    path = tmp_path / "apps.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                            for i, t in [("g", "dictionary"), ("h", "editor"), ("g", "dictionary web")]))
    with caplog.at_level("WARNING", logger="polytopic"):
        corpus = read_jsonl(path)
    assert corpus.ids == ["g", "h", "g#2"] and corpus.texts("en") == ["dictionary", "editor", "dictionary web"]
    assert "1 ids of field 'id' occur more than once (g)" in caplog.text
