"""Who an encoder is, from the content of its files.

A cached vector is only as good as the key that finds it again. Keying on a model's name
or path lets a fine-tuned copy read its base model's vectors; keying on file sizes misses a
changed weight of the same size. :func:`model_source` hashes every file of a model
directory (SHA-256 of the bytes), so any change to the weights or the configuration gives
a new identity. Hashing 90 MB takes about 0.2 s, so each file's digest is memoised on
(absolute path, size, modification time) in ``fingerprints.json`` under the cache
directory: a warm start costs one ``stat`` per file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from polytopic.encoders.cache import default_cache_dir

_MEMO_FILE = "fingerprints.json"
_BLOCK = 1 << 20
_lock = threading.Lock()


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes, read in blocks, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _memo_path(cache_dir: Path | None) -> Path:
    return (cache_dir or default_cache_dir()) / _MEMO_FILE


def _read_memo(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent or damaged: start again, it is only a memo
        return {}


def _write_memo(path: Path, memo: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(memo), encoding="utf-8")
        os.replace(partial, path)
    except OSError:  # a read-only cache directory only costs the memo
        pass


def directory_fingerprint(path: str | Path, cache_dir: Path | None = None) -> str:
    """SHA-256 over every file of ``path`` (relative name and content digest), 16 hex digits.

    The same files give the same fingerprint wherever the directory lives; one changed
    byte anywhere gives another. Files' digests are memoised (see the module docstring).
    """
    root = Path(path).resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    memo_path = _memo_path(cache_dir)
    with _lock:
        memo = _read_memo(memo_path)
        changed = False
        digest = hashlib.sha256()
        for file in files:
            stat = file.stat()
            key = f"{file}:{stat.st_size}:{stat.st_mtime_ns}"
            if key not in memo:
                memo[key] = file_digest(file)
                changed = True
            digest.update(str(file.relative_to(root)).encode())
            digest.update(memo[key].encode())
        if changed:
            _write_memo(memo_path, memo)
    return digest.hexdigest()[:16]


def model_source(model: str | Path, cache_dir: Path | None = None) -> str:
    """Identity of a model's weights: the content fingerprint of a local directory, else
    the hub name (a hub model is only as identified as its name)."""
    path = Path(model)
    return f"sha256:{directory_fingerprint(path, cache_dir)}" if path.is_dir() else f"hub:{model}"
