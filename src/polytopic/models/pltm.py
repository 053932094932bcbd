"""PLTM, the Polylingual Topic Model (Mimno et al. 2009): LDA over aligned tuples whose
languages share one document-topic distribution and keep topic-word distributions of
their own.

A corpus item is a tuple; each language it has a text in contributes that text's tokens.
Training is collapsed Gibbs sampling (Mimno et al. 2009, §3) in numba
(:mod:`polytopic.models.pltm_sampler`): the document-topic counts n_dk sum the tokens of
every language of tuple d, the topic-word counts n_kw^l are per language. Tuples missing a
language are trained on with the languages they have.

Choices, and what was chosen:

- **Hyperparameters: Mallet's** ``cc.mallet.topics.PolylingualTopicModel`` defaults:
  α_k = 50 / K (``alpha`` is the sum Σα = 50), β = 0.01 in every language, 1,000
  iterations; α optimisation is off by default and, when on (``optimize_interval`` > 0),
  starts after ``burn_in`` = 200 iterations and updates the asymmetric α by Mallet's
  histogram fixed point (:func:`~polytopic.models.pltm_sampler.learn_alpha`) from states
  sampled every 10 iterations and at each update. β is not optimised.
- **Held-out inference: one language at a time, by CVB0**
  (:func:`polytopic.models.lda.infer_doc_topic`) under that language's φ^l and α.
  Mallet samples held-out documents with Gibbs; the deterministic expected-count update
  gives the same posterior mean without sampling noise, and solves each document on its
  own, so ``transform`` does not depend on the seed, the batch or the order of documents.
- **Initialisation:** topics drawn uniformly from the model's seeded numpy generator;
  numba's generator is seeded from it before every block of sweeps, so a seed fixes the
  whole run.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
from tqdm.auto import tqdm

from polytopic.models.base import MULTILINGUAL_CORPUS_PARAMETERS, RUN_PARAMETERS, TopicModel
from polytopic.models.lda import infer_doc_topic
from polytopic.models.pltm_sampler import AlphaStatistics, flatten_tokens, gibbs_sweeps, learn_alpha, log_likelihood
from polytopic.models.views import View
from polytopic.params import Interval
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE

logger = logging.getLogger(__name__)

#: Sweeps between progress updates, and Mallet's ``saveSampleInterval``: after burn-in a
#: state is added to the α statistics every this many sweeps.
_ITERATIONS_PER_STEP = 10


class PLTM(TopicModel):
    """PLTM (Mimno et al. 2009): aligned tuples share θ, each language has its own φ.

    Parameters
    ----------
    n_topics : int
    languages : list of str, optional
        Languages to learn (default: every language of the corpus).
    vocabulary_size, min_df : int
        Vocabulary of each language: the most frequent words seen in at least ``min_df``
        documents.
    alpha : float
        Σα, the sum of the document-topic Dirichlet parameter: α_k = alpha / K
        (Mallet: 50).
    beta : float
        Topic-word Dirichlet parameter β of every language (Mallet: 0.01).
    iterations : int
        Gibbs sweeps (Mallet: 1,000).
    optimize_interval : int
        Re-estimate the asymmetric α every this many sweeps after ``burn_in`` (0: never,
        Mallet's default).
    burn_in : int
        Sweeps before α is first re-estimated (Mallet: 200).
    inference_iterations : int
        Fixed-point iterations of :func:`~polytopic.models.lda.infer_doc_topic` in ``transform``.
    seed : int or None
        None: a fresh seed each fit, kept as ``seed_``.
    progress : bool
    """

    name = "pltm"
    #: Gibbs sampling holds every token of the corpus and sweeps all of them each iteration:
    #: 22.7 s for 20,000 descriptions at K = 50 (``benchmarks/results/quality-20000docs-K50.md``),
    #: so about 20 minutes a fit at 10^6 and more beyond, with every token in memory.
    max_documents = 1_000_000
    multilingual = True
    image_view = False
    reads_vectors = False
    transform_reads_bow = True
    _parameter_constraints: ClassVar[dict] = {
        **MULTILINGUAL_CORPUS_PARAMETERS,
        "alpha": Interval(float, 0.0, open_low=True),
        "beta": Interval(float, 0.0, open_low=True),
        "iterations": Interval(int, 1),
        "optimize_interval": Interval(int, 0),
        "burn_in": Interval(int, 0),
        "inference_iterations": Interval(int, 1),
        **RUN_PARAMETERS,
    }

    def __init__(self, n_topics: int = 10, *, languages=None, vocabulary_size: int = DEFAULT_VOCABULARY_SIZE,
                 min_df: int = 2, alpha: float = 50.0, beta: float = 0.01, iterations: int = 1000,
                 optimize_interval: int = 0, burn_in: int = 200, inference_iterations: int = 100,
                 seed: int | None = 0, progress: bool = True):
        self.n_topics = n_topics
        self.languages = languages
        self.vocabulary_size = vocabulary_size
        self.min_df = min_df
        self.alpha = alpha
        self.beta = beta
        self.iterations = iterations
        self.optimize_interval = optimize_interval
        self.burn_in = burn_in
        self.inference_iterations = inference_iterations
        self.seed = seed
        self.progress = progress

    def _fit(self, views: dict[str, View], rng: np.random.Generator, device) -> None:
        """Sample topics for every token of every language of the tuples."""
        languages = list(views)
        # Join the languages by corpus position: tuple d is the d-th item with a usable text.
        positions = [views[lang].positions[views[lang].keep] for lang in languages]
        items = np.unique(np.concatenate(positions))
        tokens = flatten_tokens([views[lang].counts[views[lang].keep] for lang in languages],
                                [np.searchsorted(items, p) for p in positions], items.size, self.n_topics_, rng)
        alpha = np.full(self.n_topics_, self.alpha / self.n_topics_)
        beta_sum = self.beta * tokens.vocabulary_sizes.astype(np.float64)
        stats = AlphaStatistics(self.n_topics_, tokens.doc_topic.sum(1)) if self.optimize_interval else None

        def likelihood() -> float:
            return log_likelihood(tokens.doc, tokens.lang, tokens.word, tokens.doc_topic, tokens.word_topic,
                                  tokens.lang_topic, alpha, self.beta, beta_sum) / tokens.doc.size

        bar = tqdm(total=self.iterations, desc="fitting PLTM", unit="it", disable=not self.progress, leave=False)
        with bar:
            done = 0
            while done < self.iterations:
                step = self._step(done)
                gibbs_sweeps(tokens.doc, tokens.lang, tokens.word, tokens.topic, tokens.doc_topic,
                             tokens.word_topic, tokens.lang_topic, alpha, self.beta, beta_sum, step,
                             int(rng.integers(2**31)))
                done += step
                if stats is not None and done > self.burn_in:
                    alpha = self._optimise(alpha, stats, tokens.doc_topic, done)
                bar.update(step)
                if self.progress:
                    bar.set_postfix(ll=f"{likelihood():.3f}")
        self.topic_word_counts_ = {lang: tokens.topic_word_counts(i) for i, lang in enumerate(languages)}
        self.alpha_ = alpha
        self.log_likelihood_per_token_ = float(likelihood())
        self.n_tuples_ = int(items.size)
        self.n_tokens_ = int(tokens.doc.size)

    def _step(self, done: int) -> int:
        """Sweeps to run from ``done`` to the next progress update or α update."""
        step = min(_ITERATIONS_PER_STEP - done % _ITERATIONS_PER_STEP, self.iterations - done)
        if self.optimize_interval:
            step = min(step, self.optimize_interval - done % self.optimize_interval)
        return step

    def _optimise(self, alpha: np.ndarray, stats: AlphaStatistics, doc_topic: np.ndarray, done: int) -> np.ndarray:
        """Record the state every 10 sweeps and at each α update; update α every
        ``optimize_interval`` sweeps (after burn-in) from the states recorded since the last."""
        update = done % self.optimize_interval == 0
        if update or done % _ITERATIONS_PER_STEP == 0:
            stats.add(doc_topic)
        if not update:
            return alpha
        learned = learn_alpha(alpha, stats)
        stats.clear()
        if learned is None:
            logger.warning("the α update is undefined on these counts (too few tokens); α is kept")
            return alpha
        return learned

    def _transform(self, view: View) -> np.ndarray:
        """p(topic | document) of one language's texts under that language's topics,
        shape (n_texts, n_topics), by :func:`~polytopic.models.lda.infer_doc_topic`
        (deterministic, per document)."""
        return infer_doc_topic(view.counts, self._topic_word(view.name), self.alpha_, self.inference_iterations)

    def _topic_word(self, language: str) -> np.ndarray:
        """φ^l = (n_kw^l + β) / (n_k^l + V_l β), shape (K, V_l)."""
        smoothed = self.topic_word_counts_[language] + self.beta
        return smoothed / smoothed.sum(1, keepdims=True)

    def _state(self):
        state = {"log_likelihood_per_token": self.log_likelihood_per_token_, "n_tuples": self.n_tuples_,
                 "n_tokens": self.n_tokens_}
        arrays = {f"topic_word_counts.{lang}": counts for lang, counts in self.topic_word_counts_.items()}
        return state, arrays | {"alpha": self.alpha_}

    def _restore(self, state, arrays):
        self.topic_word_counts_ = {lang: arrays[f"topic_word_counts.{lang}"] for lang in self.languages_}
        self.alpha_ = arrays["alpha"]
        self.log_likelihood_per_token_ = float(state["log_likelihood_per_token"])
        self.n_tuples_ = int(state["n_tuples"])
        self.n_tokens_ = int(state["n_tokens"])
