"""Fine-tuned encoders for topic models: the structure of Mueller & Dredze (2021) Tables 1–2 on Debian data.

Table 1 (monolingual topic quality). CombinedTM at ``--topics`` K on the first ``--train``
English dev descriptions, one fit per seed, its encoder per row:

- ``none``: the packaged all-MiniLM-L6-v2 as it is;
- ``topic-ft``: MiniLM fine-tuned on LDA topic labels of the same texts (τ by NPMI over
  ``--grid``; §3.2);
- ``doc-ft``: MiniLM fine-tuned on the descriptions' Debian ``section`` (document
  classification, MLDoc's role; §3.1);
- ``cpt``: MiniLM after continued masked-LM pre-training on the texts (§3.3);
- ``cpt-ft``: ``cpt`` then fine-tuned on topic labels;
- ``tcctm``: TCCTM (§3.4) on MiniLM, λ = 1 (``--lambdas 0.5,1,2`` adds rows ``tcctm-0.5`` ...).

Scores: NPMI of the top-10 words (polytopic's c_npmi over the texts as the model tokenised
them, and ``shared/tools/score_npmi.py`` where it is found) and topic diversity (top 25).

Table 2 (zero-shot transfer). ZeroShotTM at K on the English texts of the first
``--aligned-train`` descriptions that have en, de, fr and it, applied to the next
``--aligned-test`` items in each language; rows:

- ``zeroshot-e5``: multilingual-e5-small as it is;
- ``zeroshot-e5-pairs``: e5 fine-tuned on the training items' en–de, en–fr and en–it
  translation pairs (the offline stand-in for NLI fine-tuning; the training corpus holds
  each item three times, once per pair, so that no de–fr pair is formed).

Scores: Match and KL of EN→DE/FR/IT with their shuffled baselines, mean JSD and MRR
(:func:`polytopic.evaluation.aligned.pair_scores`).

Each row records its fine-tuning wall time (the encoder folder's ``polytopic-finetune.json``)
and fit time. Fine-tuned encoders are kept under ``--encoders`` (one folder per row and
seed) and reused, so the script can be run piecewise (``--rows``, ``--seeds``). On 2 CPU
cores one epoch of MiniLM over 3,000 descriptions takes about 5.5 min a task; e5's pairs
about 54 s a step of 64 pairs (peak memory 11.5 GB), some 2 h a seed for the default
9,000 pairs.

    python benchmarks/bench_finetune.py [--rows none,topic-ft,doc-ft,cpt,cpt-ft,tcctm,zeroshot-e5,zeroshot-e5-pairs]
        [--seeds 0,1,2] [--topics 50] [--train 3000] [--aligned-train 3000] [--aligned-test 1000]
        [--grid 10,20,50,100,150,200,250] [--lambdas 1] [--ctm-epochs 100] [--ft-epochs N] [--ft-seed S]
        [--pair-items N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from common import debian_aligned, debian_english, flatten, mean_sd, score_npmi, write_reference

from polytopic import TCCTM, CombinedTM, Corpus, ZeroShotTM
from polytopic.evaluation import score_topics
from polytopic.evaluation.aligned import pair_scores
from polytopic.finetuning import RECORD_FILE, finetune
from polytopic.metrics import ReferenceTexts
from polytopic.models.topic_labels import DEFAULT_GRID

RESULTS = Path(__file__).parent / "results"
MONOLINGUAL = ("none", "topic-ft", "doc-ft", "cpt", "cpt-ft", "tcctm")
TRANSFER = ("zeroshot-e5", "zeroshot-e5-pairs")
TARGETS = ("de", "fr", "it")


class Encoders:
    """The fine-tuned encoder folders of one seed, made on first use and kept for later runs."""

    def __init__(self, root: Path, seed: int, args):
        self.root, self.seed, self.args = root, seed, args
        self.ft_seed = seed if args.ft_seed is None else args.ft_seed

    def get(self, name: str, corpus: Corpus, task: str, **options) -> tuple[str, float]:
        """The folder of encoder ``name`` and the seconds its fine-tuning took."""
        folder = self.root / f"{name}-seed{self.ft_seed}"
        if not (folder / RECORD_FILE).is_file():
            finetune(corpus, task, folder, seed=self.ft_seed, epochs=self.args.ft_epochs, progress=False,
                     overwrite=True, **options)
        return str(folder), json.loads((folder / RECORD_FILE).read_text())["seconds"]


def monolingual_row(row: str, train: Corpus, encoders: Encoders, args) -> tuple[list[list[str]], dict]:
    """The top-25 words of the row's CombinedTM (or TCCTM) and its times."""
    grid = args.grid
    seconds: dict[str, float] = {}
    encoder = None
    if row == "topic-ft":
        encoder, seconds["finetune"] = encoders.get("topic-ft", train, "topics", grid=grid)
    elif row == "doc-ft":
        encoder, seconds["finetune"] = encoders.get("doc-ft", train, "labels", label_field="section")
    elif row in ("cpt", "cpt-ft"):
        encoder, seconds["finetune cpt"] = encoders.get("cpt", train, "mlm")
        if row == "cpt-ft":
            encoder, seconds["finetune"] = encoders.get("cpt-ft", train, "topics", base=encoder, grid=grid)
    options = {"n_topics": args.topics, "seed": encoders.seed, "epochs": args.ctm_epochs, "progress": False}
    if row.startswith("tcctm"):
        weight = float(row.partition("-")[2] or 1.0)
        model = TCCTM(label_weight=weight, label_grid=tuple(grid), **options)
    else:
        model = CombinedTM(encoder=encoder, **options) if encoder else CombinedTM(**options)
    started = time.perf_counter()
    model.fit(train)
    seconds["fit"] = time.perf_counter() - started
    return model.topics(25), {k: round(v, 1) for k, v in seconds.items()}


def topic_scores(topics, reference: dict, scratch: Path) -> dict:
    scored = score_topics(topics, reference["texts"], measures=("c_npmi",))
    return {"npmi": scored["coherence"]["c_npmi"]["mean"],
            "npmi (score_npmi.py)": score_npmi([t[:10] for t in topics], reference["file"], scratch),
            "diversity": scored["diversity"]["topic_diversity"]}


def transfer_row(row: str, train: Corpus, test: Corpus, encoders: Encoders, args) -> dict:
    """Match / KL (and JSD, MRR) of EN against each target language on the held-out items."""
    seconds: dict[str, float] = {}
    encoder = "multilingual-e5-small"
    if row == "zeroshot-e5-pairs":
        n = args.pair_items or len(train)
        english = train.texts("en")[:n]
        paired = Corpus([{"en": en, target: text} for target in TARGETS
                         for en, text in zip(english, train.texts(target)[:n])],
                        ids=[f"{i}-{target}" for target in TARGETS for i in train.ids[:n]])
        encoder, seconds["finetune"] = encoders.get("e5-pairs", paired, "pairs", base="multilingual-e5-small",
                                                    languages=["en", *TARGETS])
    model = ZeroShotTM(n_topics=args.topics, encoder=encoder, language="en", seed=encoders.seed,
                       epochs=args.ctm_epochs, progress=False)
    started = time.perf_counter()
    model.fit(train)
    seconds["fit"] = time.perf_counter() - started
    theta = {lang: model.transform(test, language=lang) for lang in ("en", *TARGETS)}
    pairs = {}
    for target in TARGETS:
        scores = pair_scores(theta["en"], theta[target], seed=encoders.seed)
        scores.pop("confusion")
        pairs[f"en->{target}"] = scores
    return {"seconds": {k: round(v, 1) for k, v in seconds.items()}, "pairs": pairs}


def summary(runs: list[dict]) -> dict:
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(run["row"], []).append(flatten(run["scores"]))
    return {row: mean_sd(results) for row, results in groups.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(MONOLINGUAL + TRANSFER))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--aligned-train", type=int, default=3000)
    parser.add_argument("--aligned-test", type=int, default=1000)
    parser.add_argument("--grid", default=",".join(map(str, DEFAULT_GRID)), help="τ searched for topic labels")
    parser.add_argument("--lambdas", default="1", help="TCCTM label weights: a row tcctm-λ each (λ = 1: tcctm)")
    parser.add_argument("--ctm-epochs", type=int, default=100)
    parser.add_argument("--ft-epochs", type=int, default=None, help="fine-tuning epochs (default: each task's)")
    parser.add_argument("--ft-seed", type=int, default=None,
                        help="fine-tune once with this seed for every topic-model seed (default: one per seed)")
    parser.add_argument("--pair-items", type=int, default=None,
                        help="training items whose en-de/fr/it pairs fine-tune e5 (default: all --aligned-train)")
    cache = Path(os.environ.get("POLYTOPIC_CACHE_DIR", Path.home() / ".cache" / "polytopic"))
    parser.add_argument("--encoders", default=str(cache / "bench-finetune"), help="where fine-tuned encoders are kept")
    parser.add_argument("--out", default=str(RESULTS / "finetune.json"))
    args = parser.parse_args()
    args.grid = [int(k) for k in args.grid.split(",")]
    rows = args.rows.split(",")
    if "tcctm" in rows:
        rows[rows.index("tcctm"):rows.index("tcctm") + 1] = [
            "tcctm" if float(w) == 1 else f"tcctm-{w}" for w in args.lambdas.split(",")]

    train = debian_english(args.train)
    runs: list[dict] = []
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "encoders")}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        reference = {"texts": ReferenceTexts(train.tokens("en")),
                     "file": write_reference(train.texts("en"), scratch / "reference.jsonl")}
        aligned = None
        if any(row in TRANSFER for row in rows):
            corpus = debian_aligned(args.aligned_train + args.aligned_test)
            aligned = (corpus.subset(np.arange(args.aligned_train)),
                       corpus.subset(np.arange(args.aligned_train, args.aligned_train + args.aligned_test)))
        for seed in map(int, args.seeds.split(",")):
            encoders = Encoders(Path(args.encoders), seed, args)
            for row in rows:
                if row in TRANSFER:
                    scores = transfer_row(row, *aligned, encoders, args)
                else:
                    topics, seconds = monolingual_row(row, train, encoders, args)
                    scores = {"seconds": seconds, **topic_scores(topics, reference, scratch)}
                runs.append({"row": row, "seed": seed, "scores": scores})
                print(json.dumps(runs[-1]), flush=True)
                Path(args.out).write_text(json.dumps({"settings": settings, "summary": summary(runs), "runs": runs},
                                                     indent=1))
    print(json.dumps(summary(runs), indent=1))


if __name__ == "__main__":
    main()
