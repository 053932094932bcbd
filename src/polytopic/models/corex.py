"""Anchor-free CorEx topics (Gallagher et al. 2017) through the ``corextopic`` package.

CorEx finds K binary latent factors that explain the most total correlation among
binarised words; it is not a mixture model. To speak the contract:

- ``topic_word`` row k is each word's mutual information with factor k, kept for the
  words CorEx assigns to k (its ``alpha`` connection, as ``get_topics`` ranks them),
  normalised to sum to 1; words assigned elsewhere get a share of zero.
- ``transform`` returns p(y_k = 1 | x) from CorEx's own ``calculate_latent``, normalised
  across factors to sum to 1 (documents where every factor is off get near-uniform rows).

Persistence keeps the arrays CorEx needs for inference (alpha, theta, log p(y), the
word-frequency terms), never its pickle-based ``save``. ``corextopic`` 1.1 imports
``six`` without declaring it: install both (``pip install corextopic six``).
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np

from polytopic.errors import require
from polytopic.models.base import CORPUS_PARAMETERS, RUN_PARAMETERS, TopicModel
from polytopic.models.views import View
from polytopic.params import Interval
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE

logger = logging.getLogger(__name__)

_ARRAYS = ("alpha", "theta", "log_p_y", "lp0", "px_frac", "mis", "tcs")


def _corex_class():
    """Corextopic's ``Corex`` class, or a :class:`~polytopic.errors.DependencyError`
    naming the ``corex`` extra (corextopic and the ``six`` it imports undeclared)."""
    return require("corextopic.corextopic", "corex", "the corex model").Corex


class CorEx(TopicModel):
    """CorEx (Gallagher et al. 2017): total-correlation topics, via corextopic.

    Parameters
    ----------
    n_topics : int
    iterations : int
        Maximum updates (corextopic's default 200).
    language, vocabulary_size, min_df, seed, progress
        As for every model (corextopic has no progress bar; ``progress`` is accepted for
        the common command line).
    """

    name = "corex"
    _parameter_constraints: ClassVar[dict] = {
        **CORPUS_PARAMETERS,
        "iterations": Interval(int, 1),
        **RUN_PARAMETERS,
    }

    def __init__(self, n_topics: int = 10, *, language: str | None = None,
                 vocabulary_size: int = DEFAULT_VOCABULARY_SIZE, min_df: int = 2, iterations: int = 200,
                 seed: int | None = 0, progress: bool = True):
        self.n_topics = n_topics
        self.language = language
        self.vocabulary_size = vocabulary_size
        self.min_df = min_df
        self.iterations = iterations
        self.seed = seed
        self.progress = progress

    def _fit(self, views: dict[str, View], rng, device) -> None:
        """Fit CorEx on the binarised bags of words; ``embeddings`` are not used."""
        corex_cls = _corex_class()
        data = self._primary(views)
        counts = (data.counts[data.keep] > 0).astype(np.int64).tocsr()
        global_state = np.random.get_state()  # corextopic seeds and draws from numpy's global generator
        try:
            np.random.seed(self.seed_)
            fitted = corex_cls(n_hidden=self.n_topics_, max_iter=self.iterations, seed=self.seed_).fit(counts)
        finally:
            np.random.set_state(global_state)
        self.corex_arrays_ = {name: np.ascontiguousarray(getattr(fitted, name), dtype=np.float64) for name in _ARRAYS}

    def _inference(self):
        """A bare corextopic ``Corex`` holding the fitted arrays (for ``calculate_latent``)."""
        corex = _corex_class()(n_hidden=self.n_topics_)
        for name, value in self.corex_arrays_.items():
            setattr(corex, name, value)
        return corex

    def _transform(self, view: View) -> np.ndarray:
        """p(y_k = 1 | document) normalised over k, shape (n_texts, n_topics)."""
        p_on, _, _ = self._inference().calculate_latent((view.counts > 0).astype(np.int64).tocsr(),
                                                         self.corex_arrays_["theta"])
        return p_on / p_on.sum(1, keepdims=True)

    def _topic_word(self, language: str) -> np.ndarray:
        alpha, mis = self.corex_arrays_["alpha"], self.corex_arrays_["mis"]
        weights = np.where(alpha >= alpha.max(0, keepdims=True), mis * alpha, 0.0) + 1e-12
        return weights / weights.sum(1, keepdims=True)

    def _state(self):
        return {}, dict(self.corex_arrays_)

    def _restore(self, state, arrays):
        missing = set(_ARRAYS) - set(arrays)
        if missing:
            raise KeyError(f"arrays {sorted(missing)}")
        self.corex_arrays_ = {name: arrays[name] for name in _ARRAYS}
