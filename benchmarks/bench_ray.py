"""Encoding rate on a local Ray cluster with one worker and with two, beside encoding in
this process (issue #22: two workers at ≥ 1.6× one worker's rate).

N distinct English Debian descriptions (the first N of ``descriptions-dev``) are encoded
with ``--encoder`` three ways, each into an empty cache so that nothing is read back: in
this process (torch's own threads), and through :class:`polytopic.engine.RayEngine` on a
local Ray of ``--cpus`` CPUs with 1 and with 2 workers (Ray gives each one CPU, and
torch one thread in it). The first Ray run also pays for starting the workers; each is
timed from the call to the last vector, as a user waits for it.

    python benchmarks/bench_ray.py --docs 4000 --out benchmarks/results/ray-encoding.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import ray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import debian_english  # noqa: E402

from polytopic.encoders import get_encoder  # noqa: E402
from polytopic.engine import RayEngine  # noqa: E402


def timed(encoder_name: str, texts: list[str], engine) -> tuple[float, np.ndarray]:
    encoder = get_encoder(encoder_name, progress=False, cache_dir=tempfile.mkdtemp())
    started = time.perf_counter()
    vectors = encoder.encode(texts, engine=engine)
    return time.perf_counter() - started, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=4000)
    parser.add_argument("--encoder", default="all-MiniLM-L6-v2")
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    texts = list(dict.fromkeys(debian_english(None).texts()))[: args.docs]
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    rows = {}
    seconds, local = timed(args.encoder, texts, None)
    rows["in process"] = seconds
    for workers in (1, 2):
        seconds, vectors = timed(args.encoder, texts, RayEngine(workers=workers))
        rows[f"ray, {workers} worker{'s' * (workers > 1)}"] = seconds
        np.testing.assert_allclose(vectors, local, atol=1e-5)
    ray.shutdown()
    result = {"docs": len(texts), "encoder": args.encoder, "cpus": args.cpus,
              "seconds": {k: round(v, 1) for k, v in rows.items()},
              "docs_per_second": {k: round(len(texts) / v, 1) for k, v in rows.items()},
              "two_workers_over_one": round(rows["ray, 1 worker"] / rows["ray, 2 workers"], 2)}
    args.out.write_text(json.dumps(result, indent=1))
    lines = [f"# Encoding on Ray: {args.encoder}, {len(texts):,} distinct descriptions, {args.cpus} CPUs", "",
             "Made by `benchmarks/bench_ray.py` (see its docstring); an empty cache for each run.", "",
             "| where | s | docs/s |", "|---|---|---|"]
    lines += [f"| {k} | {v:.1f} | {len(texts) / v:.1f} |" for k, v in rows.items()]
    lines += ["", f"Two workers over one: {result['two_workers_over_one']}×."]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
