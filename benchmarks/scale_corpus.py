"""Large corpora from the real Debian descriptions, for the scale benchmarks (issue #22).

The 54,910 descriptions of ``shared/data/debian/descriptions-world-dev.jsonl.gz`` (16
languages, Debian's own codes) are resampled uniformly with replacement, seeded, into N
items; the k-th draw of description ``<id>`` gets the id ``<id>~<k>``, so ids are distinct
while every text is a real one. Each line keeps the source's shape (``id``, ``section``,
``text``: a mapping language -> text), restricted to ``--languages``; an item with none of
them is drawn again. Beyond 54,910 items texts repeat (at N = 10^6 each about 18 times):
the corpus measures time and memory at scale, and topic quality is scored on a sample.

    python benchmarks/scale_corpus.py --docs 1000000 --languages en --out /tmp/scale/en-1000000.jsonl.gz

The output is written line by line (the source items are held, the N lines are not) and
appears only when complete.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA  # noqa: E402

WORLD = DATA / "descriptions-world-dev.jsonl.gz"
_BLOCK = 65_536


def source_items(languages: tuple[str, ...] | None) -> list[dict]:
    """The descriptions that have a text in one of ``languages`` (all: None), with those texts."""
    items = []
    with gzip.open(WORLD, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            texts = {lang: t for lang, t in row["text"].items() if languages is None or lang in languages}
            if texts:
                items.append({"id": row["id"], "section": row["section"], "text": texts})
    return items


def write_corpus(out: Path, n_docs: int, languages: tuple[str, ...] | None, seed: int = 0) -> Path:
    """Write ``n_docs`` resampled items to ``out`` (.jsonl.gz), atomically."""
    items = source_items(languages)
    rng = np.random.default_rng(seed)
    copies = np.zeros(len(items), dtype=np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with gzip.open(partial, "wt", encoding="utf-8", compresslevel=3) as handle:
        for start in range(0, n_docs, _BLOCK):
            draws = rng.integers(len(items), size=min(_BLOCK, n_docs - start))
            for index in draws:
                item = items[index]
                copies[index] += 1
                handle.write(json.dumps({"id": f"{item['id']}~{copies[index]}", "section": item["section"],
                                         "text": item["text"]}, ensure_ascii=False) + "\n")
    os.replace(partial, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--languages", default=None, help="comma-separated Debian codes (default: all 16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    languages = tuple(args.languages.split(",")) if args.languages else None
    print(write_corpus(args.out, args.docs, languages, args.seed))


if __name__ == "__main__":
    main()
