"""K-means on every document, on a sample, by minibatches and by ``partial_fit`` in chunks,
for the clustering model on large corpora (issue #22): fit seconds and topic quality,
over seeds.

For each N, N English Debian descriptions resampled with distinct ids
(:mod:`scale_corpus`, seed 0) are encoded once with ``--encoder`` and fitted by
``ClusteringTopics`` on those same vectors in each of ``--ways``: ``full``
(``kmeans="full"``: Lloyd, 10 restarts on every document), ``sampled``
(``kmeans="sampled"``), ``minibatch`` (scikit-learn's MiniBatchKMeans, batches of 4,096,
best of 3 restarts, in place of the model's K-means: the alternative not taken) and
``partial_fit`` over chunks of ``--chunk`` items. Topics are scored by
``shared/tools/score_npmi.py`` (top-10 c_npmi, and top-10 diversity) against 20,000
distinct English descriptions sampled from the same source, so that duplicated texts do
not inflate the score.

    python benchmarks/bench_kmeans.py --docs 100000 --ways full,sampled,minibatch,partial_fit \
        --out benchmarks/results/clustering-kmeans-scale.json

Writes the JSON and a markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SCORE_NPMI, write_reference  # noqa: E402
from scale_corpus import source_items, write_corpus  # noqa: E402

from polytopic.datasets import read_corpus  # noqa: E402
from polytopic.encoders import get_encoder  # noqa: E402
from polytopic.models import ClusteringTopics  # noqa: E402

WAYS = ("full", "sampled", "minibatch", "partial_fit")


class MiniBatchClustering(ClusteringTopics):
    """The clustering model with scikit-learn's MiniBatchKMeans as its K-means."""

    def _kmeans(self, vectors: np.ndarray) -> np.ndarray:
        from sklearn.cluster import MiniBatchKMeans

        return MiniBatchKMeans(self.n_topics_, batch_size=4096, n_init=3, random_state=self.seed_).fit_predict(vectors)


def npmi_and_diversity(topics: list[list[str]], reference: Path, scratch: Path) -> tuple[float, float]:
    """NPMI and top-10 diversity by ``shared/tools/score_npmi.py``."""
    path = scratch / "topics.txt"
    path.write_text("".join(" ".join(t) + "\n" for t in topics), encoding="utf-8")
    out = subprocess.run([sys.executable, str(SCORE_NPMI), str(path), str(reference)], capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[-2]), float(out[-1])


def fitted(way: str, corpus, vectors: np.ndarray, args, seed: int) -> tuple[ClusteringTopics, float]:
    if way == "minibatch":
        model = MiniBatchClustering(args.topics, encoder=args.encoder, seed=seed, progress=False)
    else:
        model = ClusteringTopics(args.topics, encoder=args.encoder, seed=seed, progress=False,
                                 kmeans="auto" if way == "partial_fit" else way)
    started = time.perf_counter()
    if way == "partial_fit":
        for start in range(0, len(corpus), args.chunk):
            positions = np.arange(start, min(start + args.chunk, len(corpus)))
            model.partial_fit(corpus.subset(positions), embeddings=vectors[positions])
    else:
        model.fit(corpus, embeddings=vectors)
    return model, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", default="20000,100000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--ways", default=",".join(WAYS))
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--encoder", default="static-minilm")
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "polytopic-scale")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    scratch = Path(tempfile.mkdtemp())
    texts = [item["text"]["en"] for item in source_items(("en",))]
    sample = np.random.default_rng(0).choice(len(texts), size=min(20_000, len(texts)), replace=False)
    reference = write_reference([texts[i] for i in sample], scratch / "reference.jsonl")
    rows = []
    for n_docs in (int(n) for n in args.docs.split(",")):
        path = args.work / f"en-{n_docs}.jsonl.gz"
        if not path.exists():
            write_corpus(path, n_docs, ("en",), seed=0)
        corpus = read_corpus(path, text_field="text")
        vectors = get_encoder(args.encoder, progress=False).encode(corpus.texts())
        for way in args.ways.split(","):
            for seed in seeds:
                model, seconds = fitted(way, corpus, vectors, args, seed)
                npmi, diversity = npmi_and_diversity(model.topics(10), reference, scratch)
                rows.append({"docs": n_docs, "way": way, "seed": seed, "fit_seconds": round(seconds, 2),
                             "npmi": npmi, "diversity": diversity})
                print(json.dumps(rows[-1]), flush=True)
    if args.out.exists():  # runs of other sizes or ways add to the file
        rows = [r for r in json.loads(args.out.read_text())["rows"]
                if (r["docs"], r["way"]) not in {(x["docs"], x["way"]) for x in rows}] + rows
    args.out.write_text(json.dumps({"encoder": args.encoder, "topics": args.topics, "chunk": args.chunk,
                                    "reference": "20,000 distinct English descriptions", "rows": rows}, indent=1))
    args.out.with_suffix(".md").write_text(table(rows, args), encoding="utf-8")
    print(args.out.with_suffix(".md").read_text())


def table(rows: list[dict], args) -> str:
    lines = [f"# K-means at scale: clustering, {args.encoder}, K = {args.topics}", "",
             "Made by `benchmarks/bench_kmeans.py` (see its docstring). Mean ± sd (ddof 1) over seeds "
             f"{args.seeds}; NPMI and diversity of the top 10 words by `shared/tools/score_npmi.py` against "
             f"20,000 distinct English descriptions; `partial_fit` in chunks of {args.chunk:,}.", "",
             "| N | K-means | fit s | NPMI | diversity |", "|---|---|---|---|---|"]
    for n_docs in sorted({r["docs"] for r in rows}):
        for way in WAYS:
            group = [r for r in rows if r["docs"] == n_docs and r["way"] == way]
            if not group:
                continue
            cells = [_mean_sd([r[key] for r in group], digits) for key, digits in
                     (("fit_seconds", 1), ("npmi", 3), ("diversity", 3))]
            lines.append(f"| {n_docs:,} | {way} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _mean_sd(values: list[float], digits: int) -> str:
    spread = np.std(values, ddof=1) if len(values) > 1 else 0.0
    return f"{np.mean(values):.{digits}f} ± {spread:.{digits}f}"


if __name__ == "__main__":
    main()
