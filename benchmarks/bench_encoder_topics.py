"""Topics from a static encoder against its source (issue 9): static-minilm vs all-MiniLM-L6-v2.

For each encoder: its encoding speed (docs/s, from an empty cache on a sample), then
CombinedTM, ZeroShotTM and the clustering model on the first N English Debian
descriptions at K topics, over several seeds (same vocabulary, same data; only the
sentence vectors differ). Scores per fit:

- ``npmi``: polytopic's c_npmi of the top-10 words against the run's own tokenised corpus
  (stopwordsiso, the models' tokeniser; equal to gensim's CoherenceModel);
- ``npmi_shared`` / ``diversity10_shared``: ``shared/tools/score_npmi.py`` on the same
  topics — gensim over the raw texts less scikit-learn's stopwords, as the issues quote;
- ``diversity25``: unique share of the top-25 words (Dieng et al. 2020).

    python benchmarks/bench_encoder_topics.py [--docs 20000] [--topics 50] [--seeds 0,1,2] [--epochs 60]
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
from common import DATA, debian_english

from polytopic.encoders import get_encoder
from polytopic.evaluation import score_topics
from polytopic.metrics import ReferenceTexts
from polytopic.models import MODELS

RESULTS = Path(__file__).parent / "results"
SCORE_NPMI = DATA.parents[1] / "tools" / "score_npmi.py"
ENCODERS = ("all-MiniLM-L6-v2", "static-minilm")
MODEL_NAMES = ("clustering", "zeroshot", "combined")  # cheapest first: a cut-short run keeps whole pairs


def docs_per_second(name: str, texts: list[str]) -> float:
    encoder = get_encoder(name, cache_dir=False, progress=False)
    encoder.encode(texts[:16])  # load the model outside the timing
    started = time.perf_counter()
    encoder.encode(texts)
    return len(texts) / (time.perf_counter() - started)


def shared_score(topics: list[list[str]], corpus_file: Path) -> tuple[float, float]:
    """``score_npmi.py`` on a topics file: (NPMI, diversity of the top 10)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("".join(" ".join(t) + "\n" for t in topics))
    out = subprocess.run([sys.executable, str(SCORE_NPMI), handle.name, str(corpus_file)], check=True,
                         capture_output=True, text=True).stdout.split()
    Path(handle.name).unlink()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=60, help="CombinedTM/ZeroShotTM epochs (the paper's 60)")
    parser.add_argument("--speed-sample", type=int, default=1000)
    args = parser.parse_args()

    corpus = debian_english(args.docs)
    texts = corpus.texts()
    reference = ReferenceTexts(corpus.tokens())
    corpus_file = Path(tempfile.mkdtemp()) / "corpus.jsonl"
    corpus_file.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    sample = [texts[i] for i in np.random.default_rng(0).choice(len(texts), args.speed_sample, replace=False)]

    out = {"setup": vars(args), "speed": {}, "runs": []}
    vectors = {}
    for encoder_name in ENCODERS:
        out["speed"][encoder_name] = docs_per_second(encoder_name, sample)
        print(f"{encoder_name}: {out['speed'][encoder_name]:.0f} docs/s", flush=True)
        vectors[encoder_name] = get_encoder(encoder_name).encode(texts)
    for model_name in MODEL_NAMES:
        for encoder_name in ENCODERS:
            for seed in map(int, args.seeds.split(",")):
                options = {"epochs": args.epochs} if model_name != "clustering" else {}
                model = MODELS[model_name](n_topics=args.topics, encoder=encoder_name, seed=seed, progress=False,
                                           **options)
                started = time.perf_counter()
                model.fit(corpus, embeddings=vectors[encoder_name])
                seconds = time.perf_counter() - started
                top10 = model.topics(top_n=10)
                npmi_shared, diversity_shared = shared_score(top10, corpus_file)
                scored = score_topics(model.topics(top_n=25), reference, measures=("c_npmi",))
                run = {"encoder": encoder_name, "model": model_name, "seed": seed, "fit_seconds": round(seconds, 1),
                       "npmi": scored["coherence"]["c_npmi"]["mean"],
                       "diversity25": scored["diversity"]["topic_diversity"],
                       "npmi_shared": npmi_shared, "diversity10_shared": diversity_shared,
                       "topics": [" ".join(t) for t in top10[:5]]}
                out["runs"].append(run)
                print(json.dumps({k: v for k, v in run.items() if k != "topics"}), flush=True)
                RESULTS.mkdir(exist_ok=True)
                (RESULTS / "encoder_topics.json").write_text(json.dumps(out, indent=1) + "\n")
    print(summary(out))


def summary(out: dict) -> str:
    """Mean ± standard deviation over seeds, one line per encoder and model."""
    lines = ["| encoder | model | NPMI (polytopic) | NPMI (score_npmi) | diversity top-25 | fit s |",
             "|---|---|---|---|---|---|"]
    for encoder_name in ENCODERS:
        for model_name in MODEL_NAMES:
            runs = [r for r in out["runs"] if r["encoder"] == encoder_name and r["model"] == model_name]
            if not runs:
                continue
            cell = lambda key: f"{np.mean([r[key] for r in runs]):.3f} ± {np.std([r[key] for r in runs]):.3f}"  # noqa: E731
            lines.append(f"| {encoder_name} | {model_name} | {cell('npmi')} | {cell('npmi_shared')} | "
                         f"{cell('diversity25')} | {np.mean([r['fit_seconds'] for r in runs]):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
