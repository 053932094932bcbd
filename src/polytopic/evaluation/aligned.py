"""Cross-lingual and cross-view evaluation: do the views of one item get the same topics?

:func:`evaluate_aligned` transforms every requested view of an aligned corpus (its texts in
each language, its images) with a fitted model and scores each ordered pair of views over
the items that have both:

- Match, mean KL(source || target), and their shuffled baselines (Mueller & Dredze 2021, §4);
- mean JSD and the MRR of retrieving the aligned target by JSD (Zosa & Pivovarova 2022, §4.2),
  with shuffled baselines too;
- with a category field, the UAP of retrieving the items that share a category with the
  source item (and the aligned item itself) by JSD, beside its shuffled baseline (the M3L
  paper counts articles sharing a title as relevant, §4.2);
- the K x K matrix of argmax-topic co-occurrence (Mueller & Dredze 2021, Figure 3);

and the coherence of the topic words of each requested language the model has words for,
against that language's texts of the reference corpus. The result is a JSON-able dict that
``polytopic evaluate --aligned`` stores under ``"alignment"`` in ``metrics.json``;
:func:`~polytopic.evaluation.figures.confusion_figures` draws the matrices and
:func:`~polytopic.evaluation.tables.alignment_rows` gives the rows of the comparison table.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from polytopic.corpus import Corpus
from polytopic.datasets import CorpusCache
from polytopic.errors import CorpusError, MetricError, ParameterError, ViewError
from polytopic.evaluation.references import ReferenceCache
from polytopic.evaluation.scores import COHERENCE_TOP_N, json_safe, score_topics, tokenizer_settings
from polytopic.metrics import (
    MEASURES,
    alignment,
    js_divergence,
    mrr,
    shared_category_relevance,
    uap,
)
from polytopic.metrics.checks import distributions
from polytopic.models.views import IMAGE
from polytopic.runs import Run

logger = logging.getLogger(__name__)

#: Reading options of the training corpus (run.json "read_options") that also apply to an
#: aligned file by default; a per-document language field does not (aligned items carry
#: {language: text} objects).
INHERITED_READ_OPTIONS = ("text_field", "id_field", "image_field", "language")

_SETTINGS = {
    "baseline": "source rows permuted by numpy.random.default_rng(shuffle_seed).permutation, then scored "
                "against the unpermuted targets (Mueller & Dredze 2021, §4)",
    "divergence_base": "nats (natural logarithm)",
    "kl": "KL(source || target), mean over the pairs",
    "retrieval": "MRR of each source item retrieving its aligned target among all targets of the pair, "
                 "ranked by JSD, lowest first; a target tied with the aligned one ranks before it "
                 "(Zosa & Pivovarova 2022, §4.2)",
    "confusion": "rows: the source view's argmax topic, columns: the target view's (Mueller & Dredze 2021, "
                 "Figure 3); argmax ties go to the lowest topic",
    "coherence_top_n": COHERENCE_TOP_N,
}
_CATEGORY_SETTINGS = {
    "category_retrieval": "UAP of each source item retrieving, among all targets of the pair ranked by JSD "
                          "(lowest first), those whose item shares a category with it, and its own aligned "
                          "target (so an item without categories retrieves its aligned target only); ties as "
                          "in the MRR (scikit-learn's average_precision_score of -JSD); the baseline scores the "
                          "shuffled source rows against the same relevance (Zosa & Pivovarova 2022, §4.2)",
}


# -- scores of one pair of views ------------------------------------------------------------
def confusion_matrix(source, target) -> np.ndarray:
    """Counts of argmax topics of aligned rows, shape (K, K): entry (i, j) is the number of
    items whose source distribution peaks at topic i and target distribution at topic j
    (Mueller & Dredze 2021, Figure 3). Its trace over its sum is Match."""
    source = distributions(source, "source distributions")
    target = distributions(target, "target distributions")
    n_topics = source.shape[1]
    codes = source.argmax(axis=1) * n_topics + target.argmax(axis=1)
    return np.bincount(codes, minlength=n_topics * n_topics).reshape(n_topics, n_topics)


def pair_scores(source, target, seed: int = 0, relevant=None) -> dict:
    """Every score of one ordered pair of aligned views, shape (n, K) each.

    Match, mean KL and mean JSD come from :func:`~polytopic.metrics.alignment`; the
    ``*_random`` baselines score the source rows shuffled by the same permutation
    (``numpy.random.default_rng(seed).permutation(n)``) against the unshuffled targets.

    With ``relevant``, a boolean (n, n) matrix saying which targets each source item
    should retrieve (:func:`~polytopic.metrics.shared_category_relevance`), the scores
    add ``uap`` and ``uap_random`` (the shuffled rows against the same relevance) and
    ``relevant_share``, the mean share of targets relevant to a source: about what
    ``uap_random`` comes to.
    """
    source = distributions(source, "source distributions")
    target = distributions(target, "target distributions")
    shuffled = source[np.random.default_rng(seed).permutation(len(source))]
    scores = {
        "n_pairs": len(source),
        **alignment(source, target, seed=seed).as_dict(),
        "jsd_random": float(js_divergence(shuffled, target).mean()),
        "mrr": mrr(source, target),
        "mrr_random": mrr(shuffled, target),
    }
    if relevant is not None:
        scores |= {"uap": uap(source, target, relevant), "uap_random": uap(shuffled, target, relevant),
                   "relevant_share": float(np.asarray(relevant).mean())}
    return scores | {"confusion": confusion_matrix(source, target).tolist()}


# -- the evaluation ---------------------------------------------------------------------------
def evaluate_aligned(
    run,
    aligned: Corpus | str | Path,
    languages: Sequence[str] | None = None,
    *,
    images: bool = False,
    reference: Corpus | str | Path | None = None,
    seed: int = 0,
    embeddings: Mapping[str, np.ndarray] | None = None,
    read_options: Mapping[str, object] | None = None,
    cache: ReferenceCache | None = None,
    category_field: str | None = None,
) -> dict:
    """Score how well the views of aligned items agree under a fitted model.

    Parameters
    ----------
    run : Run or TopicModel
        A run (:meth:`Run.open <polytopic.runs.Run.open>`), or a fitted model.
    aligned : Corpus or path
        Aligned items, e.g. ``{"id": ..., "text": {"en": ..., "it": ...}}`` lines. A path
        is read with ``read_options`` over those recorded in the run's ``run.json``
        (:data:`INHERITED_READ_OPTIONS`) over :func:`~polytopic.datasets.read_corpus`'s defaults.
    languages : sequence of str, optional
        Text views to compare (default: the model's languages).
    images : bool
        Add the items' images as a view (named ``"image"``).
    reference : Corpus or path, optional
        Reference corpus of coherence (default: a run's training corpus; a model object
        without one gets no coherence).
    seed : int
        Seed of the shuffled baselines.
    embeddings : mapping view -> ndarray, optional
        Precomputed vectors per view, one row per item having the view, in corpus order.
    read_options : mapping, optional
        Keyword arguments of :func:`~polytopic.datasets.read_corpus` for ``aligned``.
    cache : ReferenceCache, optional
        Shares reference corpora and their counts with other evaluations.
    category_field : str, optional
        A label field of the aligned items holding each item's categories (a list such as
        ``["Game", "ArcadeGame"]``, one string, or null for none): adds to every pair the
        UAP of retrieving the items sharing a category (:func:`pair_scores`).

    Returns
    -------
    dict, JSON-able (NaN and infinities as None): ``n_items`` per view, ``pairs`` keyed
    ``"source->target"``, ``coherence`` per language, ``coherence_skipped`` (language: why)
    and ``settings``.

    Raises
    ------
    CorpusError
        The aligned corpus lacks a view or the category field (or holds a category that
        is not a string or a number), or no item has both views of a pair.
    ViewError
        The model cannot transform a view (its own error), or has fewer than two
        languages to compare by default.
    ParameterError
        Fewer than two views, or a view named twice.
    """
    model, run = (run.model, run) if isinstance(run, Run) else (run, None)
    views = _views(model, languages, images)
    corpora = run.corpora if run is not None else CorpusCache()
    corpus, name, options = _aligned_corpus(aligned, run, corpora, read_options)
    positions = {view: _positions(corpus, view, name) for view in views}
    ordered = [pair for a, b in itertools.combinations(views, 2) for pair in ((a, b), (b, a))]
    common = {(a, b): np.intersect1d(positions[a], positions[b]) for a, b in ordered}
    for (a, b), items in common.items():
        if items.size == 0:
            raise CorpusError(f"no item of {name} has both the {a!r} and the {b!r} view")
    categories = None if category_field is None else item_categories(corpus, category_field, name)
    check = getattr(model, "transform_view", None)
    if check is not None:  # before any encoding: the model's own ViewError for a view it cannot read
        for view in views:
            check(None if view == IMAGE else view, view == IMAGE)
    theta = {view: _transform(model, corpus, view, positions[view], embeddings) for view in views}
    pairs = {}
    for (a, b), items in common.items():
        relevant = None if categories is None else shared_category_relevance([categories[i] for i in items])
        pairs[f"{a}->{b}"] = {"source": a, "target": b} | pair_scores(
            _rows(theta[a], positions[a], items), _rows(theta[b], positions[b], items), seed, relevant)
    coherence, skipped, coherence_settings = _coherence(model, [v for v in views if v != IMAGE], run, corpora,
                                                        reference, cache or ReferenceCache())
    settings = {"aligned_corpus": name, "read_options": options, "aligned_items": len(corpus), "views": list(views),
                "shuffle_seed": seed} | _SETTINGS | coherence_settings
    if categories is not None:
        settings |= {"category_field": category_field,
                     "items_without_category": sum(not c for c in categories)} | _CATEGORY_SETTINGS
    return json_safe({"n_items": {view: int(positions[view].size) for view in views}, "pairs": pairs,
                       "coherence": coherence, "coherence_skipped": skipped, "settings": settings})


def _views(model, languages: Sequence[str] | None, images: bool) -> tuple[str, ...]:
    if languages is None:
        languages = tuple(getattr(model, "languages_", ()))
        if len(languages) + images < 2:
            raise ViewError(f"{type(model).__name__} learned only {list(languages)}: name the languages to compare "
                            "(languages=['en', 'it'], or --languages en,it on the command line)")
    if isinstance(languages, str):
        raise ParameterError(f"languages must be a list of language codes, not the string {languages!r}")
    views = (*languages, *((IMAGE,) if images else ()))
    if len(set(views)) != len(views):
        raise ParameterError(f"each view may be named once; got {list(views)}")
    if len(views) < 2:
        raise ParameterError(f"alignment compares at least two views (languages, images); got {list(views)}")
    return views


def _aligned_corpus(aligned, run: Run | None, corpora: CorpusCache,
                    read_options) -> tuple[Corpus, str, dict | None]:
    """The aligned corpus, its name, and the reading options it was read with."""
    if isinstance(aligned, Corpus):
        return aligned, repr(aligned), None
    recorded = run.read_options if run is not None else {}
    options = {k: recorded[k] for k in INHERITED_READ_OPTIONS if k in recorded} | dict(read_options or {})
    return corpora.read(aligned, **options), str(aligned), options


def _positions(corpus: Corpus, view: str, name: str) -> np.ndarray:
    """Corpus positions of the items that have ``view``, or a CorpusError naming what there is."""
    if view == IMAGE:
        positions = corpus.image_indices()
        if positions.size == 0:
            raise CorpusError(f"{name} has no images: read it with its image field (image_field=..., "
                              "--image-field FIELD)")
        return positions
    if view not in corpus.languages:
        raise CorpusError(f"{name} has no texts in {view!r}; it has {list(corpus.languages)}")
    return corpus.indices(view)


def item_categories(corpus: Corpus, field: str, name: str = "the corpus") -> list[frozenset]:
    """Each item's categories from the label ``field`` of ``corpus``: a list of strings
    or numbers (``["Game", "ArcadeGame"]``), one string or number (one category; a CSV
    cell is not split), or null / missing / empty (none).

    Raises
    ------
    CorpusError
        If the corpus has no such field, or an item's value is of another kind.
    """
    if field not in corpus.labels:
        raise CorpusError(f"{name} has no field {field!r} to read categories from; its other fields are "
                          f"{sorted(corpus.labels)}")
    categories = []
    for item_id, value in zip(corpus.ids, corpus.labels[field]):
        values = () if value is None else value if isinstance(value, (list, tuple)) else (value,)
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (str, int, float))]
        if bad:
            raise CorpusError(f"item {item_id!r} of {name}: {field!r} holds {bad[0]!r}; categories are strings "
                              "or numbers, one or a list of them")
        categories.append(frozenset(v for v in values if v != ""))  # an empty CSV cell: none
    return categories


def _transform(model, corpus: Corpus, view: str, positions: np.ndarray, embeddings) -> np.ndarray:
    options = {"embeddings": embeddings[view]} if embeddings and view in embeddings else {}
    if view == IMAGE:
        theta = model.transform(corpus, images=True, **options)
    else:
        theta = model.transform(corpus, language=view, **options)
    theta = distributions(theta, f"the {view!r} distributions")
    if len(theta) != len(positions):
        raise MetricError(f"{type(model).__name__} gave {len(theta)} rows for the {len(positions)} items "
                        f"having the {view!r} view")
    return theta


def _rows(theta: np.ndarray, positions: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The rows of ``theta`` (one per position, positions ascending) of ``items``."""
    return theta[np.searchsorted(positions, items)]


def _coherence(model, languages: list[str], run: Run | None, corpora: CorpusCache, reference,
               cache: ReferenceCache) -> tuple[dict, dict, dict]:
    """Coherence of the topic words of each of ``languages`` the model has words for."""
    vocabularies = getattr(model, "vocabularies_", {})
    skipped = {lang: "the model has no topic words in this language (zero-shot transfer)"
               for lang in languages if lang not in vocabularies}
    scored = [lang for lang in languages if lang in vocabularies]
    settings: dict = {}
    if run is None and reference is None:
        skipped |= {lang: "no reference corpus given" for lang in scored}
        scored = []
    elif scored:
        settings["measures"] = list(MEASURES)
    coherence, documents, tokenizers = {}, {}, {}
    for lang in scored:
        tokenizer = vocabularies[lang].tokenizer
        try:
            name, corpus = _reference(reference, run, corpora)
            texts = cache.texts(corpus, lang, tokenizer)
        except CorpusError as err:  # the reference lacks a language the model has words for
            logger.warning("no coherence in %r: %s", lang, err)
            skipped[lang] = f"the reference corpus has no texts in this language ({err})"
            continue
        settings["reference_corpus"] = name
        documents[lang] = len(texts)
        tokenizers[lang] = tokenizer_settings(tokenizer)
        coherence[lang] = score_topics(model.topics(top_n=COHERENCE_TOP_N, language=lang), texts)["coherence"]
    if documents:
        settings |= {"reference_documents": documents, "tokenizers": tokenizers}
    return coherence, skipped, settings


def _reference(reference, run: Run | None, corpora: CorpusCache) -> tuple[str, Corpus]:
    """The reference corpus of coherence and its name: ``reference`` itself, the file
    ``reference`` (read with the defaults), or the run's training corpus as read at fit time."""
    if isinstance(reference, Corpus):
        return repr(reference), reference
    if run is None:
        return str(reference), corpora.read(reference)
    return str(run.corpus_path(reference)), run.corpus(reference)
