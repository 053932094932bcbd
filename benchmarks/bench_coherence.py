"""Coherence speed and exactness: polytopic against gensim's CoherenceModel.

50 topics x top-10 over the 54,910 English Debian descriptions, from already-tokenised
texts. Topics are real: the 10 highest c-TF-IDF words of each of the 50 largest Debian
sections. For each of NPMI, C_V, UMass and UCI the script times gensim (processes=1 and
its default) and polytopic like for like and from scratch (see the notes it writes
beside the table), then a second topic set against the same ReferenceTexts; it stops
if any value differs from gensim's by more than 1e-6, and writes
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
from dataclasses import asdict, dataclass
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
    """Result of ``function()`` and its fastest (wall, CPU) seconds over ``repeat`` runs.

    CPU time of this process is reported beside wall time because the benchmark machine
    is shared: other people's jobs stretch wall time, not this process's CPU time. Both
    gensim with processes=1 and polytopic run in this one process.
    """
    seconds = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        seconds.append((time.perf_counter() - wall, time.process_time() - cpu))
    return result, Timing(*min(seconds))


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float

    def ratio(self, other: "Timing") -> "Timing":
        return Timing(self.wall / other.wall, self.cpu / other.cpu)


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
                len(texts), sum(map(len, texts)), seconds_tokenise.wall, seconds_dictionary.wall)

    default_processes = max(1, multiprocessing.cpu_count() - 1)  # gensim's processes=-1
    settings = {"processes=1": 1}
    if not args.skip_gensim_default:
        settings[f"default (processes={default_processes})"] = -1
    rows = []
    for measure in MEASURES:
        # like for like: gensim gets its Dictionary, polytopic its ReferenceTexts, built
        # beforehand; each polytopic run starts from a fresh ReferenceTexts (no counts)
        references = [ReferenceTexts(texts) for _ in range(3)]
        ours, seconds_ours = timed(lambda: coherence(topics, references.pop(), measure), repeat=3)
        _, seconds_scratch = timed(lambda: coherence(topics, texts, measure), repeat=3)
        reference = ReferenceTexts(texts)
        coherence(topics, reference, measure)
        _, seconds_second = timed(lambda: coherence(other_topics, reference, measure))
        _, seconds_again = timed(lambda: coherence(topics, reference, measure))
        row = {"measure": measure, "window_size": MEASURES[measure].window_size,
               "polytopic": asdict(seconds_ours), "polytopic_from_scratch": asdict(seconds_scratch),
               "second_model": asdict(seconds_second), "same_topics_again": asdict(seconds_again),
               "polytopic_mean": ours.mean, "gensim": {}}
        for label, processes in settings.items():
            # construction is timed too: for u_mass it turns the texts into bags of words
            theirs, seconds_theirs = timed(lambda: CoherenceModel(
                topics=topics, texts=texts, dictionary=dictionary, coherence=measure, topn=10,
                processes=processes).get_coherence_per_topic())
            difference = float(np.max(np.abs(np.asarray(theirs) - ours.per_topic)))
            if not difference <= 1e-6:
                raise SystemExit(f"{measure}: polytopic differs from gensim by {difference}")
            speedup = seconds_theirs.ratio(seconds_ours)
            scratch = Timing(seconds_theirs.wall + seconds_dictionary.wall, seconds_theirs.cpu + seconds_dictionary.cpu)
            row["gensim"][label] = {"seconds": asdict(seconds_theirs), "mean": float(np.mean(theirs)),
                                    "max_abs_difference": difference, "speedup": asdict(speedup),
                                    "speedup_from_scratch": asdict(scratch.ratio(seconds_scratch))}
            logger.info("%s gensim %s: %s; polytopic %s; speed-up %s; max |diff| %.1e", measure, label,
                        seconds_theirs, seconds_ours, speedup, difference)
        rows.append(row)
    write(rows, len(texts), seconds_tokenise, seconds_dictionary)


def write(rows, n_docs, seconds_tokenise, seconds_dictionary) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "coherence.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    pair = lambda t: f"{t['wall']:.3f} / {t['cpu']:.3f}"  # noqa: E731
    ratio = lambda t: f"{t['wall']:.0f}x / {t['cpu']:.0f}x"  # noqa: E731
    lines = [
        f"# Coherence: polytopic vs gensim CoherenceModel ({n_docs} English Debian descriptions, "
        "50 topics x top-10)\n",
        "Times are wall / CPU seconds of this one process (the machine is shared with other jobs, "
        "which stretch wall time but not this process's CPU time). Tokenising (polytopic Tokenizer) "
        f"took {seconds_tokenise.wall:.1f} s and is in no time below.\n",
        "- **gensim**: `CoherenceModel(topics, texts, dictionary, coherence, topn=10, processes)` "
        "constructed and `get_coherence_per_topic()`, one run, with the gensim `Dictionary` built "
        f"beforehand ({pair(asdict(seconds_dictionary))} s, not included).",
        "- **polytopic**: `coherence(topics, reference, measure)` with a `ReferenceTexts` built "
        "beforehand (polytopic's counterpart of the Dictionary) but holding no counts: best of 3.",
        "- **from scratch**: both including their reference structure: gensim Dictionary + "
        "CoherenceModel vs `coherence(topics, texts)` from the token lists; best of 3 for polytopic.",
        "- **second model**: 50 other topics (45 shared, 5 new, so new words) against the same "
        "ReferenceTexts: only the documents holding a new word are counted, and the counts grow "
        "to the union; **again**: the same topics once more (cached counts).\n",
        "| measure | window | gensim setting | gensim s | polytopic s | speed-up | from-scratch speed-up | "
        "second model s | again s | max abs diff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for label, result in row["gensim"].items():
            lines.append(
                f"| {row['measure']} | {row['window_size'] or 'documents'} | {label} | {pair(result['seconds'])} | "
                f"{pair(row['polytopic'])} | {ratio(result['speedup'])} | {ratio(result['speedup_from_scratch'])} | "
                f"{pair(row['second_model'])} | {pair(row['same_topics_again'])} | "
                f"{result['max_abs_difference']:.1e} |"
            )
    (RESULTS / "coherence.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
