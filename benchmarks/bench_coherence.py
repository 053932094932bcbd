"""Coherence speed and exactness: polytopic against gensim's CoherenceModel.

50 topics x top-10 over the 54,910 English Debian descriptions, from already-tokenised
texts. Topics are real: the 10 highest c-TF-IDF words of each of the 50 largest Debian
sections. For each of NPMI, C_V, UMass and UCI the script times gensim (processes=1 and
its default; one run each), polytopic from the raw token lists (cold: includes turning
the tokens into ids and counting; best of 3 runs), and polytopic scoring a second topic set against the same
ReferenceTexts; it checks the values agree to 1e-6 and writes
``benchmarks/results/coherence.json`` and ``coherence.md``.

Run: ``PYTHONPATH=src python benchmarks/bench_coherence.py [--skip-gensim-default]``
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfTransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import debian_english  # noqa: E402

from polytopic.metrics import MEASURES, ReferenceTexts, coherence  # noqa: E402
from polytopic.preprocessing import Tokenizer, count_matrix  # noqa: E402

logger = logging.getLogger("bench_coherence")
RESULTS = Path(__file__).resolve().parent / "results"


def section_topics(texts, sections, n_topics=50, top_n=10, skip=0):
    """Top c-TF-IDF words of the ``n_topics`` largest sections (after the first ``skip``)."""
    counts, index = count_matrix(texts)
    names, sizes = np.unique(sections, return_counts=True)
    chosen = names[np.argsort(-sizes, kind="stable")][skip: skip + n_topics]
    rows = np.vstack([np.asarray(counts[np.asarray(sections) == s].sum(axis=0)) for s in chosen])
    weights = TfidfTransformer().fit_transform(rows).toarray()
    words = np.array(list(index), dtype=object)
    return [list(words[np.argsort(-w, kind="stable")[:top_n]]) for w in weights]


def timed(function, repeat=1):
    """Result of ``function()`` and its fastest wall time over ``repeat`` runs."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return result, min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-gensim-default", action="store_true",
                        help="time gensim with processes=1 only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logger.setLevel(logging.INFO)  # gensim's progress lines would slow gensim down
    from gensim.corpora import Dictionary
    from gensim.models import CoherenceModel

    corpus = debian_english(None)
    texts, seconds_tokenise = timed(lambda: Tokenizer("en").tokenize_many(corpus.texts()))
    sections = corpus.labels["section"]
    topics = section_topics(texts, sections)
    other_topics = section_topics(texts, sections, skip=5)  # a "second model": shares 45 sections
    dictionary, seconds_dictionary = timed(lambda: Dictionary(texts))
    logger.info("%d documents, %d tokens; tokenised in %.1f s, gensim Dictionary in %.1f s",
                len(texts), sum(map(len, texts)), seconds_tokenise, seconds_dictionary)

    default_processes = max(1, multiprocessing.cpu_count() - 1)  # gensim's processes=-1
    settings = {"processes=1": 1} | ({} if args.skip_gensim_default else {f"default (processes={default_processes})": -1})
    rows = []
    for measure in MEASURES:
        ours, seconds_ours = timed(lambda: coherence(topics, texts, measure), repeat=3)
        reference = ReferenceTexts(texts)
        coherence(topics, reference, measure)
        second, seconds_second = timed(lambda: coherence(other_topics, reference, measure))
        again, seconds_again = timed(lambda: coherence(topics, reference, measure))
        row = {"measure": measure, "window_size": MEASURES[measure].window_size,
               "polytopic_seconds": seconds_ours, "second_model_seconds": seconds_second,
               "same_topics_again_seconds": seconds_again, "polytopic_mean": ours.mean, "gensim": {}}
        for label, processes in settings.items():
            model = CoherenceModel(topics=topics, texts=texts, dictionary=dictionary, coherence=measure,
                                   topn=10, processes=processes)
            theirs, seconds_theirs = timed(model.get_coherence_per_topic)
            difference = float(np.max(np.abs(np.asarray(theirs) - ours.per_topic)))
            row["gensim"][label] = {"seconds": seconds_theirs, "mean": float(np.mean(theirs)),
                                    "max_abs_difference": difference, "speedup": seconds_theirs / seconds_ours}
            logger.info("%s gensim %s: %.2f s; polytopic %.3f s (x%.0f); max |diff| %.1e", measure, label,
                        seconds_theirs, seconds_ours, seconds_theirs / seconds_ours, difference)
        rows.append(row)
    write(rows, len(texts), seconds_tokenise, seconds_dictionary)


def write(rows, n_docs, seconds_tokenise, seconds_dictionary) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "coherence.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# Coherence: polytopic vs gensim CoherenceModel ({n_docs} English Debian descriptions, "
        "50 topics x top-10)\n",
        f"Tokenising (polytopic Tokenizer, not timed below): {seconds_tokenise:.1f} s; "
        f"gensim Dictionary (gensim's input, not timed below): {seconds_dictionary:.1f} s.\n",
        "| measure | window | gensim setting | gensim s | polytopic s (cold) | speed-up | "
        "second model s | same topics again s | max abs diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for label, result in row["gensim"].items():
            lines.append(
                f"| {row['measure']} | {row['window_size'] or 'documents'} | {label} | {result['seconds']:.2f} | "
                f"{row['polytopic_seconds']:.3f} | {result['speedup']:.0f}x | {row['second_model_seconds']:.3f} | "
                f"{row['same_topics_again_seconds'] * 1000:.1f} ms | {result['max_abs_difference']:.1e} |"
            )
    (RESULTS / "coherence.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
