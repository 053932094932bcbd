"""Topics across languages: the rows of the M3L-Contrast paper's Table 1 on Debian data (issue 10).

Aligned Debian package descriptions (human translations; items with all four of en, de,
fr, it): ``--train`` tuples to fit, the next ``--test`` tuples held out. Every text model
reads the multilingual USE (one aligned encoder, vectors cached). Rows:

- ``pltm``: PLTM (Mimno et al. 2009) on the training tuples, Mallet's defaults.
- ``zeroshot-separate``: one ZeroShotTM per language, trained apart (the paper's
  ZeroshotTM row, §4.3); their topic spaces are not tied, so retrieval across them shows
  what training apart gives.
- ``zeroshot-transfer``: ZeroShotTM on English only, applied to the other languages
  (Mueller & Dredze 2021, §4-5.2).
- ``zeroshot-kd``: that English ZeroShotTM as the teacher, a student per other language.
- ``m3l``: M3L-Contrast on the training tuples of the setting's languages; ``m3l-eq1``
  and ``m3l-cosine`` are the alternatives to two choices the paper leaves open.

For each (setting, K, seed), on the held-out tuples: for English against each other
language, Match and KL with their shuffled baselines, mean JSD of aligned pairs, and MRR
of retrieving the aligned text by JSD in both directions; per language, NPMI (top-10,
polytopic's c_npmi over the training texts of that language, and the shared
``score_npmi.py`` where it is found) and topic diversity (top-25). Fit times in seconds.

    python benchmarks/bench_multilingual.py [--settings en-de,en-it,en-de-fr-it] [--topics 20,50]
        [--seeds 0,1,2] [--models pltm,zeroshot-separate,zeroshot-transfer,zeroshot-kd,m3l]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from common import debian_aligned, flatten, mean_sd, score_npmi, write_reference

from polytopic.encoders import get_encoder
from polytopic.evaluation import score_topics
from polytopic.metrics import ReferenceTexts
from polytopic.metrics.alignment import alignment, js_divergence, mrr
from polytopic.models.ctm import ZeroShotTM
from polytopic.models.distillation import ZeroShotKD
from polytopic.models.m3l import M3LContrast
from polytopic.models.pltm import PLTM
from polytopic.preprocessing import Tokenizer

RESULTS = Path(__file__).parent / "results"
MODELS = ("pltm", "zeroshot-separate", "zeroshot-transfer", "zeroshot-kd", "m3l")
#: M3L-Contrast and the alternatives to its open choices, measured once (``--models``):
#: Eq. 1 to the letter (no KL to the prior), and InfoNCE on cosine instead of dot products.
M3L_VARIANTS = {"m3l": {}, "m3l-eq1": {"prior_kl": False}, "m3l-cosine": {"similarity": "cosine"}}


class Fits:
    """The models of one (K, seed), fitted on demand and shared between settings: the
    English ZeroShotTM is the transfer row, the KD teacher and the English separate model."""

    def __init__(self, train, vectors, n_topics: int, seed: int):
        self.train, self.vectors, self.n_topics, self.seed = train, vectors, n_topics, seed
        self.zeroshot: dict[str, tuple[ZeroShotTM, float]] = {}
        self.students: dict[str, tuple[ZeroShotKD, float]] = {}

    def zeroshot_for(self, language: str):
        if language not in self.zeroshot:
            model = ZeroShotTM(n_topics=self.n_topics, language=language, encoder="use-multilingual",
                               seed=self.seed, progress=False)
            self.zeroshot[language] = _timed(model, self.train, self.vectors[language]["train"])
        return self.zeroshot[language]

    def student_for(self, language: str):
        if language not in self.students:
            teacher, _ = self.zeroshot_for("en")
            model = ZeroShotKD(teacher=teacher, language=language, seed=self.seed, progress=False)
            given = {language: self.vectors[language]["train"], "en": self.vectors["en"]["train"]}
            self.students[language] = _timed(model, self.train, given)
        return self.students[language]


def _timed(model, corpus, embeddings):
    started = time.perf_counter()
    model.fit(corpus, embeddings=embeddings)
    return model, time.perf_counter() - started


def run_row(name: str, languages: list[str], fits: Fits, test, vectors) -> dict:
    """θ of the held-out texts per language and the topics per language of one row."""
    test_vectors = {lang: vectors[lang]["test"] for lang in languages}
    theta, topics, seconds = {}, {}, {}
    if name == "pltm":
        model, seconds["fit"] = _timed(PLTM(n_topics=fits.n_topics, languages=languages, seed=fits.seed,
                                            progress=False), fits.train, None)
        for lang in languages:
            theta[lang], topics[lang] = model.transform(test, language=lang), model.topics(25, language=lang)
    elif name in M3L_VARIANTS:
        model, seconds["fit"] = _timed(M3LContrast(n_topics=fits.n_topics, languages=languages, seed=fits.seed,
                                                   progress=False, **M3L_VARIANTS[name]),
                                       fits.train, {lang: fits.vectors[lang]["train"] for lang in languages})
        for lang in languages:
            theta[lang] = model.transform(test, language=lang, embeddings=test_vectors[lang])
            topics[lang] = model.topics(25, language=lang)
    elif name == "zeroshot-separate":
        for lang in languages:
            model, seconds[f"fit {lang}"] = fits.zeroshot_for(lang)
            theta[lang] = model.transform(test, language=lang, embeddings=test_vectors[lang])
            topics[lang] = model.topics(25, language=lang)
    elif name == "zeroshot-transfer":
        model, seconds["fit"] = fits.zeroshot_for("en")
        for lang in languages:
            theta[lang] = model.transform(test, language=lang, embeddings=test_vectors[lang])
        topics["en"] = model.topics(25, language="en")
    elif name == "zeroshot-kd":
        teacher, seconds["fit teacher"] = fits.zeroshot_for("en")
        theta["en"], topics["en"] = teacher.transform(test, language="en", embeddings=test_vectors["en"]), \
            teacher.topics(25, language="en")
        for lang in languages[1:]:
            model, seconds[f"fit {lang}"] = fits.student_for(lang)
            theta[lang] = model.transform(test, language=lang, embeddings=test_vectors[lang])
            topics[lang] = model.topics(25, language=lang)
    return {"theta": theta, "topics": topics, "seconds": seconds}


def scores(row: dict, references: dict, scratch: Path, seed: int) -> dict:
    theta, topics = row["theta"], row["topics"]
    out = {"seconds": {k: round(v, 1) for k, v in row["seconds"].items()}, "pairs": {}, "languages": {}}
    for lang in list(theta)[1:]:
        aligned = alignment(theta["en"], theta[lang], seed)
        out["pairs"][f"en-{lang}"] = aligned.as_dict() | {
            "jsd": float(js_divergence(theta["en"], theta[lang]).mean()),
            f"mrr en->{lang}": mrr(theta["en"], theta[lang]),
            f"mrr {lang}->en": mrr(theta[lang], theta["en"]),
        }
    for lang, words in topics.items():
        top10 = [t[:10] for t in words]
        scored = score_topics(words, references[lang]["texts"], measures=("c_npmi",))
        entry = {"npmi": scored["coherence"]["c_npmi"]["mean"], "diversity": scored["diversity"]["topic_diversity"]}
        entry["npmi (score_npmi.py)"] = score_npmi(top10, references[lang]["file"], scratch)
        out["languages"][lang] = entry
    return out


def summary(runs: list[dict]) -> dict:
    """Mean and spread over seeds of every number, per (setting, K, model)."""
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(f"{run['setting']} K={run['topics']} {run['model']}", []).append(flatten(run["scores"]))
    return {key: mean_sd(results) for key, results in groups.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--settings", default="en-de,en-it,en-de-fr-it")
    parser.add_argument("--topics", default="20,50")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--out", default=str(RESULTS / "multilingual.json"))
    args = parser.parse_args()
    settings = [s.split("-") for s in args.settings.split(",")]
    models = args.models.split(",")
    languages = sorted({lang for s in settings for lang in s}, key=["en", "de", "fr", "it"].index)

    corpus = debian_aligned(args.train + args.test)
    train = corpus.subset(np.arange(args.train))
    test = corpus.subset(np.arange(args.train, args.train + args.test))
    encoder = get_encoder("use-multilingual", progress=False)
    started = time.perf_counter()
    vectors = {lang: {"train": encoder.encode(train.texts(lang)), "test": encoder.encode(test.texts(lang))}
               for lang in languages}
    print(f"vectors of {len(languages)} languages in {time.perf_counter() - started:.0f} s", flush=True)

    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        references = {}
        for lang in languages:
            references[lang] = {"texts": ReferenceTexts(train.tokens(lang, tokenizer=Tokenizer(lang))),
                                "file": write_reference(train.texts(lang), scratch / f"reference-{lang}.jsonl")}
        for k in map(int, args.topics.split(",")):
            for seed in map(int, args.seeds.split(",")):
                fits = Fits(train, vectors, k, seed)
                for setting in settings:
                    for name in models:
                        row = run_row(name, setting, fits, test, vectors)
                        result = scores(row, references, scratch, seed)
                        runs.append({"setting": "-".join(setting), "topics": k, "seed": seed, "model": name,
                                     "scores": result})
                        print(json.dumps(runs[-1]), flush=True)
                        Path(args.out).write_text(json.dumps(
                            {"train": args.train, "test": args.test, "encoder": encoder.identity,
                             "summary": summary(runs), "runs": runs}, indent=1))
    print(json.dumps(summary(runs), indent=1))


if __name__ == "__main__":
    main()
