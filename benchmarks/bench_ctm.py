"""CombinedTM: polytopic vs the reference contextualized-topic-models, side by side.

Same corpus (first 20,000 English Debian descriptions), same MiniLM embeddings, same
2,000-word vocabulary, same hyperparameters and epochs (paper: 60), K = 50. Reports fit
wall time of each and their ratio, and NPMI (gensim c_npmi, top-10, boolean sliding
window 10) of both topic sets against the same tokenised corpus.

Run from an environment with both installed (see benchmarks/README.md):
    python benchmarks/bench_ctm.py [--docs 20000] [--epochs 60] [--topics 50] [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from common import debian_english

from polytopic import CombinedTM
from polytopic.encoders import get_encoder


def npmi(topics, texts):
    from gensim.corpora import Dictionary
    from gensim.models import CoherenceModel

    dictionary = Dictionary(texts)
    model = CoherenceModel(topics=topics, texts=texts, dictionary=dictionary, coherence="c_npmi",
                           topn=10, processes=1)
    return float(model.get_coherence())


def fit_reference(bow, embeddings, vocabulary, topics, epochs, seed):
    from contextualized_topic_models.datasets.dataset import CTMDataset
    from contextualized_topic_models.models.ctm import CombinedTM as ReferenceCombinedTM

    torch.manual_seed(seed)
    np.random.seed(seed)
    dataset = CTMDataset(X_contextual=embeddings, X_bow=bow, idx2token=dict(enumerate(vocabulary.words)))
    model = ReferenceCombinedTM(bow_size=len(vocabulary), contextual_size=embeddings.shape[1],
                                n_components=topics, num_epochs=epochs)
    started = time.perf_counter()
    model.fit(dataset, verbose=False)
    seconds = time.perf_counter() - started
    return seconds, [list(t) for t in model.get_topic_lists(10)]


def fit_ours(corpus, embeddings, vocabulary, topics, epochs, seed, adapt_embedding):
    model = CombinedTM(n_topics=topics, epochs=epochs, seed=seed, adapt_embedding=adapt_embedding, progress=False)
    started = time.perf_counter()
    model.fit(corpus, embeddings=embeddings)
    seconds = time.perf_counter() - started
    assert model.vocabularies_["en"] == vocabulary  # the reference gets the same one
    return seconds, model.topics(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--seeds", default="0", help="comma-separated; every fit runs once per seed")
    parser.add_argument("--fits", default="polytopic,polytopic_direct,reference", help="comma-separated subset")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ctm.json")
    args = parser.parse_args()

    corpus = debian_english(args.docs)
    embeddings = get_encoder(progress=False).encode(corpus.texts())  # from the cache after a first run
    vocabulary = corpus.vocabulary("en")
    bow = vocabulary.bag_of_words(corpus.texts())
    texts = corpus.tokens("en")

    fits = {
        "polytopic": lambda seed: fit_ours(corpus, embeddings, vocabulary, args.topics, args.epochs, seed, True),
        "polytopic_direct": lambda seed: fit_ours(corpus, embeddings, vocabulary, args.topics, args.epochs, seed,
                                                  False),
        "reference": lambda seed: fit_reference(bow, embeddings, vocabulary, args.topics, args.epochs, seed),
    }
    fits = {name: fits[name] for name in args.fits.split(",")}
    runs = {name: [] for name in fits}
    for seed in map(int, args.seeds.split(",")):
        for name, fit in fits.items():
            seconds, topics = fit(seed)
            runs[name].append({"seed": seed, "fit_s": round(seconds, 2), "npmi": round(npmi(topics, texts), 4),
                               "topics_sample": [" ".join(t) for t in topics[:5]]})
            print(name, json.dumps(runs[name][-1]), flush=True)

    mean = lambda name, key: float(np.mean([r[key] for r in runs[name]]))  # noqa: E731
    result = {
        "docs": args.docs, "topics": args.topics, "epochs": args.epochs, "vocabulary": len(vocabulary),
        "torch_threads": torch.get_num_threads(),
        "summary": {name: {"mean_fit_s": round(mean(name, "fit_s"), 2), "mean_npmi": round(mean(name, "npmi"), 4),
                           **({"speedup_vs_reference": round(mean("reference", "fit_s") / mean(name, "fit_s"), 2),
                               "npmi_minus_reference": round(mean(name, "npmi") - mean("reference", "npmi"), 4)}
                              if "reference" in runs else {})}
                    for name in runs},
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
