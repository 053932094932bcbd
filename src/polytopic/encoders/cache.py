"""On-disk cache of vectors, keyed by the encoder's identity and the text's hash.

One SQLite file per encoder identity, so a second ``fit`` on the same corpus — with
another model or topic count — reads its vectors back instead of re-encoding. SQLite
gives atomic writes and safe concurrent readers with nothing but the standard library.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from polytopic.errors import EncoderError

_CHUNK = 900  # stays under SQLite's default limit of host parameters per statement


def default_cache_dir() -> Path:
    """``$POLYTOPIC_CACHE_DIR``, else ``$XDG_CACHE_HOME/polytopic``, else ``~/.cache/polytopic``."""
    if os.environ.get("POLYTOPIC_CACHE_DIR"):
        return Path(os.environ["POLYTOPIC_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "polytopic"


def text_key(text: str) -> bytes:
    """Content key of one input: SHA-1 of its UTF-8 bytes (20 bytes)."""
    return hashlib.sha1(text.encode("utf-8")).digest()


class VectorCache:
    """Vectors of one encoder, stored as ``dtype`` rows of length ``dimension``."""

    def __init__(self, directory: str | Path, identity: str, dimension: int, dtype: str = "float32"):
        self.identity = identity
        self.dimension = int(dimension)
        self.dtype = np.dtype(dtype)
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]
        self.path = directory / f"{name}.sqlite"
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB)")
        self._check_meta()

    def _check_meta(self) -> None:
        expected = {"identity": self.identity, "dimension": str(self.dimension), "dtype": self.dtype.str}
        stored = dict(self._db.execute("SELECT key, value FROM meta"))
        if not stored:
            with self._db:
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", expected.items())
        elif stored != expected:
            raise EncoderError(
                f"the cache file {self.path} belongs to another encoder ({stored}); delete it "
                "or use another cache directory"
            )

    def _blobs(self, keys: Sequence[bytes]):
        """(position in ``keys``, stored bytes) of every key the cache holds, read in
        chunks of SQLite's variable limit."""
        position = {k: i for i, k in enumerate(keys)}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                yield position[key], blob

    def _store(self, pairs) -> None:
        """Insert (key, bytes) pairs in one transaction, replacing what was there."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", pairs)

    def get(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors for ``keys`` (zeros where absent) and a boolean mask of the found ones."""
        out = np.zeros((len(keys), self.dimension), dtype=self.dtype)
        found = np.zeros(len(keys), dtype=bool)
        for i, blob in self._blobs(keys):
            out[i] = np.frombuffer(blob, dtype=self.dtype)
            found[i] = True
        return out, found

    def get_rows(self, keys: Sequence[bytes]) -> list[np.ndarray | None]:
        """Variable-length blocks of rows, shape (n_i, dimension) each, None where absent
        (token vectors: one block per text)."""
        out: list[np.ndarray | None] = [None] * len(keys)
        for i, blob in self._blobs(keys):
            out[i] = np.frombuffer(blob, dtype=self.dtype).reshape(-1, self.dimension)
        return out

    def put_rows(self, keys: Sequence[bytes], blocks: Sequence[np.ndarray]) -> None:
        """Store one block of rows (n_i, dimension) per key."""
        if any(np.shape(b)[1:] != (self.dimension,) for b in blocks):
            raise EncoderError(f"every block must have {self.dimension} columns")
        self._store((k, np.ascontiguousarray(b, dtype=self.dtype).tobytes()) for k, b in zip(keys, blocks))

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=self.dtype)
        if vectors.shape != (len(keys), self.dimension):
            raise EncoderError(f"expected vectors of shape {(len(keys), self.dimension)}, got {vectors.shape}")
        self._store((k, v.tobytes()) for k, v in zip(keys, vectors))

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]

    def close(self) -> None:
        self._db.close()
