"""Evaluate a run directory with the metrics suite, and lay several runs side by side.

:func:`evaluate_run` reads a run (the saved model and ``run.json``), scores its topics
against a reference corpus (the training corpus named in ``run.json`` unless another is
given) and returns a JSON-able dict that records every setting used: reference corpus,
language, tokeniser, window sizes, top-N, epsilon and the missing-word policy.
:func:`~polytopic.runs.write_metrics` stores it as ``metrics.json`` in the run;
:func:`comparison_rows` turns several such dicts into the rows of one table.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from polytopic.corpus import Corpus
from polytopic.datasets import read_corpus
from polytopic.errors import ModelFileError
from polytopic.metrics import (
    MEASURES,
    ReferenceTexts,
    argmax_clusters,
    coherence,
    intrusion_proxy,
    inverted_rbo,
    kmeans_clusters,
    score_clusters,
    topic_diversity,
)
from polytopic.metrics.coherence import EPSILON
from polytopic.metrics.intrusion import NAME as INTRUSION_NAME
from polytopic.models import load_model
from polytopic.runs import RUN_FILE, read_run

logger = logging.getLogger(__name__)

COHERENCE_TOP_N = 10
DIVERSITY_TOP_N = 25  # ETM / TopClus
RBO_WEIGHT = 0.9  # OCTIS InvertedRBO default


class ReferenceCache:
    """Reference corpora read once per (path, reading options) and counted once per
    (language, tokeniser), so that comparing several runs trained on one corpus counts its
    words once."""

    def __init__(self) -> None:
        self._corpora: dict[tuple, Corpus] = {}
        self._texts: dict[tuple, ReferenceTexts] = {}

    def add(self, path: Path, corpus: Corpus, read_options: dict | None = None) -> None:
        """Hold ``corpus`` as the one read from ``path`` with ``read_options``: a caller that
        has read it already (a sweep, to fit) spares the second reading."""
        self._corpora[_corpus_key(path, read_options)] = corpus

    def get(self, path: Path, language: str, tokenizer,
            read_options: dict | None = None) -> tuple[Corpus, ReferenceTexts]:
        """The corpus at ``path`` (read with ``read_options``, keyword arguments of
        :func:`~polytopic.datasets.read_corpus`) and the counts of its texts in ``language``."""
        corpus_key = _corpus_key(path, read_options)
        if corpus_key not in self._corpora:
            self._corpora[corpus_key] = read_corpus(path, **dict(read_options or {}))
        corpus = self._corpora[corpus_key]
        key = (corpus_key, language, tokenizer)
        if key not in self._texts:
            self._texts[key] = ReferenceTexts(corpus.tokens(language, tokenizer=tokenizer))
        return corpus, self._texts[key]


def _corpus_key(path: Path, read_options: dict | None) -> tuple:
    return Path(path).resolve(), tuple(sorted((read_options or {}).items()))


def reference_path(run_dir: Path, run: dict, reference: str | Path | None) -> Path:
    if reference is not None:
        return Path(reference)
    if "corpus" not in run:
        raise ModelFileError(f"{run_dir / RUN_FILE} names no training corpus; pass a reference corpus")
    path = Path(run["corpus"])
    if not path.exists():
        raise ModelFileError(
            f"the training corpus {path} named in {run_dir / RUN_FILE} is not found from here; "
            "pass the reference corpus explicitly (--reference)"
        )
    return path


def evaluate_run(
    run_dir: str | Path,
    reference: str | Path | None = None,
    labels: str | None = None,
    intrusion: bool = False,
    cache: ReferenceCache | None = None,
    read_options: dict | None = None,
) -> dict:
    """Score the run in ``run_dir``.

    Parameters
    ----------
    run_dir : path
        A run directory written by ``polytopic fit``.
    reference : path, optional
        Reference corpus file for coherence (default: the training corpus in run.json).
    labels : str, optional
        Label field of the reference corpus (e.g. ``section``): adds NMI and purity of
        the documents' argmax topics, of K-means on their topic distributions and, for a
        model with its own document representations (TopClus's z^(d)), of K-means on those.
    intrusion : bool
        Add the word-intrusion proxy, with the model's encoder (or the default one).
    cache : ReferenceCache, optional
        Shares reference corpora and their counts between runs.
    read_options : dict, optional
        Keyword arguments of :func:`~polytopic.datasets.read_corpus` for the reference
        (default: as run.json records the training corpus was read when it is the
        reference, else the defaults).

    Returns
    -------
    dict, JSON-able (NaN written as None), with a ``settings`` entry.
    """
    run_dir = Path(run_dir)
    run = read_run(run_dir)
    model = load_model(run_dir)
    language = model.language_
    tokenizer = model.vocabularies_[language].tokenizer
    path = reference_path(run_dir, run, reference)
    if read_options is None and reference is None:  # the training corpus, read as at fit time
        read_options = run.get("read_options")
    corpus, texts = (cache or ReferenceCache()).get(path, language, tokenizer, read_options)

    n_words = len(model.vocabularies_[language])
    topics = model.topics(top_n=max(COHERENCE_TOP_N, DIVERSITY_TOP_N), language=language)
    scores = coherence_scores(topics, texts)
    result = {
        "run": str(run_dir),
        "model": run.get("model"),
        "n_topics": len(topics),
        "settings": {
            "reference_corpus": str(path),
            "reference_documents": len(texts),
            "language": language,
            "tokenizer": tokenizer_settings(tokenizer),
            "coherence_top_n": COHERENCE_TOP_N,
            "coherence_windows": {name: s["window_size"] for name, s in scores.items()},
            "epsilon": EPSILON,
            "missing_words": "skipped with a warning (listed per measure under skipped_words)",
            "diversity_top_n": DIVERSITY_TOP_N,
            "rbo_weight": RBO_WEIGHT,
        },
        "coherence": scores,
        "diversity": {
            "topic_diversity": topic_diversity(topics, DIVERSITY_TOP_N) if n_words >= DIVERSITY_TOP_N else None,
            "inverted_rbo": inverted_rbo(topics, COHERENCE_TOP_N, RBO_WEIGHT) if len(topics) > 1 else None,
        },
    }
    if labels is not None:
        result["clustering"] = _clustering(model, corpus, language, labels)
        result["settings"]["labels"] = labels
    if intrusion:
        result["intrusion_proxy"] = _intrusion(model, topics)
    return json_safe(result)


def coherence_scores(topics: list[list[str]], texts: ReferenceTexts) -> dict:
    """Every measure of :data:`~polytopic.metrics.MEASURES` on the top-:data:`COHERENCE_TOP_N`
    words of ``topics``: ``{measure: {"mean", "per_topic", settings...}}``."""
    scores = {name: coherence(topics, texts, name, top_n=COHERENCE_TOP_N) for name in MEASURES}
    return {name: {"mean": s.mean, "per_topic": s.per_topic.tolist()} | s.settings() for name, s in scores.items()}


def tokenizer_settings(tokenizer) -> dict:
    """A tokeniser's settings for metrics.json, its stopwords counted rather than listed."""
    settings = {k: v for k, v in tokenizer.to_dict().items() if k != "stopwords"}
    return settings | {"n_stopwords": len(tokenizer.stopwords)}


def _clustering(model, corpus: Corpus, language: str, field: str) -> dict:
    """NMI and purity of the documents' argmax topics, of K-means on their topic
    distributions and, for a model that offers its own document representations
    (``model.document_representations(corpus, language=...)``, e.g. TopClus's latent z^(d),
    which the TopClus paper clusters, §4.3), of K-means on those."""
    truth = corpus.label(field, language)
    doc_topic = model.transform(corpus, language=language)
    n_clusters = min(len(set(map(str, truth))), len(truth))
    result = {
        "field": field,
        "argmax_topic": score_clusters(truth, argmax_clusters(doc_topic)).as_dict(),
        "kmeans_doc_topic": score_clusters(truth, kmeans_clusters(doc_topic, n_clusters)).as_dict(),
    }
    represent = getattr(model, "document_representations", None)
    if represent is not None:
        clusters = kmeans_clusters(represent(corpus, language=language), n_clusters)
        result["kmeans_representation"] = score_clusters(truth, clusters).as_dict()
    return result


def _intrusion(model, topics: list[list[str]]) -> dict:
    from polytopic.encoders import get_encoder

    encoder = get_encoder(getattr(model, "encoder", None), progress=False)
    scores = intrusion_proxy(topics, encoder.encode)
    return scores.as_dict() | {"encoder": encoder.identity}


def json_safe(value):
    """NaN and infinities become None (strict JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


def comparison_rows(results: list[dict]) -> list[tuple[str, list]]:
    """Rows ``(metric name, [value per run])`` of the metrics any of ``results`` has."""
    rows: list[tuple[str, list]] = [("model", [r.get("model") for r in results]),
                                    ("topics", [r.get("n_topics") for r in results])]
    for name in MEASURES:
        rows.append((f"coherence {name}", [r["coherence"][name]["mean"] for r in results]))
    rows.append((f"topic diversity (top-{DIVERSITY_TOP_N})", [r["diversity"]["topic_diversity"] for r in results]))
    rows.append(("inverted RBO", [r["diversity"]["inverted_rbo"] for r in results]))
    for key, label in (("argmax_topic", "argmax topic"), ("kmeans_doc_topic", "K-means on doc-topic"),
                       ("kmeans_representation", "K-means on doc representation")):
        if any(key in r.get("clustering", {}) for r in results):
            for score, shown in (("nmi", "NMI"), ("purity", "purity")):
                rows.append((f"{label} {shown}", [r.get("clustering", {}).get(key, {}).get(score) for r in results]))
    if any("intrusion_proxy" in r for r in results):
        rows.append((INTRUSION_NAME, [r.get("intrusion_proxy", {}).get("mean") for r in results]))
    from polytopic.alignment_evaluation import alignment_rows  # it imports this module

    return rows + alignment_rows(results)


def format_table(header: list[str], rows: list[tuple[str, list]]) -> str:
    """A plain-text table: one metric a line, one column a run."""
    cells = [[name] + [_cell(v) for v in values] for name, values in rows]
    table = [header] + cells
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
