"""Each topic's most typical items: the items of one view (a language's texts, or the
images) to which a fitted model gives that topic its highest probability θ.

For topic k the items are ranked by θ_dk, highest first, ties broken by corpus position
(the earlier item first), so the answer is deterministic. Any fitted model answers for
its text views; a model with an image view (M3L-Contrast, a ZeroshotTM-KD image student)
also for the images. ``polytopic fit`` records each topic's top
:data:`~polytopic.runs.TYPICAL_TOP_N` training images in the run
(:func:`image_record`), so that ``polytopic topics RUN --images N`` and
:func:`polytopic.runs.read_typical_images` answer without the model.
"""

from __future__ import annotations

import numpy as np

from polytopic.corpus import Corpus
from polytopic.errors import ParameterError
from polytopic.models.views import IMAGE

RANKED_BY = ("the items of the view ranked by the topic's probability theta_dk under model.transform, highest "
             "first; ties by corpus position")


def most_typical(doc_topic, top_n: int) -> np.ndarray:
    """Row numbers of the ``top_n`` rows of ``doc_topic`` (n, K) with the highest value
    in each column, highest first, ties broken by row number: shape (K, min(top_n, n))."""
    _check_top_n(top_n)
    doc_topic = np.asarray(doc_topic)
    if doc_topic.ndim != 2:
        raise ParameterError(f"doc_topic must be a 2-d array (items x topics), got shape {doc_topic.shape}")
    order = np.argsort(-doc_topic, axis=0, kind="stable")  # stable: equal θ keep row order
    return order[:top_n].T


def typical_items(model, corpus: Corpus, *, language: str | None = None, images: bool = False,
                  top_n: int = 10, embeddings=None) -> np.ndarray:
    """Corpus positions of each topic's ``top_n`` most typical items of one view.

    Parameters
    ----------
    model : TopicModel
        Fitted.
    corpus : Corpus
    language : str, optional
        The texts to rank (default: the model's first language).
    images : bool
        Rank the items' images instead (models with an image view).
    top_n : int
        Items per topic (fewer when fewer items have the view).
    embeddings : ndarray or {view: ndarray}, optional
        Precomputed vectors of the view, as for ``model.transform``.

    Returns
    -------
    ndarray of int, shape (n_topics, min(top_n, n_items with the view)): row k holds the
    positions in ``corpus`` of topic k's items, most typical first (``corpus.ids[p]``,
    ``corpus.images[p]`` name them).

    Raises
    ------
    ViewError
        If the model cannot transform the view (images of a text-only model).
    """
    return _ranked(model, corpus, language, images, top_n, embeddings)[0]


def typical_images(model, corpus: Corpus, top_n: int = 10, embeddings=None) -> list[list[str]]:
    """The image paths (as ``corpus.images`` holds them) of each topic's ``top_n`` most
    typical images; see :func:`typical_items`."""
    return [[corpus.images[p] for p in row] for row in typical_items(model, corpus, images=True, top_n=top_n,
                                                                     embeddings=embeddings)]


def image_record(model, corpus: Corpus, top_n: int, embeddings=None) -> dict:
    """What a run records of each topic's ``top_n`` most typical images of ``corpus``
    (JSON-able): ``{"view": "image", "top_n", "ranked_by", "topics": [[{"id", "image",
    "theta"}, ...] per topic]}``, the images as ``corpus.images`` holds them (absolute
    paths when read by :mod:`polytopic.datasets`)."""
    positions, theta = _ranked(model, corpus, None, True, top_n, embeddings)
    topics = [[{"id": corpus.ids[p], "image": corpus.images[p], "theta": round(float(t), 6)}
               for p, t in zip(row, values)] for row, values in zip(positions, theta)]
    return {"view": IMAGE, "top_n": top_n, "ranked_by": RANKED_BY, "topics": topics}


def _ranked(model, corpus: Corpus, language, images: bool, top_n: int, embeddings) -> tuple[np.ndarray, np.ndarray]:
    """Each topic's top positions (K, m) and their θ at that topic (K, m)."""
    _check_top_n(top_n)
    if not isinstance(corpus, Corpus):
        raise ParameterError(f"corpus must be a Corpus, not {type(corpus).__name__}")
    check = getattr(model, "transform_view", None)  # the model's own ViewError, before any encoding
    view = check(language, images) if check is not None else IMAGE if images else language or model.language_
    if isinstance(embeddings, dict):  # only the view's own vectors: transform refuses other views' keys
        embeddings = {view: embeddings[view]} if view in embeddings else None
    theta = np.asarray(model.transform(corpus, language=None if images else view, images=images,
                                       embeddings=embeddings))
    positions = corpus.image_indices() if images else corpus.indices(view)
    rows = most_typical(theta, top_n)
    return positions[rows], np.take_along_axis(theta.T, rows, axis=1)


def _check_top_n(top_n) -> None:
    if isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer)) or top_n < 1:
        raise ParameterError(f"top_n must be a positive integer, got {top_n!r}")
