import gzip
import json
from pathlib import Path

import pytest

from polytopic import CorpusError
from polytopic.datasets import load_demo, read_corpus, read_csv, read_jsonl, read_text_folder

from conftest import DATA


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
