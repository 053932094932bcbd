"""Shared set-up of the benchmarks: the Debian corpus slices they all use."""

from __future__ import annotations

import gzip
import itertools
import json
import os
from pathlib import Path

from polytopic import Corpus

DATA = Path(os.environ.get("POLYTOPIC_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data" / "debian"
DESCRIPTIONS = DATA / "descriptions-dev.jsonl.gz"


def debian_english(n_docs: int | None = 20_000) -> Corpus:
    """The first ``n_docs`` English package descriptions, with their ``section`` labels."""
    with gzip.open(DESCRIPTIONS, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in itertools.islice(handle, n_docs)]
    return Corpus(
        [r["text"]["en"] for r in rows],
        language="en",
        ids=[r["id"] for r in rows],
        labels={"section": [r["section"] for r in rows]},
    )
