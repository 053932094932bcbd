"""Labels to classify: LDA topic labels where a corpus has none, or a label field of it.

Mueller & Dredze (2021, §3.2 and §4) label each document with an LDA topic: they fit LDA
for 400 iterations with the number of topics τ searched over {10, 20, ..., 250} by NPMI
coherence, and give each document the topic whose top-10 words cover most of its tokens
(:meth:`LDA.topic_labels <polytopic.models.lda.LDA.topic_labels>`; documents with no such
token get their own "no topic" label). TCCTM (§3.4) and encoder fine-tuning train on
these labels.

:func:`choose_topics` runs that search with polytopic's :class:`~polytopic.models.lda.LDA`
(its own defaults unless told otherwise) and scores each τ by the mean ``c_npmi`` of the
top-10 words over the corpus's own texts, tokenised as the LDA vocabulary was. The
default grid, :data:`DEFAULT_GRID`, spans the paper's range in 7 fits; the paper's own
grid is ``range(10, 260, 10)`` (25 fits). The authors' selection script
(``contextualized_topic_models/data/wiki/model_mallet_wiki.py``) scored gensim's default
top-20 words; the paper reports NPMI on top-10 words, which is what ``top_n`` defaults to.

:func:`field_labels` reads a corpus's own labels instead (a Debian ``section``, the role of
MLDoc's categories in the paper's document classification, §3.1).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from polytopic.corpus import Corpus
from polytopic.errors import ParameterError
from polytopic.metrics import ReferenceTexts, coherence
from polytopic.models.base import as_corpus
from polytopic.models.lda import LDA

logger = logging.getLogger(__name__)

#: Numbers of topics tried by default: the paper's range, 10 to 250, in 7 fits.
DEFAULT_GRID = (10, 20, 50, 100, 150, 200, 250)
COHERENCE = "c_npmi"


@dataclass
class TopicLabelChoice:
    """The LDA chosen by :func:`choose_topics` and the labels it gives.

    Attributes
    ----------
    lda : LDA
        The fitted LDA of the chosen τ.
    n_topics : int
        The chosen τ.
    scores : dict int -> float
        Mean NPMI of each τ tried, in grid order.
    labels : ndarray of int, shape (n_texts,)
        Each text's topic label (the corpus's texts in ``language``, in corpus order);
        ``n_topics`` is "no topic".
    settings : dict
        What produced them (JSON-able): grid, language, top-N, measure, the LDA's parameters.
    """

    lda: LDA
    n_topics: int
    scores: dict[int, float]
    labels: np.ndarray
    settings: dict = field(default_factory=dict)

    @property
    def n_no_topic(self) -> int:
        """Texts without a token in any topic's top words."""
        return int((self.labels == self.n_topics).sum())

    def record(self) -> dict:
        """A JSON-able record of the choice: the settings, the per-τ scores, τ and how
        many texts got "no topic"."""
        return {**self.settings, "chosen": self.n_topics, "scores": {str(k): v for k, v in self.scores.items()},
                "n_no_topic": self.n_no_topic}


def choose_topics(corpus: Corpus | Sequence[str], grid: Sequence[int] = DEFAULT_GRID, *,
                  language: str | None = None, top_n: int = 10, seed: int | None = 0, progress: bool = True,
                  **lda_params) -> TopicLabelChoice:
    """Fit an LDA per number of topics in ``grid``, keep the one of highest mean NPMI and
    label the corpus's texts with it (Mueller & Dredze 2021, §4).

    Parameters
    ----------
    corpus : Corpus or list of str
    grid : sequence of int
        Numbers of topics τ to try, each in [2, number of texts].
    language : str, optional
        The texts to model and label (default: the corpus's primary language).
    top_n : int
        Top words per topic, both for NPMI and for the labels (paper: 10).
    seed : int, optional
        The LDAs' seed.
    progress : bool
        The LDAs' progress bars.
    **lda_params
        Other :class:`~polytopic.models.lda.LDA` parameters (``iterations``,
        ``vocabulary_size``, ``min_df``, ...); its defaults otherwise.

    Returns
    -------
    TopicLabelChoice
        Ties in NPMI go to the smaller τ.

    Raises
    ------
    ParameterError
        An empty grid, a τ below 2 or above the number of texts, ``top_n`` below 2, or an
        unknown LDA parameter.
    """
    if not isinstance(top_n, Integral) or isinstance(top_n, bool) or top_n < 2:
        raise ParameterError(f"top_n must be an integer >= 2 (NPMI compares word pairs), got {top_n!r}")
    corpus = as_corpus(corpus, language)
    language = language or corpus.primary_language
    grid = _checked_grid(grid, len(corpus.texts(language)))
    texts = None
    scores: dict[int, float] = {}
    best: LDA | None = None
    logger.info("topic labels: fitting %d LDA models (τ = %s) on %r texts", len(grid),
                ", ".join(map(str, grid)), language)
    for n_topics in grid:
        started = time.perf_counter()
        lda = LDA(n_topics, language=language, seed=seed, progress=progress).set_params(**lda_params)
        lda.fit(corpus)
        if texts is None:  # every τ has the same vocabulary and tokeniser
            texts = ReferenceTexts(corpus.tokens(language, tokenizer=lda.vocabularies_[language].tokenizer))
        scores[n_topics] = coherence(lda.topics(top_n), texts, COHERENCE, top_n=top_n).mean
        logger.info("topic labels: τ = %d, mean NPMI %.4f (%.1f s)", n_topics, scores[n_topics],
                    time.perf_counter() - started)
        if best is None or scores[n_topics] > scores[best.n_topics]:
            best = lda
    labels = best.topic_labels(corpus, top_n=top_n)
    lda_settings = {k: v for k, v in best.saved_params().items() if k not in ("n_topics", "progress")}
    settings = {"method": "lda", "grid": list(grid), "language": language, "top_n": top_n, "measure": COHERENCE,
                "lda": lda_settings}
    choice = TopicLabelChoice(best, best.n_topics, scores, labels, settings)
    logger.info("topic labels: chose τ = %d; %d of %d texts have no topic", choice.n_topics, choice.n_no_topic,
                labels.size)
    return choice


def _checked_grid(grid, n_texts: int) -> tuple[int, ...]:
    """``grid`` as sorted distinct ints, each a possible number of topics for ``n_texts``."""
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Sequence) or not grid:
        raise ParameterError(f"the grid of topic numbers must be a non-empty list of integers, got {grid!r}")
    if not all(isinstance(k, Integral) and not isinstance(k, bool) for k in grid):
        raise ParameterError(f"the grid of topic numbers must hold integers, got {list(grid)}")
    bad = sorted({int(k) for k in grid if not 2 <= k <= n_texts})
    if bad:
        raise ParameterError(f"the grid of topic numbers holds {bad}: each must be between 2 and the {n_texts} "
                             "texts of the corpus")
    return tuple(sorted({int(k) for k in grid}))


def field_labels(corpus: Corpus, field: str, language: str | None = None) -> tuple[np.ndarray, list[str]]:
    """The class of each text of ``corpus`` in ``language`` from its label ``field``, and
    the class names (the distinct values as strings, sorted).

    Returns
    -------
    labels : ndarray of int, shape (n_texts,)
        Indices into the names, in corpus order.
    names : list of str

    Raises
    ------
    ParameterError
        If some documents have no value (None or blank), or a value is a list or mapping.
    CorpusError
        If the corpus has no such field.
    """
    language = language or corpus.primary_language
    values = corpus.label(field, language)
    missing = [i for i, v in enumerate(values) if v is None or isinstance(v, str) and not v.strip()]
    if missing:
        item_ids = [corpus.ids[i] for i in corpus.indices(language)]
        ids = ", ".join(item_ids[i] for i in missing[:5])
        raise ParameterError(f"label field {field!r} is missing from {len(missing)} of {len(values)} {language!r} "
                             f"documents (ids {ids}{', ...' if len(missing) > 5 else ''}): give every document a "
                             "label, or use LDA topic labels instead")
    compound = next((v for v in values if isinstance(v, (list, tuple, dict))), None)
    if compound is not None:
        raise ParameterError(f"label field {field!r} holds {type(compound).__name__}s such as {compound!r}; "
                             "classification takes one label per document")
    names, labels = np.unique(np.array([str(v) for v in values]), return_inverse=True)
    return labels.astype(np.int64), names.tolist()
