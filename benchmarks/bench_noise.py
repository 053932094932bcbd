"""Zero-shot transfer with shared against per-document inference noise (issue 9, part 5).

ZeroShotTM with the multilingual USE is trained on English Debian descriptions and applied
to the Italian translations of held-out items (Mueller & Dredze 2021 §4–5.2). θ of each
text averages softmax(μ + σ ε) over 20 draws of ε. Before, every document got the *same*
20 draws, so an item's English and Italian texts shared their noise; now each document's
draws come from the seed and its own content. Match (same argmax topic) and KL are
reported for both, with the shuffled baseline, over seeds; softmax(μ) (no sampling) too.

    python benchmarks/bench_noise.py [--train 3000] [--test 1000] [--topics 20] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np
import torch
from common import DESCRIPTIONS

from polytopic import Corpus, ZeroShotTM
from polytopic.encoders import get_encoder
from polytopic.metrics import alignment
from polytopic.models.training import BatchSource

RESULTS = Path(__file__).parent / "results"


def aligned_items(n: int) -> Corpus:
    """The first ``n`` descriptions that have both an English and an Italian text."""
    rows = []
    with gzip.open(DESCRIPTIONS, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if "en" in row["text"] and "it" in row["text"]:
                rows.append(row)
                if len(rows) == n:
                    break
    return Corpus([{"en": r["text"]["en"], "it": r["text"]["it"]} for r in rows], ids=[r["id"] for r in rows])


def shared_noise_theta(model: ZeroShotTM, vectors: np.ndarray) -> np.ndarray:
    """θ with one set of 20 draws for every document (the old inference)."""
    noise = torch.randn(model.n_samples, model.n_topics, generator=torch.Generator().manual_seed(model.seed))
    data = BatchSource(None, vectors)
    return model.network_.doc_topic(*data.batch(np.arange(len(vectors))), noise).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()

    corpus = aligned_items(args.train + args.test)
    train = corpus.subset(np.arange(args.train))
    test = corpus.subset(np.arange(args.train, args.train + args.test))
    encoder = get_encoder("use-multilingual")
    started = time.perf_counter()
    train_en = encoder.encode(train.texts("en"))
    test_en, test_it = encoder.encode(test.texts("en")), encoder.encode(test.texts("it"))
    print(f"encoded {args.train + 2 * args.test} texts in {time.perf_counter() - started:.0f} s")

    runs = []
    for seed in map(int, args.seeds.split(",")):
        model = ZeroShotTM(n_topics=args.topics, encoder=encoder, language="en", seed=seed, progress=False)
        model.fit(train, embeddings=train_en)
        scores = {
            "per-document noise": alignment(model.transform(test, language="en", embeddings=test_en),
                                            model.transform(test, language="it", embeddings=test_it), seed),
            "shared noise": alignment(shared_noise_theta(model, test_en), shared_noise_theta(model, test_it), seed),
        }
        model.set_params(posterior="mean")
        scores["posterior mean"] = alignment(model.transform(test, language="en", embeddings=test_en),
                                             model.transform(test, language="it", embeddings=test_it), seed)
        runs.append({"seed": seed} | {name: s.as_dict() for name, s in scores.items()})
        print(seed, {name: f"Match {s.match:.3f} KL {s.kl:.3f}" for name, s in scores.items()})

    summary = {}
    for name in ("per-document noise", "shared noise", "posterior mean"):
        for metric in ("match", "match_random", "kl", "kl_random"):
            values = np.array([r[name][metric] for r in runs])
            summary[f"{name} {metric}"] = {"mean": float(values.mean()), "std": float(values.std())}
    out = {"setup": vars(args) | {"encoder": encoder.identity, "train_language": "en", "test_language": "it"},
           "runs": runs, "summary": summary}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "noise.json").write_text(json.dumps(out, indent=2) + "\n")
    for key, value in summary.items():
        print(f"{key:40s} {value['mean']:.3f} ± {value['std']:.3f}")


if __name__ == "__main__":
    main()
