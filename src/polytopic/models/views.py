"""Views of aligned items, and the inputs a model reads from each (README.md, "Views").

An item of a :class:`~polytopic.corpus.Corpus` has a view per language it has a text in,
and an ``"image"`` view when it has an image. For each view a model reads, the base class
builds one :class:`View`: which items have it, their texts or image paths, the bag of
words over the view's vocabulary, and the vectors of the view's encoder (or the caller's
precomputed ``embeddings``). Models never read files or call encoders themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from polytopic.corpus import Corpus
from polytopic.encoders import check_embeddings
from polytopic.errors import EncoderError, ParameterError, ViewError
from polytopic.preprocessing import Tokenizer, Vocabulary

logger = logging.getLogger(__name__)

IMAGE = "image"


@dataclass
class View:
    """What a model reads of one view of a corpus.

    Attributes
    ----------
    name : str
        A language code, or ``"image"``.
    positions : ndarray of int, shape (n,)
        The items (corpus positions) that have this view, in corpus order.
    items : list of str, length n
        Their texts, or their image paths.
    counts : csr_matrix, shape (n, V), optional
        Bag of words over ``vocabulary`` (text views of models that read it).
    vocabulary : Vocabulary, optional
    vectors : ndarray, shape (n, dim), optional
        Sentence or image vectors (models that read them).
    item_ids : list of str
        Their ids (for messages that name an item).
    keep : ndarray of int
        Rows to train on: those with at least one vocabulary word (all rows for images
        and at transform time).
    labels : ndarray of int, shape (n,), optional
        The class of each row, for a model that also learns to predict one (TCCTM).
    """

    name: str
    positions: np.ndarray
    items: list[str]
    item_ids: list[str]
    counts: sp.csr_matrix | None = None
    vocabulary: Vocabulary | None = None
    vectors: np.ndarray | None = None
    keep: np.ndarray = field(default=None)
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.keep is None:
            self.keep = np.arange(len(self.items))

    @property
    def is_image(self) -> bool:
        return self.name == IMAGE

    @property
    def n_dropped(self) -> int:
        return len(self.items) - self.keep.size

    def __len__(self) -> int:
        return len(self.items)


def view_items(corpus: Corpus, view: str) -> tuple[np.ndarray, list[str]]:
    """Positions and texts (or image paths) of the items of ``corpus`` that have ``view``.

    Raises
    ------
    ViewError
        If no item has the view (the message names the views the corpus has).
    """
    if view == IMAGE:
        positions = corpus.image_indices()
        if positions.size == 0:
            raise ViewError("no item of the corpus has an image (read it with image_field=...)")
        return positions, [corpus.images[i] for i in positions]
    if view not in corpus.languages:
        raise ViewError(f"the corpus has no texts in language {view!r}; it has {list(corpus.languages)}")
    return corpus.indices(view), corpus.texts(view)


def fit_bag_of_words(view: View, *, n_topics: int, vocabulary_size: int, min_df: int,
                     min_count: int = 1) -> None:
    """Fit the vocabulary of a text view, count it, and mark the rows to train on.

    Words seen fewer than ``min_count`` times in the corpus are dropped (TopClus,
    Appendix C, uses 5). Documents with no vocabulary word are left out of training
    (logged as a warning): there is nothing to reconstruct or sample in them.

    Raises
    ------
    ParameterError
        If ``n_topics`` exceeds the vocabulary or the usable documents.
    """
    vocabulary = Vocabulary.fit(view.items, Tokenizer(view.name), size=vocabulary_size, min_df=min_df)
    counts = vocabulary.bag_of_words(view.items)
    if min_count > 1:
        frequent = np.flatnonzero(np.asarray(counts.sum(axis=0)).ravel() >= min_count)
        if frequent.size == 0:
            raise ParameterError(f"no word occurs {min_count} times or more; add documents or lower min_count")
        vocabulary = Vocabulary(tuple(vocabulary.words[i] for i in frequent), vocabulary.tokenizer)
        counts = counts[:, frequent].tocsr()
    if n_topics > len(vocabulary):
        raise ParameterError(
            f"n_topics={n_topics} exceeds the {view.name!r} vocabulary of {len(vocabulary)} words; "
            "use fewer topics or a larger corpus"
        )
    keep = np.flatnonzero(counts.getnnz(axis=1) > 0)
    if keep.size < len(view):
        logger.warning("%d of %d %r documents have no vocabulary word after preprocessing and "
                       "are left out of training", len(view) - keep.size, len(view), view.name)
    if keep.size < max(2, n_topics):
        raise ParameterError(
            f"{keep.size} usable {view.name!r} documents cannot support {n_topics} topics; "
            "add documents or lower n_topics"
        )
    view.vocabulary, view.counts, view.keep = vocabulary, counts, keep


def embeddings_by_view(embeddings, views: tuple[str, ...], default_view: str) -> dict[str, np.ndarray]:
    """Normalise ``embeddings`` — None, one array (for ``default_view``) or a
    ``{view: array}`` mapping — into a mapping, refusing views the model does not read.

    Raises
    ------
    ViewError
        For a key that is not one of ``views``.
    """
    if embeddings is None:
        return {}
    if not isinstance(embeddings, Mapping):
        return {default_view: embeddings}
    unknown = sorted(set(embeddings) - set(views))
    if unknown:
        raise ViewError(f"embeddings for {unknown}, but the model reads the views {list(views)}")
    return dict(embeddings)


def checked_vectors(view: View, given, dimension: int | None) -> np.ndarray:
    """``given`` vectors of a view, checked: one finite row per item that has the view."""
    try:
        return check_embeddings(given, len(view), dimension)
    except EncoderError as err:  # name the view: with several, "which array?" is the question
        raise EncoderError(f"{view.name!r} view: {err} (one row per item with that view, in corpus order)") from None
