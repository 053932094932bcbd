"""Time and peak memory of each stage of ``polytopic fit``, ``transform`` and ``evaluate``
as the corpus grows (issue #22).

For each N, a corpus of N English Debian descriptions resampled with distinct ids
(:mod:`scale_corpus`) is fitted, transformed and evaluated by the command line, each
command a fresh process under ``/usr/bin/time -v`` (peak RSS) with an empty vector cache
(the distilled static encoders are shared, so no N pays for distilling). The stages of
the fit come from its ``run.json``; the growth exponent of each figure between two
sizes is log(b / a) / log(N_b / N_a) (1: linear).

    python benchmarks/bench_scale.py --docs 10000,100000 --model clustering --encoder static-minilm \
        --topics 100 --out benchmarks/results/scale-clustering.json

Writes the JSON and a markdown table beside it (same name, ``.md``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_corpus import write_corpus  # noqa: E402

from polytopic.encoders.cache import default_cache_dir  # noqa: E402


def timed_command(args: list[str], env: dict) -> dict:
    """Run ``polytopic ARGS`` under ``/usr/bin/time -v``: wall seconds and peak RSS (MiB)."""
    result = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "polytopic.cli", "-q", *args],
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"polytopic {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    return {"seconds": round(hours * 3600 + minutes * 60 + seconds, 2), "peak_rss_mb": round(rss / 1024, 1)}


def fresh_cache(root: Path) -> Path:
    """An empty cache directory that shares the warm cache's distilled models."""
    root.mkdir(parents=True)
    models = default_cache_dir() / "models"
    if models.is_dir():
        (root / "models").symlink_to(models)
    return root


def measure(n_docs: int, args, work: Path) -> dict:
    corpus = work / f"en-{n_docs}.jsonl.gz"
    if not corpus.exists():
        write_corpus(corpus, n_docs, ("en",), seed=0)
    env = os.environ | {"POLYTOPIC_CACHE_DIR": str(fresh_cache(work / f"cache-{n_docs}")),
                        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    run = work / f"run-{n_docs}"
    fit = timed_command(["fit", str(corpus), "--model", args.model, "--encoder", args.encoder,
                         "--topics", str(args.topics), "--out", str(run), "--overwrite", *args.extra], env)
    stages = json.loads((run / "run.json").read_text())["stages"]
    transform = timed_command(["transform", str(run), str(corpus), "--output", str(work / f"theta-{n_docs}.npy")], env)
    evaluate = timed_command(["evaluate", str(run)], env)
    npmi = json.loads((run / "metrics.json").read_text())["coherence"]["c_npmi"]["mean"]
    shutil.rmtree(work / f"cache-{n_docs}")
    return {"n_docs": n_docs, "fit": fit, "stages": stages, "transform": transform, "evaluate": evaluate,
            "c_npmi": npmi}


def growth(rows: list[dict], figure) -> list[float | None]:
    """The exponent of ``figure(row)`` between consecutive sizes."""
    out = [None]
    for a, b in zip(rows, rows[1:]):
        fa, fb = figure(a), figure(b)
        out.append(round(math.log(fb / fa) / math.log(b["n_docs"] / a["n_docs"]), 2) if fa and fb else None)
    return out


def markdown(rows: list[dict], args) -> str:
    figures = {"fit s": lambda r: r["fit"]["seconds"], "fit peak RSS MiB": lambda r: r["fit"]["peak_rss_mb"],
               **{f"{name} s": (lambda r, name=name: r["stages"].get(name, {}).get("seconds"))
                  for name in ("read", "vocabulary", "encode", "train", "write")},
               "transform s": lambda r: r["transform"]["seconds"],
               "transform peak RSS MiB": lambda r: r["transform"]["peak_rss_mb"],
               "evaluate s": lambda r: r["evaluate"]["seconds"],
               "evaluate peak RSS MiB": lambda r: r["evaluate"]["peak_rss_mb"]}
    header = "| figure | " + " | ".join(f"N = {r['n_docs']:,}" for r in rows) + " | growth exponent |"
    lines = [f"# polytopic at scale: {args.model}, {args.encoder}, K = {args.topics}", "",
             "Made by `benchmarks/bench_scale.py` (see its docstring); one process per command.", "",
             header, "|" + "---|" * (len(rows) + 2)]
    for name, figure in figures.items():
        exponents = [e for e in growth(rows, figure)[1:] if e is not None]
        values = " | ".join("" if figure(r) is None else f"{figure(r):g}" for r in rows)
        lines.append(f"| {name} | {values} | {', '.join(map(str, exponents))} |")
    scores = " | ".join(f"{r['c_npmi']:.3f}" for r in rows)
    lines.append(f"| c_npmi (training texts) | {scores} | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", default="10000,100000")
    parser.add_argument("--model", default="clustering")
    parser.add_argument("--encoder", default="static-minilm")
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--param", dest="extra", action="append", default=[], type=lambda p: f"--param={p}",
                        help="a model parameter, as fit's --param")
    parser.add_argument("--work", type=Path, default=None, help="where corpora and runs go (default: a temp dir)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="polytopic-scale-"))
    rows = []
    for n_docs in map(int, args.docs.split(",")):
        rows.append(measure(n_docs, args, work))
        print(json.dumps(rows[-1]), flush=True)
    args.out.write_text(json.dumps({"model": args.model, "encoder": args.encoder, "topics": args.topics,
                                    "params": args.extra, "rows": rows}, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(rows, args))


if __name__ == "__main__":
    main()
