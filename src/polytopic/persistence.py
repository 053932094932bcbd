"""Files on disk without pickle: JSON for configuration, safetensors for arrays, and
directories that appear whole or not at all."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from polytopic.errors import ModelFileError

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_directory(path: str | Path, overwrite: bool = False):
    """Yield a temporary directory beside ``path``; on success it replaces ``path``.

    If the block raises (or is interrupted: Ctrl-C, and SIGTERM under the command line),
    the temporary directory is removed and ``path`` is untouched, so a failed fit or save
    never leaves a half-written directory behind. Temporaries of ``path`` that a killed
    process could not remove (``kill -9``) are swept here, the next time ``path`` is written.
    """
    path = Path(path)
    if path.parent.is_dir():
        _sweep_stale(path)
    if path.exists() and not overwrite:
        raise ModelFileError(f"{path} already exists; choose another path or allow overwriting")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{_owner()}.", suffix=".tmp", dir=path.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp's 0700 would hide a run from a shared group
    try:
        yield tmp
        old = None
        if path.exists():
            old = tmp.with_suffix(".old")
            path.rename(old)
        tmp.rename(path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path: str | Path):
    """Yield a temporary path beside ``path`` to write; on success it replaces ``path``,
    on failure (or interruption) it is removed, so ``path`` is whole or untouched."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{_owner()}.tmp")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _owner() -> str:
    """The tag of this process in temporary names, ``<host>-<pid>``: it lets a later writer tell
    a temporary whose process is gone from one still being written."""
    return f"{_host()}-{os.getpid()}"


def _host() -> str:
    """The name of this machine, reduced to the characters a temporary name may hold."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", socket.gethostname()) or "host"


def _sweep_stale(path: Path) -> None:
    """Remove the temporaries of ``path`` (``.NAME.<host>-<pid>.<random>.tmp`` or ``.old``)
    whose process ran on this host and no longer runs. Those of other hosts (a shared
    file system) and of live processes are left alone."""
    owner = r"(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)"
    pattern = re.compile(rf"\.{re.escape(path.name)}\.{owner}\.[a-z0-9_]+\.(?:tmp|old)")
    for candidate in path.parent.iterdir():
        match = pattern.fullmatch(candidate.name)
        if match and match["host"] == _host() and not _running(int(match["pid"])):
            logger.info("removing %s, left behind by a process that no longer runs", candidate)
            shutil.rmtree(candidate, ignore_errors=True)


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (outside POSIX: assumed to)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a live process of another user
        pass
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: Path, data) -> None:
    """Write ``data`` as indented UTF-8 JSON (callers write into a temporary directory)."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict:
    """Read a JSON file of a polytopic directory, or a :class:`ModelFileError` saying why not."""
    if not path.is_file():
        raise ModelFileError(f"{path} is missing: not a complete polytopic directory")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{path} is corrupted ({err})") from None


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write named arrays as safetensors, as readable as the JSON beside them."""
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(path))
    path.chmod(0o666 & ~_umask())  # safetensors writes 0600; a run is as readable as its JSON


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read named arrays from safetensors (no code runs), or a :class:`ModelFileError`."""
    if not path.is_file():
        raise ModelFileError(f"{path} is missing: not a complete polytopic directory")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFileError(f"{path} is corrupted ({err})") from None
