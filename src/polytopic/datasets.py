"""Readers that turn files into a :class:`~polytopic.corpus.Corpus`.

Formats: JSON lines (optionally gzipped), CSV, and a folder of ``.txt`` files. A JSON
object's text field may be a string or a ``{language: text}`` mapping (the layout of
``shared/data/debian``); an image field holds a path relative to the file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import json
import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path

from polytopic.corpus import Corpus
from polytopic.errors import CorpusError

logger = logging.getLogger(__name__)

DEMO_CORPUS = "debian-demo.jsonl.gz"


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """The lines of a text file (gzipped if it ends in ``.gz``), numbered from 1.

    Each line is decoded on its own, so that bytes that are not UTF-8 are reported with
    the line they are on (a decoding buffer would point several lines further). A byte
    order mark opening the file (spreadsheets write one) is dropped.

    Raises
    ------
    CorpusError
        On a line that is not UTF-8, or a ``.gz`` file that is not (or no longer) gzip.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    number = 0
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                yield number, _decode(raw, path, number)
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise CorpusError(f"{path}:{number + 1}: not readable as gzip ({err})") from None


def _decode(raw: bytes, path: Path, number: int) -> str:
    if number == 1:
        raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CorpusError(
            f"{path}:{number}: not UTF-8 text (byte {raw[err.start]:#04x} at column {err.start + 1}); "
            "convert the file to UTF-8"
        ) from None


def _json_records(path: Path) -> Iterator[tuple[int, dict]]:
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise CorpusError(f"{path}:{number}: not valid JSON ({err.msg})") from None
        if not isinstance(record, dict):
            raise CorpusError(f"{path}:{number}: each line must be a JSON object")
        yield number, record


def _csv_records(path: Path) -> Iterator[tuple[int, dict]]:
    """Rows with the number of the line each ends on (a quoted field may span lines)."""
    reader = csv.DictReader(line for _, line in _lines(path))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as err:
        raise CorpusError(f"{path}:{reader.line_num}: not readable as CSV ({err})") from None


def _build(
    records: Iterator[tuple[int, dict]],
    source: Path,
    text_field: str,
    id_field: str | None,
    language: str,
    language_field: str | None,
    image_field: str | None,
    label_fields: Sequence[str] | None,
) -> Corpus:
    items, ids, images, rows = [], [], [], []
    reserved = {text_field, id_field, language_field, image_field}
    for number, record in records:
        if text_field not in record:
            raise CorpusError(f"{source}:{number}: no field {text_field!r} (set text_field)")
        text = record[text_field]
        if isinstance(text, str):
            lang = record.get(language_field) if language_field else language
            if not lang:
                raise CorpusError(f"{source}:{number}: empty language field {language_field!r}")
            text = {str(lang): text}
        elif not isinstance(text, dict):
            raise CorpusError(f"{source}:{number}: {text_field!r} must be a string or a {{language: text}} object")
        items.append(text)
        ids.append(str(record[id_field]) if id_field and id_field in record else str(len(ids)))
        image = record.get(image_field) if image_field else None
        images.append(str((source.parent / image).resolve()) if image else None)
        rows.append(record)
    if not items:
        raise CorpusError(f"{source}: no documents found")
    names = label_fields if label_fields is not None else sorted(
        {k for r in rows for k in r} - reserved
    )
    labels = {name: [r.get(name) for r in rows] for name in names}
    return Corpus(items, ids=_unique_ids(ids, source, id_field), images=images, labels=labels)


def _unique_ids(ids: list[str], source, id_field: str | None) -> list[str]:
    """``ids`` with repeats made unique by a ``#2``, ``#3``... suffix, with a warning that
    names them: real files repeat ids (the Debian apps list org.goldendict.GoldenDict twice,
    for two packages), and an id is only the handle by which results name an item."""
    seen: dict[str, int] = {}
    unique = []
    for item_id in ids:
        seen[item_id] = seen.get(item_id, 0) + 1
        unique.append(item_id if seen[item_id] == 1 else f"{item_id}#{seen[item_id]}")
    repeated = [item_id for item_id, count in seen.items() if count > 1]
    if repeated:
        logger.warning("%s: %d ids of field %r occur more than once (%s); later ones get a #2, #3... suffix",
                       source, len(repeated), id_field, ", ".join(repeated[:5]) + (" ..." if len(repeated) > 5 else ""))
    return unique


#: The reading options of :func:`read_jsonl` and :func:`read_csv`, and their defaults.
READ_DEFAULTS: dict = {"text_field": "text", "id_field": "id", "language": "en", "language_field": None,
                       "image_field": None, "label_fields": None}


def _records_reader(records: Callable[[Path], Iterator[tuple[int, dict]]], name: str, doc: str):
    """A reader of one file format: its ``records`` built into a Corpus (:func:`_build`)
    under the options of :data:`READ_DEFAULTS`."""
    def read(
        path: str | Path,
        text_field: str = "text",
        id_field: str | None = "id",
        language: str = "en",
        language_field: str | None = None,
        image_field: str | None = None,
        label_fields: Sequence[str] | None = None,
    ) -> Corpus:
        path = _existing(path)
        return _build(records(path), path, text_field, id_field, language, language_field, image_field,
                      label_fields)

    read.__name__ = read.__qualname__ = name
    read.__doc__ = doc
    return read


read_jsonl = _records_reader(_json_records, "read_jsonl", """\
    Read one JSON object per line (``.jsonl`` or ``.jsonl.gz``).

    ``language_field`` names a per-document language for string texts (otherwise
    ``language``). ``label_fields`` None keeps every other top-level field as a label.
    """)
read_csv = _records_reader(_csv_records, "read_csv", """\
    Read a CSV file with a header row; one document per row.

    The options are :func:`read_jsonl`'s; every value is a string.
    """)


def read_text_folder(path: str | Path, language: str = "en", pattern: str = "*.txt") -> Corpus:
    """Read every ``pattern`` file under a folder (recursively, sorted) as one document;
    the id is the path relative to the folder."""
    root = _existing(path)
    files = sorted(p for p in root.rglob(pattern) if p.is_file())
    if not files:
        raise CorpusError(f"{root}: no files matching {pattern!r}")
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]
    return Corpus(texts, language=language, ids=[str(p.relative_to(root)) for p in files])


def read_corpus(path: str | Path, **options) -> Corpus:
    """Read ``path`` by its kind: a folder of text files, ``.csv``, or JSON lines."""
    path = _existing(path)
    if path.is_dir():
        allowed = {"language", "pattern"}
        return read_text_folder(path, **{k: v for k, v in options.items() if k in allowed})
    name = path.name.removesuffix(".gz")
    if name.endswith(".csv"):
        return read_csv(path, **options)
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return read_jsonl(path, **options)
    raise CorpusError(f"{path}: unknown corpus format; use .jsonl[.gz], .csv or a folder of .txt files")


class CorpusCache:
    """Corpora read once per file and effective reading options: a report, an evaluation
    and the runs of one comparison share the reading of a training corpus they all name."""

    def __init__(self) -> None:
        self._corpora: dict[tuple, Corpus] = {}

    def read(self, path: str | Path, **options) -> Corpus:
        """The corpus at ``path`` read with ``options`` (:func:`read_corpus`'s), read
        from the file the first time only."""
        key = _corpus_key(path, options)
        if key not in self._corpora:
            self._corpora[key] = read_corpus(path, **options)
        return self._corpora[key]

    def add(self, path: str | Path, corpus: Corpus, **options) -> None:
        """Hold ``corpus`` as the one read from ``path`` with ``options``: a caller that
        has read it already (a sweep, to fit) spares the second reading."""
        self._corpora[_corpus_key(path, options)] = corpus


def _corpus_key(path: str | Path, options: dict) -> tuple:
    """The file and the options that differ from their defaults: ``language_field=None``
    reads as no option at all."""
    given = {k: v for k, v in options.items() if k not in READ_DEFAULTS or READ_DEFAULTS[k] != v}
    return Path(path).resolve(), tuple(sorted((k, repr(v)) for k, v in given.items()))


def demo_corpus_path() -> Path:
    """Path of the bundled demo corpus: 2,000 Debian package descriptions (en, with
    de/fr/it translations where Debian has them) and their ``section`` labels."""
    return Path(str(resources.files("polytopic") / "data" / DEMO_CORPUS))


def load_demo() -> Corpus:
    """The demo corpus shipped with the package (:func:`demo_corpus_path`)."""
    return read_jsonl(demo_corpus_path())


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: no such file or folder")
    return path
