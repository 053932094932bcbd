"""Topics across texts and images: the rows of the M3L-Contrast paper's Table 2 that run
offline, on the Debian desktop applications (issue 11).

1,793 applications, each with a 64x64 icon and its Debian description (en 1,789, de 753),
split once at random (seed 0) into ``--test`` held-out items and the rest for training.
Texts through the multilingual USE, icons through the offline image features (colour,
gradient and shape statistics; no image model ships offline). Rows:

- ``kd-image``: ZeroshotTM-KD (Pivovarova & Zosa 2021): a ZeroShotTM teacher on the English
  descriptions, an image student whose prior is the teacher's posterior of the item's text.
- ``m3l-en+image``, ``m3l-en+de``, ``m3l-en+de+image``: M3L-Contrast on those views.

ZeroshotTM applied to images needs one encoder for texts and images (CLIP); none ships
offline, so that row is not run here (give a local CLIP folder to polytopic to run it).

For each row and seed, on the held-out items: per text language against the icons (both
directions), UAP with items sharing a freedesktop category relevant, MRR of the item's
own icon, mean JSD, each with its shuffled baseline (polytopic.evaluation.aligned); NPMI
(top-10) per language over the training descriptions (polytopic's c_npmi, and the shared
``score_npmi.py`` for English). Reference point from the issue: a linear CCA between
simple icon features and MiniLM text vectors ranks the right icon at MRR 0.063 (random 0.029).

    python benchmarks/bench_multimodal.py [--test 500] [--topics 20] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from common import DATA, flatten, mean_sd, score_npmi, write_reference

from polytopic import Corpus
from polytopic.datasets import read_jsonl
from polytopic.encoders import get_encoder
from polytopic.evaluation.aligned import evaluate_aligned
from polytopic.models.ctm import ZeroShotTM
from polytopic.models.distillation import ZeroShotKD
from polytopic.models.m3l import M3LContrast

RESULTS = Path(__file__).parent / "results"
APPS = DATA / "apps-dev.jsonl.gz"
ROWS = ("kd-image", "m3l-en+image", "m3l-en+de", "m3l-en+de+image")


class TeacherAndStudent:
    """The teacher reads the texts, the image student the icons: one object with the
    ``transform`` / ``topics`` that :func:`evaluate_aligned` reads."""

    def __init__(self, teacher: ZeroShotTM, student: ZeroShotKD):
        self.teacher, self.student = teacher, student
        self.languages_, self.vocabularies_ = teacher.languages_, teacher.vocabularies_

    def transform(self, corpus, *, language=None, images=False, embeddings=None):
        model = self.student if images else self.teacher
        return model.transform(corpus, language=language, images=images, embeddings=embeddings)

    def topics(self, top_n=10, language=None):
        return self.teacher.topics(top_n, language)


def texts_only(corpus: Corpus) -> Corpus:
    """The same items without their icons (M3L learns images whenever a corpus has them)."""
    columns = {}
    for lang in corpus.languages:
        columns[lang] = [None] * len(corpus)
        for position, text in zip(corpus.indices(lang), corpus.texts(lang)):
            columns[lang][position] = text
    return Corpus(columns, ids=corpus.ids, labels=corpus.labels)


def split(corpus, n_test: int):
    order = np.random.default_rng(0).permutation(len(corpus))
    return corpus.subset(np.sort(order[n_test:])), corpus.subset(np.sort(order[:n_test]))


def fit_row(name: str, train, vectors: dict, n_topics: int, seed: int):
    """The fitted model (or teacher-student pair) of a row, and its fit seconds."""
    started = time.perf_counter()
    if name == "kd-image":
        teacher = ZeroShotTM(n_topics=n_topics, language="en", encoder="use-multilingual", seed=seed,
                             progress=False).fit(train, embeddings=vectors["en"])
        student = ZeroShotKD(teacher=teacher, images=True, seed=seed, progress=False)
        student.fit(train, embeddings={"en": vectors["en"], "image": vectors["image"]})
        model = TeacherAndStudent(teacher, student)
    else:
        views = name.removeprefix("m3l-").split("+")
        languages = [v for v in views if v != "image"]
        corpus = train if "image" in views else texts_only(train)
        model = M3LContrast(n_topics=n_topics, languages=languages, seed=seed, progress=False)
        model.fit(corpus, embeddings={v: vectors[v] for v in views})
    return model, time.perf_counter() - started


def scores(name: str, model, train, test, test_vectors: dict, seed: int, scratch: Path, reference: Path) -> dict:
    views = name.removeprefix("m3l-").split("+") if name != "kd-image" else ["en", "image"]
    languages = [v for v in views if v != "image"]
    result = evaluate_aligned(model, test, languages, images="image" in views, reference=train, seed=seed,
                              embeddings={v: test_vectors[v] for v in views}, category_field="categories")
    keep = ("n_pairs", "match", "match_random", "kl", "kl_random", "jsd", "jsd_random", "mrr", "mrr_random",
            "uap", "uap_random", "relevant_share")
    out = {"pairs": {key: {k: pair[k] for k in keep if k in pair} for key, pair in result["pairs"].items()},
           "npmi": {lang: entry["c_npmi"]["mean"] for lang, entry in result["coherence"].items()}}
    out["npmi en (score_npmi.py)"] = score_npmi(model.topics(10, language="en"), reference, scratch)
    return out


def summary(runs: list[dict]) -> dict:
    """Mean and spread over seeds of every number, per row."""
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(run["row"], []).append(flatten(run["scores"]) | {"fit seconds": run["fit_seconds"]})
    return {row: mean_sd(results) for row, results in groups.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--out", default=str(RESULTS / "multimodal.json"))
    args = parser.parse_args()

    apps = read_jsonl(APPS, text_field="debian", image_field="icon")
    train, test = split(apps, args.test)
    text, images = get_encoder("use-multilingual", progress=False), get_encoder(None, "image", progress=False)
    started = time.perf_counter()
    vectors, test_vectors = {}, {}
    for lang in ("en", "de"):
        vectors[lang], test_vectors[lang] = text.encode(train.texts(lang)), text.encode(test.texts(lang))
    vectors["image"] = images.encode([train.images[i] for i in train.image_indices()])
    test_vectors["image"] = images.encode([test.images[i] for i in test.image_indices()])
    print(f"{len(train)} training, {len(test)} held-out apps; vectors in {time.perf_counter() - started:.0f} s",
          flush=True)

    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        reference = write_reference(train.texts("en"), scratch / "reference-en.jsonl")
        for seed in map(int, args.seeds.split(",")):
            for row in args.rows.split(","):
                model, seconds = fit_row(row, train, vectors, args.topics, seed)
                result = scores(row, model, train, test, test_vectors, seed, scratch, reference)
                runs.append({"row": row, "seed": seed, "fit_seconds": round(seconds, 1), "scores": result})
                print(json.dumps(runs[-1]), flush=True)
                Path(args.out).write_text(json.dumps(
                    {"train": len(train), "test": len(test), "topics": args.topics, "text_encoder": text.identity,
                     "image_encoder": images.identity, "summary": summary(runs), "runs": runs}, indent=1))
    print(json.dumps(summary(runs), indent=1))


if __name__ == "__main__":
    main()
