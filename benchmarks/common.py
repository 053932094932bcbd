"""Shared set-up of the benchmarks: the Debian corpus slices they all use."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

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


def debian_aligned(n_items: int, languages=("en", "de", "fr", "it")) -> Corpus:
    """The first ``n_items`` descriptions that have a text in every one of ``languages``
    (human translations; 7,508 dev items have all four), with their ``section`` labels."""
    rows = []
    with gzip.open(DESCRIPTIONS, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if all(lang in row["text"] for lang in languages):
                rows.append(row)
                if len(rows) == n_items:
                    break
    return Corpus([{lang: r["text"][lang] for lang in languages} for r in rows], ids=[r["id"] for r in rows],
                  labels={"section": [r["section"] for r in rows]})


def write_reference(texts: list[str], path: Path) -> Path:
    """``texts`` as the uncompressed ``{"text": ...}`` JSON lines that
    ``shared/tools/score_npmi.py`` reads."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    return path


SCORE_NPMI = DATA.parents[1] / "tools" / "score_npmi.py"


def score_npmi(topics: list[list[str]], reference: Path, scratch: Path) -> float | None:
    """NPMI of ``topics`` by ``shared/tools/score_npmi.py`` (gensim c_npmi, top-10, raw
    texts less scikit-learn's English stopwords) over the JSON lines ``reference``, as the
    issues' figures were measured; None where the script is not found."""
    if not SCORE_NPMI.is_file():
        return None
    path = scratch / "topics.txt"
    path.write_text("".join(" ".join(t) + "\n" for t in topics), encoding="utf-8")
    result = subprocess.run([sys.executable, str(SCORE_NPMI), str(path), str(reference)], capture_output=True,
                            text=True, check=True)
    return float(result.stdout.split()[-2])  # it prints "NPMI diversity"


def flatten(tree: dict, prefix: str = "") -> dict:
    """Nested dicts as one level, keys joined by " / "."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key} / ")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def mean_sd(results: list[dict]) -> dict:
    """Mean, standard deviation and count over ``results`` (flat dicts) of every number
    that all of them have."""
    return {key: {"mean": float(np.mean([r[key] for r in results])), "sd": float(np.std([r[key] for r in results])),
                  "n": len(results)}
            for key in results[0] if all(isinstance(r.get(key), (int, float)) for r in results)}
