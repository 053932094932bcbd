r"""TopClus (Meng et al. 2022) on the first N English Debian descriptions: tokens/s per stage,
coherence, diversity and NMI, for comparing two versions of the model (issue #14).

Run it once per checkout with that checkout's ``src`` first on the path and its own empty
vector cache, so both pay the same embedding cost:

    POLYTOPIC_CACHE_DIR=/tmp/cache-a PYTHONPATH=<checkout>/src python benchmarks/bench_topclus.py \
        --docs 3000 --topics 20 --label after --out benchmarks/results/topclus-3000docs-K20.json

Each run adds (or replaces) its ``label`` in the output JSON. Scores: ``npmi`` is polytopic's
c_npmi of the top-10 words against the training documents as the model tokenises them;
``npmi_shared`` is ``shared/tools/score_npmi.py`` (gensim c_npmi, raw texts less
scikit-learn's stopwords); ``diversity25`` the unique share of the top-25 words;
``nmi_kmeans_z`` the NMI against the ``section`` labels of K-means on the document
representations z^(d), as the paper computes it (§4.3), and ``nmi_argmax`` that of the
argmax topic.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import debian_english, score_npmi, write_reference

from polytopic.metrics import (
    ReferenceTexts,
    argmax_clusters,
    coherence,
    kmeans_clusters,
    score_clusters,
    topic_diversity,
)
from polytopic.models import TopClus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", required=True, help="name of this version in the output")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    corpus = debian_english(args.docs)
    model = TopClus(n_topics=args.topics, seed=args.seed, progress=False)
    started = time.perf_counter()
    model.fit(corpus)
    fit_seconds = time.perf_counter() - started
    top10, top25 = model.topics(top_n=10), model.topics(top_n=25)
    texts = ReferenceTexts(corpus.tokens("en", tokenizer=model.vocabularies_["en"].tokenizer))
    labels = corpus.labels["section"]
    represent = getattr(model, "document_representations", None) or model.document_embeddings
    timings = dict(model.timings_)
    with tempfile.TemporaryDirectory() as scratch:
        reference = write_reference(corpus.texts(), Path(scratch) / "corpus.jsonl")
        npmi_shared = score_npmi(top10, reference, Path(scratch))
    result = {
        "docs": args.docs, "n_topics": args.topics, "seed": args.seed, "fit_seconds": round(fit_seconds, 1),
        "n_tokens": model.n_tokens_, "n_clustered_tokens": getattr(model, "n_clustered_tokens_", model.n_tokens_),
        "timings": timings,
        "seconds_per_epoch": timings.get("seconds_per_epoch", model.n_tokens_ / timings["epoch_tokens_per_second"]),
        "npmi": coherence(top10, texts, "c_npmi", top_n=10).mean,
        "npmi_shared": npmi_shared,
        "diversity25": topic_diversity(top25, 25),
        "nmi_kmeans_z": score_clusters(labels, kmeans_clusters(represent(corpus), len(set(labels)))).nmi,
        "nmi_argmax": score_clusters(labels, argmax_clusters(model.transform(corpus))).nmi,
        "topics": [" ".join(t) for t in top10],
    }
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results[args.label] = result
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "topics"}, indent=1))


if __name__ == "__main__":
    main()
