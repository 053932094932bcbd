"""What a report shows of one run, gathered as plain data (no HTML, no plotting).

:func:`gather` reads an opened :class:`~polytopic.runs.Run` (its model, loaded once, its
training corpus, read once, and its metrics) and returns a
:class:`RunReport`: every topic's words per language, share of the corpus, most typical
documents and images, per-topic coherence and nearest topic; the topic-similarity
matrix; a 2-d map of the documents; the cross-lingual alignment; the run's facts. Any
fitted model answers, because everything comes from the contract (``transform``,
``topic_word``, ``topics``) and the run. :mod:`polytopic.report.html` renders it.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from polytopic.corpus import Corpus
from polytopic.encoders.image import load_image
from polytopic.errors import CorpusError, EncoderError, ParameterError
from polytopic.evaluation import COHERENCE_TOP_N, ReferenceCache, evaluate_aligned, evaluate_run
from polytopic.models.views import IMAGE
from polytopic.report.map import DocumentMap, document_map, snippet
from polytopic.runs import METRICS_FILE, TYPICAL_IMAGES_FILE, Run
from polytopic.typical import most_typical

logger = logging.getLogger(__name__)

#: Most typical documents shown per topic and language, and icons per topic.
TYPICAL_DOCUMENTS = 3
TYPICAL_ICONS = 8
#: Characters of a document shown in a topic's list, and in the map's hover label.
SNIPPET_CHARS = 300
HOVER_CHARS = 120
#: Side in pixels of an embedded icon (scaled to fit, aspect kept, on white).
ICON_PIXELS = 64
#: Documents drawn on the map by default (a uniform sample of the items; all when fewer).
MAP_DOCUMENTS = 3000
#: Most similar topic pairs listed as possible near-duplicates.
SIMILAR_PAIRS = 10


@dataclass
class Topic:
    """One topic as the report shows it."""

    index: int
    words: dict[str, list[str]]
    share: float
    documents: dict[str, list[dict]]
    images: list[dict]
    coherence: dict[str, dict[str, float | None]]  # language -> measure -> value
    nearest: tuple[int, float] | None


@dataclass
class RunReport:
    """Everything a report shows of one run."""

    name: str
    facts: dict
    languages: list[str]
    views: list[str]
    topics: list[Topic]
    metrics: dict
    metrics_origin: str
    similarity: np.ndarray
    similar_pairs: list[tuple[int, int, float]]
    document_map: DocumentMap | None
    notes: list[str] = field(default_factory=list)

    @property
    def alignment(self) -> dict | None:
        return self.metrics.get("alignment")


def gather(run: Run, *, reference: str | Path | None = None, aligned: str | Path | None = None,
           map_documents: int = MAP_DOCUMENTS, seed: int = 0, cache: ReferenceCache | None = None,
           progress: bool = False) -> RunReport:
    """Everything the report of ``run`` shows.

    Parameters
    ----------
    run : Run
        A run written by ``polytopic fit`` (:meth:`Run.open <polytopic.runs.Run.open>`);
        its model and training corpus are read once, for everything below.
    reference : path, optional
        The training corpus where it is now, if it moved since the fit (read as run.json
        records it was read); also the reference corpus of coherence computed now.
    aligned : path, optional
        Held-out aligned items for the alignment metrics of a multilingual or image model
        whose metrics.json has none (default: the training corpus, and the report says so).
    map_documents : int
        Items drawn on the map (a uniform sample under ``seed``); 0 draws no map.
    seed : int
        Seed of the map's sample and layout, and of the alignment's shuffled baselines.
    cache : ReferenceCache, optional
        Shares reference corpora between the runs of one report.
    progress : bool
        Show the encoders' and models' progress bars.

    Raises
    ------
    ModelFileError
        If the run is incomplete, or its training corpus is gone and no ``reference`` is given.
    ParameterError
        If ``map_documents`` is negative.
    """
    if isinstance(map_documents, bool) or not isinstance(map_documents, int) or map_documents < 0:
        raise ParameterError(f"map_documents must be a non-negative integer, got {map_documents!r}")
    model = run.model
    if hasattr(model, "progress"):
        model.progress = progress
    corpus_path = run.corpus_path(reference)
    read_options = run.read_options
    corpus = run.corpus(reference, read_options)
    languages = list(model.languages_)
    notes: list[str] = []
    read = [lang for lang in languages if lang in model.views_]  # an image student has words, reads no text
    theta = {lang: np.asarray(model.transform(corpus, language=lang)) for lang in read}
    positions = {lang: corpus.indices(lang) for lang in read}
    if IMAGE in model.views_:
        images = _image_theta(model, corpus, notes)
        if images is not None:
            theta[IMAGE], positions[IMAGE] = images
    if not theta:
        raise CorpusError(f"{run.path}'s model reads only images, and those of {corpus_path} cannot be read: "
                          "nothing to show the topics of")
    metrics, origin = _metrics(run, corpus, reference, aligned, IMAGE in theta, seed, cache)
    similarity = topic_similarity(model.topic_word(language=model.language_))
    topics = _topics(run, corpus, theta, positions, metrics, similarity, notes)
    doc_map = None
    if map_documents:
        doc_map = document_map(corpus, theta, positions, [t.words[model.language_][:3] for t in topics],
                               n_items=map_documents, seed=seed, hover_chars=HOVER_CHARS)
    info = run.info
    facts = {"run": str(run.path), "corpus": str(corpus_path),
             **({"corpus_moved_from": info.get("corpus")} if reference is not None else {}),
             **{k: info.get(k) for k in ("model", "n_topics", "n_documents", "fit_seconds", "language")},
             "views": list(model.views_), "share_of": _share_view(model, theta), "options": info.get("options", {}),
             "read_options": read_options, "versions": info.get("versions", {})}
    return RunReport(name=run.name, facts=facts, languages=languages, views=list(theta),
                     topics=topics, metrics=metrics, metrics_origin=origin, similarity=similarity,
                     similar_pairs=similar_pairs(similarity, SIMILAR_PAIRS), document_map=doc_map, notes=notes)


def topic_similarity(topic_word) -> np.ndarray:
    """Cosine similarity of the topics' word distributions once the part every topic
    shares is removed (each word's mean over the topics), shape (K, K), 1 on the diagonal:
    near 1 for two topics that favour the same words more than the others do.

    Raw cosine hides near-duplicates behind the background a decoder spreads over every
    topic: on 3,000 Debian descriptions every CombinedTM or M3L-Contrast topic had a raw
    cosine of 0.97–0.99 to its nearest one.
    """
    matrix = np.asarray(topic_word, dtype=np.float64)
    centred = matrix - matrix.mean(axis=0)
    unit = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    similarity = np.clip(unit @ unit.T, -1.0, 1.0)
    np.fill_diagonal(similarity, 1.0)
    return similarity


def similar_pairs(similarity: np.ndarray, n: int) -> list[tuple[int, int, float]]:
    """The ``n`` most similar pairs of distinct topics ``(k, j, similarity)``, k < j, most
    similar first (ties by topic number)."""
    k, j = np.triu_indices(similarity.shape[0], 1)
    values = similarity[k, j]
    order = np.lexsort((j, k, -values))[:n]
    return [(int(k[i]), int(j[i]), float(values[i])) for i in order]


def _image_theta(model, corpus: Corpus, notes: list[str]):
    """θ of the corpus's images and their positions, or None with a note when the image
    files are gone (or unreadable): the report then shows the recorded typical images."""
    positions = corpus.image_indices()
    if positions.size == 0:
        notes.append("the corpus names no images: the image view is left out of the map")
        return None
    missing = [corpus.images[p] for p in positions if not Path(corpus.images[p]).is_file()]
    if missing:
        notes.append(f"{len(missing)} of {positions.size} images are gone (e.g. {missing[0]}): the image view is "
                     "left out of the map and shares; typical icons are those recorded at fit time")
        return None
    try:
        return np.asarray(model.transform(corpus, images=True)), positions
    except EncoderError as err:
        notes.append(f"the images could not be read ({err}): the image view is left out of the map")
        return None


def _metrics(run: Run, corpus: Corpus, reference, aligned, images: bool, seed: int,
             cache: ReferenceCache | None) -> tuple[dict, str]:
    """The run's metrics.json, or the same metrics computed now (not saved); a model with
    several views also gets the alignment of ``aligned`` (default: the training corpus)."""
    metrics, model = run.metrics, run.model
    if metrics is not None:
        origin = f"{METRICS_FILE} of the run (written by polytopic evaluate)"
    else:
        metrics = evaluate_run(run, reference=reference, read_options=run.read_options, cache=cache)
        origin = (f"computed by this report (the run has no {METRICS_FILE}; "
                  f"`polytopic evaluate {run.path}` stores them)")
    several = sum(lang in model.views_ for lang in model.languages_) + images > 1
    if several and ("alignment" not in metrics or aligned is not None):
        # the training corpus read as at fit time (run.json); a moved one as the report read it
        moved = None if reference is None else corpus
        items = aligned if aligned is not None else moved if moved is not None else run.corpus_path()
        metrics = metrics | {"alignment": evaluate_aligned(run, items, images=images, reference=moved,
                                                           seed=seed, cache=cache)}
        if aligned is None:
            origin += "; alignment computed now on the training corpus (held-out items: --aligned FILE)"
    return metrics, origin


def _topics(run: Run, corpus: Corpus, theta: dict, positions: dict, metrics: dict, similarity: np.ndarray,
            notes: list[str]) -> list[Topic]:
    model = run.model
    primary = model.language_
    words = {lang: model.topics(top_n=COHERENCE_TOP_N, language=lang) for lang in model.languages_}
    share = theta[_share_view(model, theta)].mean(axis=0)
    documents = {lang: _typical_documents(corpus, theta[lang], positions[lang], lang) for lang in theta
                 if lang != IMAGE}
    images = _typical_images(run, corpus, theta, positions, notes) if IMAGE in model.views_ else None
    per_topic = _per_topic_coherence(metrics, primary)
    others = similarity - 2 * np.eye(len(similarity))
    topics = []
    for k in range(model.n_topics_):
        nearest = (int(np.argmax(others[k])), float(np.max(others[k]))) if len(similarity) > 1 else None
        topics.append(Topic(
            index=k, words={lang: words[lang][k] for lang in words}, share=float(share[k]),
            documents={lang: documents[lang][k] for lang in documents}, images=images[k] if images else [],
            coherence={lang: {name: values[k] if k < len(values) else None for name, values in measures.items()}
                       for lang, measures in per_topic.items()},
            nearest=nearest))
    return topics


def _share_view(model, theta: dict) -> str:
    """The view whose mean θ is each topic's share: the primary language's, else (an
    image student) the first view read."""
    return model.language_ if model.language_ in theta else next(iter(theta))


def _per_topic_coherence(metrics: dict, primary: str) -> dict[str, dict[str, list]]:
    """Each language's per-topic coherence lists by measure: the primary language's from
    the metrics, the others' from their alignment section (coherence per language)."""
    languages = {primary: metrics.get("coherence", {})} | (metrics.get("alignment") or {}).get("coherence", {})
    return {lang: {name: scores.get("per_topic") or [] for name, scores in measures.items()}
            for lang, measures in languages.items()}


def _typical_documents(corpus: Corpus, theta: np.ndarray, positions: np.ndarray, language: str) -> list[list[dict]]:
    texts = corpus.texts(language)
    rows = most_typical(theta, TYPICAL_DOCUMENTS)
    return [[{"id": str(corpus.ids[positions[r]]), "text": snippet(texts[r], SNIPPET_CHARS),
              "theta": round(float(theta[r, k]), 3)} for r in row] for k, row in enumerate(rows)]


def _typical_images(run: Run, corpus: Corpus, theta: dict, positions: dict, notes: list[str]) -> list[list[dict]]:
    """Each topic's most typical icons, embedded: ranked now when the images were read,
    else as recorded at fit time (typical-images.json); files gone are listed by path."""
    if IMAGE in theta:
        rows = most_typical(theta[IMAGE], TYPICAL_ICONS)
        ranked = [[{"id": str(corpus.ids[positions[IMAGE][r]]), "image": corpus.images[positions[IMAGE][r]],
                    "theta": float(theta[IMAGE][r, k])} for r in row] for k, row in enumerate(rows)]
    elif run.records_typical_images:
        ranked = [topic[:TYPICAL_ICONS] for topic in run.typical_images()]
    else:
        notes.append(f"no typical icons: the images are gone and the run records none ({TYPICAL_IMAGES_FILE})")
        return [[] for _ in range(run.model.n_topics_)]
    return [[entry | {"data": icon_data_uri(entry["image"])} for entry in topic] for topic in ranked]


def icon_data_uri(path: str) -> str | None:
    """The image at ``path`` as a ``data:image/png;base64`` URI of an :data:`ICON_PIXELS`
    square thumbnail, or None when the file is gone or unreadable."""
    try:
        image = load_image(path, ICON_PIXELS)
    except EncoderError:
        return None
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

