"""Models built once in the cache directory (a converted e5, a distilled static model).

A build writes into a hidden temporary folder and is renamed into place, with a manifest
of its version and content fingerprint, only when complete: an interrupted build leaves
nothing, and a damaged one is rebuilt on next use.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from polytopic.encoders.identity import directory_fingerprint

logger = logging.getLogger(__name__)

_MANIFEST = ".polytopic-build.json"
_STALE_SECONDS = 24 * 3600  # a build folder untouched this long belongs to a killed process


def _manifest_ok(directory: Path, version: int) -> bool:
    """True when ``directory`` holds a finished build of ``version`` whose files still
    have the content fingerprint recorded when it was built."""
    try:
        manifest = json.loads((directory / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("version") == version and manifest.get("fingerprint") == directory_fingerprint(directory)


def build_once(target: Path, build: Callable[[Path], None], version: int) -> Path:
    """``target`` once it holds a complete build, calling ``build(folder)`` first if not.

    The build writes into a hidden temporary folder beside ``target``, which is renamed
    into place only when complete, with a manifest (``.polytopic-build.json``: version
    and content fingerprint, see :mod:`~polytopic.encoders.identity`). An interrupted
    build therefore leaves nothing at ``target``, and a folder whose files changed since
    (damaged, truncated) is rebuilt. When two processes build at once, the first rename wins.
    Build folders a killed process left behind are removed after a day.
    """
    if _manifest_ok(target, version):
        return target
    if target.exists():
        logger.warning("%s is incomplete, damaged or from an older version: rebuilding it", target)
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.*"):
        if time.time() - stale.stat().st_mtime > _STALE_SECONDS:
            shutil.rmtree(stale, ignore_errors=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(partial)
        manifest = {"version": version, "fingerprint": directory_fingerprint(partial)}
        (partial / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        try:
            os.rename(partial, target)
        except OSError:
            if not _manifest_ok(target, version):  # not a concurrent build that finished first
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target
