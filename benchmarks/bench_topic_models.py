"""Topic quality and fit time of TopClus and the baselines on English Debian descriptions.

    python benchmarks/bench_topic_models.py --docs 20000 --topics 50 --models lda,etm,clustering,corex,combined
    python benchmarks/bench_topic_models.py --docs 2000 --topics 50 --models topclus,lda --epochs-topclus 10

Coherence is gensim's CoherenceModel (c_npmi, u_mass, c_uci) on each model's top-10 words
with the tokenised corpus as reference; diversity is the share of unique words among all
topics' top-25 words (Dieng et al. 2020); NMI compares each document's argmax topic with
its Debian ``section`` (scikit-learn). Results go to a JSON file per run and are appended to
``benchmarks/results/topic_models.md`` with five topics per model.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from common import debian_english
from gensim.corpora import Dictionary
from gensim.models.coherencemodel import CoherenceModel
from sklearn.metrics import normalized_mutual_info_score

from polytopic.encoders import get_encoder
from polytopic.models import MODELS

RESULTS = Path(__file__).parent / "results"
logger = logging.getLogger("bench")


def coherence(topics: list[list[str]], texts: list[list[str]], dictionary: Dictionary) -> dict[str, float]:
    scores = {}
    for measure in ("c_npmi", "u_mass", "c_uci"):
        model = CoherenceModel(topics=topics, texts=texts, dictionary=dictionary, coherence=measure,
                               topn=10, processes=1)
        scores[measure] = float(model.get_coherence())
    return scores


def diversity(topics: list[list[str]]) -> float:
    return len({w for t in topics for w in t}) / sum(len(t) for t in topics)


def run(name: str, corpus, n_topics: int, options: dict, texts, dictionary) -> dict:
    model = MODELS[name](n_topics=n_topics, progress=False, **options)
    embeddings = get_encoder(progress=False).encode(corpus.texts()) if name in ("combined", "clustering") else None
    started = time.perf_counter()
    model.fit(corpus, embeddings=embeddings)
    seconds = time.perf_counter() - started
    doc_topic = model.transform(corpus, embeddings=embeddings)
    top10 = model.topics(top_n=10)
    result = {"model": name, "options": options, "fit_seconds": round(seconds, 1),
              **coherence(top10, texts, dictionary), "diversity_top25": diversity(model.topics(top_n=25)),
              "nmi_section": float(normalized_mutual_info_score(corpus.labels["section"], doc_topic.argmax(1))),
              "topics": [" ".join(t) for t in top10[:5]]}
    if hasattr(model, "timings_"):
        result["timings"] = model.timings_ | {"n_tokens": model.n_tokens_}
    return result


def write_report() -> Path:
    """Render every ``topic_models-*.json`` run into ``topic_models.md`` (tables, then topics)."""
    lines = ["# Topic models on English Debian descriptions", "",
             "Written by `benchmarks/bench_topic_models.py`; coherence by gensim on top-10 words against the "
             "run's own tokenised corpus, diversity on top-25, NMI of argmax topics against `section`.", ""]
    for path in sorted(RESULTS.glob("topic_models-*.json")):
        results = json.loads(path.read_text())
        lines += [f"## {path.stem.removeprefix('topic_models-')}", "",
                  "| model | options | NPMI | UMass | UCI | diversity | NMI | fit s |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in results:
            if "error" in r:
                lines.append(f"| {r['model']} | failed: {r['error']} | | | | | | |")
                continue
            lines.append(f"| {r['model']} | {json.dumps(r['options'])} | {r['c_npmi']:.3f} | {r['u_mass']:.2f} | "
                         f"{r['c_uci']:.2f} | {r['diversity_top25']:.3f} | {r['nmi_section']:.3f} | "
                         f"{r['fit_seconds']} |")
        lines.append("")
        for r in results:
            if "timings" in r:
                t = r["timings"]
                lines.append(f"{r['model']}: {t['n_tokens']} tokens; embedding {t['embedding_tokens_per_second']:.0f} "
                             f"tokens/s, training {t['epoch_tokens_per_second']:.0f} tokens/s per epoch.")
        lines.append("")
        for r in results:
            if "topics" in r:
                lines += [f"**{r['model']}**", ""] + [f"- {t}" for t in r["topics"]] + [""]
    notes = RESULTS / "topic_models-notes.md"  # the reading of the numbers, written by hand
    if notes.exists():
        lines += ["", notes.read_text()]
    out = RESULTS / "topic_models.md"
    out.write_text("\n".join(lines))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--models", default="topclus,lda,etm,clustering,corex,combined")
    parser.add_argument("--epochs-topclus", type=int, default=None)
    parser.add_argument("--epochs-combined", type=int, default=None)
    parser.add_argument("--tag", default=None)
    parser.add_argument("--report", action="store_true", help="only rewrite topic_models.md")
    args = parser.parse_args()
    if args.report:
        write_report()
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    corpus = debian_english(args.docs)
    texts = corpus.tokens()
    dictionary = Dictionary(texts)
    options = {"topclus": {"epochs": args.epochs_topclus} if args.epochs_topclus else {},
               "combined": {"epochs": args.epochs_combined} if args.epochs_combined else {}}
    tag = args.tag or f"{args.docs}docs-K{args.topics}"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"topic_models-{tag}.json"
    results = json.loads(out.read_text()) if out.exists() else []
    for name in args.models.split(","):
        logger.info("fitting %s on %d documents, K=%d", name, len(corpus), args.topics)
        try:
            result = run(name, corpus, args.topics, options.get(name, {}), texts, dictionary)
        except Exception as err:  # report and go on with the other models
            logger.exception("%s failed", name)
            result = {"model": name, "error": f"{type(err).__name__}: {err}"}
        logger.info("%s", json.dumps(result))
        results = [r for r in results if r["model"] != name] + [result]
        out.write_text(json.dumps(results, indent=1) + "\n")
    write_report()


if __name__ == "__main__":
    main()
