"""Sentence encoding: length-sorted vs unsorted batches, and the cache-hit path.

1. Throughput (docs/s) of the packaged MiniLM on a random sample of Debian English
   descriptions, batch size 64, without cache, batches cut in corpus order vs sorted by
   token length (less padding).
2. The cache: the same sample encoded into an empty cache (first fit), then read back
   (second fit), and the whole 20,000-document corpus read back from the default cache.

    python benchmarks/bench_encoding.py [--sample 1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from common import debian_english

from polytopic.encoders import get_encoder


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "encoding.json")
    args = parser.parse_args()
    corpus = debian_english(20_000)
    texts = corpus.texts()
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in rng.choice(len(texts), args.sample, replace=False)]

    unsorted_s, _ = timed(lambda: get_encoder(sort_by_length=False, cache_dir=False, progress=False).encode(sample))
    sorted_s, reference = timed(lambda: get_encoder(cache_dir=False, progress=False).encode(sample))
    with tempfile.TemporaryDirectory() as tmp:
        cold_s, _ = timed(lambda: get_encoder(cache_dir=tmp, progress=False).encode(sample))
        hit_s, cached = timed(lambda: get_encoder(cache_dir=tmp, progress=False).encode(sample))
    np.testing.assert_allclose(cached, reference, atol=1e-5)
    full_hit_s, _ = timed(lambda: get_encoder(progress=False).encode(texts))  # default cache, filled before

    result = {
        "sample_docs": args.sample,
        "unsorted_docs_per_s": round(args.sample / unsorted_s, 1),
        "sorted_docs_per_s": round(args.sample / sorted_s, 1),
        "sorting_speedup": round(unsorted_s / sorted_s, 2),
        "first_encode_s": round(cold_s, 2),
        "cache_hit_s": round(hit_s, 4),
        "cache_hit_speedup": round(cold_s / hit_s, 1),
        "full_corpus_docs": len(texts),
        "full_corpus_cache_hit_s": round(full_hit_s, 3),
        "full_corpus_first_encode_estimate_s": round(len(texts) * sorted_s / args.sample, 1),
        "full_corpus_cache_hit_speedup_estimate": round(len(texts) * sorted_s / args.sample / full_hit_s, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
