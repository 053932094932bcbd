"""Score a run with the metrics suite: its topics' coherence and diversity against a
reference corpus (:func:`~polytopic.evaluation.scores.score_topics`), and optionally the
clustering of labelled documents and the word-intrusion proxy.

:func:`evaluate_run` returns a JSON-able dict that records every setting used: reference
corpus, language, tokeniser, window sizes, top-N, epsilon and the missing-word policy;
:meth:`Run.write_metrics <polytopic.runs.Run.write_metrics>` stores it as ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path

from polytopic.corpus import Corpus
from polytopic.encoders import get_encoder
from polytopic.evaluation.references import ReferenceCache
from polytopic.evaluation.scores import COHERENCE_TOP_N, DIVERSITY_TOP_N, json_safe, score_topics, tokenizer_settings
from polytopic.metrics import argmax_clusters, intrusion_proxy, kmeans_clusters, score_clusters
from polytopic.runs import Run


def evaluate_run(
    run: Run,
    reference: str | Path | None = None,
    labels: str | None = None,
    intrusion: bool = False,
    cache: ReferenceCache | None = None,
    read_options: dict | None = None,
) -> dict:
    """Score the run ``run``.

    Parameters
    ----------
    run : Run
        A run written by ``polytopic fit`` (:meth:`Run.open <polytopic.runs.Run.open>`),
        or the one :func:`~polytopic.runs.fit_run` returns, with its model in hand.
    reference : path, optional
        Reference corpus file for coherence (default: the training corpus in run.json).
    labels : str, optional
        Label field of the reference corpus (e.g. ``section``): adds NMI and purity of
        the documents' argmax topics, of K-means on their topic distributions and, for a
        model with its own document representations (TopClus's z^(d)), of K-means on those.
    intrusion : bool
        Add the word-intrusion proxy, with the model's encoder (or the default one).
    cache : ReferenceCache, optional
        Shares the counts of reference corpora between runs.
    read_options : dict, optional
        Keyword arguments of :func:`~polytopic.datasets.read_corpus` for the reference
        (default: as run.json records the training corpus was read when it is the
        reference, else the defaults).

    Returns
    -------
    dict, JSON-able (NaN written as None), with a ``settings`` entry.
    """
    model = run.model
    language = model.language_
    tokenizer = model.vocabularies_[language].tokenizer
    path = run.corpus_path(reference)
    corpus = run.corpus(reference, read_options)
    texts = (cache or ReferenceCache()).texts(corpus, language, tokenizer)
    topics = model.topics(top_n=max(COHERENCE_TOP_N, DIVERSITY_TOP_N), language=language)
    scores = score_topics(topics, texts)
    result = {
        "run": str(run.path),
        "model": run.info.get("model"),
        "n_topics": len(topics),
        "settings": {"reference_corpus": str(path), "language": language,
                     "tokenizer": tokenizer_settings(tokenizer)} | scores["settings"],
        "coherence": scores["coherence"],
        "diversity": scores["diversity"],
    }
    if labels is not None:
        result["clustering"] = _clustering(model, corpus, language, labels)
        result["settings"]["labels"] = labels
    if intrusion:
        result["intrusion_proxy"] = _intrusion(model, topics)
    return json_safe(result)


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
    encoder = get_encoder(getattr(model, "encoder", None), progress=False)
    scores = intrusion_proxy(topics, encoder.encode)
    return scores.as_dict() | {"encoder": encoder.identity}
