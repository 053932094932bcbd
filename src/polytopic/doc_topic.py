"""Document-topic distributions of a corpus under a fitted model, computed and written a
chunk of items at a time (issue #22): θ of a large corpus is never held whole beside the
corpus, and the file it goes to is either complete or absent (written beside and renamed,
so an interrupted or failed write leaves nothing that looks whole).

Formats, by the output's suffix: ``.npy`` (the model's dtype, shape (n_rows, K), written
through a memory map), ``.jsonl`` (``{"id": ..., "topics": [...]}`` a line), ``.csv`` and
``.tsv`` (a header ``id, topic_0, ...`` and one row per item). The rows are the items that
have the view read (a language's texts, or the images), in corpus order; a model's
``transform`` does not depend on which other items share its batch (the common battery
checks it), so chunks change θ by float32 rounding only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from polytopic.errors import CorpusError, OutputError
from polytopic.persistence import atomic_file

#: Output formats, by suffix.
FORMATS = (".npy", ".csv", ".tsv", ".jsonl")
#: Items transformed at a time: θ of one chunk and its inputs are what transform holds.
CHUNK_SIZE = 20_000


def view_positions(model, corpus, language: str | None = None, images: bool = False) -> np.ndarray:
    """The corpus positions of the rows of θ: the items with the view ``transform`` reads
    (refused with a :class:`~polytopic.errors.ViewError` before any work if the model has
    no such view)."""
    view = model.transform_view(language, images)
    return corpus.image_indices() if images else corpus.indices(view)


def iter_doc_topic(model, corpus, *, language: str | None = None, images: bool = False,
                   chunk_size: int = CHUNK_SIZE) -> Iterator[tuple[list[str], np.ndarray]]:
    """(ids, θ) of each chunk of up to ``chunk_size`` items of the view, in corpus order."""
    positions = view_positions(model, corpus, language, images)
    for start in range(0, len(positions), chunk_size):
        rows = positions[start : start + chunk_size]
        theta = model.transform(corpus.subset(rows), language=language, images=images)
        yield [corpus.ids[i] for i in rows], theta


def doc_topic_lines(ids: list[str], theta: np.ndarray, suffix: str, header: bool) -> str:
    """Text rows of θ: JSON objects (.jsonl), or CSV/TSV rows after a ``header`` if asked."""
    if suffix == ".jsonl":
        lines = [json.dumps({"id": i, "topics": [round(float(p), 6) for p in row]}) for i, row in zip(ids, theta)]
    else:
        sep = "," if suffix == ".csv" else "\t"
        lines = [sep.join(["id"] + [f"topic_{k}" for k in range(theta.shape[1])])] if header else []
        lines += [sep.join([str(i)] + [f"{p:.6f}" for p in row]) for i, row in zip(ids, theta)]
    return "".join(line + "\n" for line in lines)


def write_doc_topic(model, corpus, path: str | Path, *, language: str | None = None, images: bool = False,
                    chunk_size: int = CHUNK_SIZE) -> int:
    """Write θ of ``corpus`` under ``model`` to ``path`` (format by suffix, see the module)
    chunk by chunk; returns the number of rows. ``path`` appears only when complete."""
    path = Path(path)
    if path.suffix not in FORMATS:
        raise OutputError(f"unknown format {path.suffix!r} for {path}: use one of {', '.join(FORMATS)}")
    n_rows = len(view_positions(model, corpus, language, images))
    if n_rows == 0:
        raise CorpusError(f"no item of the corpus has {'an image' if images else 'a text in the language read'}: "
                          "there is nothing to transform")
    chunks = iter_doc_topic(model, corpus, language=language, images=images, chunk_size=chunk_size)
    try:
        with atomic_file(path) as partial:
            if path.suffix == ".npy":
                _write_npy(partial, chunks, n_rows)
            else:
                with open(partial, "w", encoding="utf-8") as handle:
                    for number, (ids, theta) in enumerate(chunks):
                        handle.write(doc_topic_lines(ids, theta, path.suffix, header=number == 0))
    except OSError as err:
        raise OutputError(f"cannot write {path} ({err.strerror or err}); nothing was left there") from None
    return n_rows


def _write_npy(partial: Path, chunks, n_rows: int) -> None:
    """Fill a .npy of (n_rows, K), opened on the first chunk with its dtype."""
    out, row = None, 0
    for _, theta in chunks:
        if out is None:
            out = np.lib.format.open_memmap(partial, mode="w+", dtype=theta.dtype, shape=(n_rows, theta.shape[1]))
        out[row : row + len(theta)] = theta
        row += len(theta)
    out.flush()
    del out
