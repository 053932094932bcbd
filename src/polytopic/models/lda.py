"""LDA (Blei et al. 2003) fitted by collapsed Gibbs sampling in tomotopy.

Why tomotopy: its sampler is compiled (SIMD, C++), so 400 iterations on 20,000 short
documents take seconds on one core where gensim's online variational Bayes needs
several passes to reach comparable coherence; it is deterministic under a seed with one
worker and ships wheels on PyPI. Only its results are kept: the topic-word matrix and
the Dirichlet parameter α are stored as arrays, and :meth:`LDA.transform` infers
document-topic distributions for new documents itself (see there), so a saved model
never needs tomotopy's binary format.

Defaults follow Mueller & Dredze (2021) §4 (400 Gibbs iterations, as their MalletLDA
baseline), with Mallet's/tomotopy's η = 0.01 and hyperparameter optimisation of α every
10 iterations.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from polytopic.models.base import CORPUS_PARAMETERS, RUN_PARAMETERS, TopicModel, as_corpus
from polytopic.models.views import View
from polytopic.params import Interval
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE

logger = logging.getLogger(__name__)

_ITERATIONS_PER_STEP = 10
_INFERENCE_CHUNK = 4096


def infer_doc_topic(counts: sp.csr_matrix, topic_word: np.ndarray, alpha: np.ndarray,
                    iterations: int = 100) -> np.ndarray:
    """Document-topic distributions under fixed topics, by the deterministic
    expected-count (zero-order collapsed variational, CVB0) update.

    For each document d, n_dk = Σ_w n_dw γ_dwk with γ_dwk ∝ (n_dk + α_k) φ_kw; the result
    is (n_dk + α_k) / (N_d + Σα). Each document is solved on its own, so the answer does
    not depend on the other documents or their order.

    Parameters
    ----------
    counts : csr_matrix, shape (n_docs, V)
    topic_word : ndarray, shape (K, V)
        φ, rows sum to 1.
    alpha : ndarray, shape (K,)
    iterations : int

    Returns
    -------
    ndarray, shape (n_docs, K), rows sum to 1 (a document without vocabulary words
    gets α / Σα).
    """
    counts = sp.csr_matrix(counts, dtype=np.float64)
    phi = np.asarray(topic_word, dtype=np.float64)
    n_docs, n_topics = counts.shape[0], phi.shape[0]
    out = np.empty((n_docs, n_topics))
    for start in range(0, n_docs, _INFERENCE_CHUNK):
        block = counts[start : start + _INFERENCE_CHUNK]
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        gather = sp.csr_matrix((np.ones(rows.size), (rows, np.arange(rows.size))), shape=(block.shape[0], rows.size))
        phi_cols = phi[:, block.indices].T  # (nnz, K)
        length = np.asarray(block.sum(axis=1)).ravel()
        doc_topic = np.tile(alpha, (block.shape[0], 1)) + length[:, None] / n_topics
        for _ in range(iterations):
            weights = doc_topic[rows] * phi_cols
            weights *= (block.data / weights.sum(1))[:, None]
            doc_topic = gather @ weights + alpha
        out[start : start + block.shape[0]] = doc_topic / doc_topic.sum(1, keepdims=True)
    return out


def top_word_labels(topic_word: np.ndarray, token_ids: np.ndarray, indptr: np.ndarray,
                    top_n: int = 10) -> np.ndarray:
    """Label each document with the topic whose top-``top_n`` words cover most of its
    tokens (Mueller & Dredze 2021, §4), as the authors' code does
    (``contextualized_topic_models/data/wiki/assign_topics.py`` in
    aaronmueller/contextualized-topic-models):

    - every token occurrence counts once for every topic whose list holds its word;
    - a document with no token in any list gets its own label K, "no topic" (the authors
      write τ + 1, e.g. 101 for τ = 100, and renumber labels by first appearance before
      training; K keeps the labels contiguous);
    - ties go to the tied topic hit first in the document, and for one token to the
      lower topic index: the authors take Python's ``max`` over a dict of counts, which
      keeps the first key inserted, and topics enter it in that order.

    Parameters
    ----------
    topic_word : ndarray, shape (K, V)
    token_ids : ndarray of int, shape (n_tokens,)
        Vocabulary ids of the documents' tokens in text order, flattened
        (:meth:`~polytopic.preprocessing.Vocabulary.token_ids`).
    indptr : ndarray of int, shape (n_docs + 1,)
        Document d's tokens are ``token_ids[indptr[d]:indptr[d + 1]]``.
    top_n : int

    Returns
    -------
    ndarray of int, shape (n_docs,), values in [0, K]
    """
    n_topics, n_words = topic_word.shape
    n_docs = len(indptr) - 1
    top = np.argsort(-topic_word, axis=1, kind="stable")[:, :top_n]
    lists = sp.csr_matrix((np.ones(top.size), (top.ravel(), np.repeat(np.arange(n_topics), top.shape[1]))),
                          shape=(n_words, n_topics))
    lists.sort_indices()
    hits = lists[token_ids]  # (n_tokens, K): row i lists the topics token i hits, ascending
    hits.sort_indices()
    token_doc = np.repeat(np.arange(n_docs), np.diff(indptr))
    hit_doc = token_doc[np.repeat(np.arange(hits.shape[0]), np.diff(hits.indptr))]
    # hits run in the authors' insertion order: by token, then by topic index
    pairs, first, count = np.unique(hit_doc * n_topics + hits.indices, return_index=True, return_counts=True)
    doc, topic = pairs // n_topics, pairs % n_topics
    order = np.lexsort((first, -count, doc))  # per document: most hits, then the earliest first hit
    doc, topic = doc[order], topic[order]
    best = np.ones(doc.size, dtype=bool)
    best[1:] = doc[1:] != doc[:-1]
    labels = np.full(n_docs, n_topics, dtype=np.int64)
    labels[doc[best]] = topic[best]
    return labels


class LDA(TopicModel):
    """LDA (Blei et al. 2003): collapsed Gibbs sampling in tomotopy.

    Parameters
    ----------
    n_topics : int
    language : str, optional
        Language to model (default: the corpus's primary one).
    vocabulary_size, min_df : int
        Vocabulary: the most frequent words seen in at least ``min_df`` documents.
    alpha : float
        Initial symmetric document-topic Dirichlet parameter (optimised during training
        when ``optimize_interval`` > 0).
    eta : float
        Topic-word Dirichlet parameter η.
    iterations : int
        Gibbs sweeps (Mueller & Dredze 2021 §4: 400). 1,000 measured no better: NPMI
        0.082 ± 0.014 against 0.084 ± 0.007 on 20,000 Debian descriptions at K = 50 (three
        seeds), both level with tomotopy run directly for 1,000 sweeps (0.089 ± 0.004;
        ``benchmarks/results/quality-20000docs-K50-stopwordsiso.json``), for 2.4× the time.
    optimize_interval : int
        Optimise α every this many iterations (0: never).
    inference_iterations : int
        Fixed-point iterations of :func:`infer_doc_topic` in ``transform``.
    seed : int or None
        None: a fresh seed each fit, kept as ``seed_``.
    progress : bool
    """

    name = "lda"
    #: Gibbs sampling holds every token of the corpus and sweeps all of them each iteration:
    #: 22.7 s for 20,000 descriptions at K = 50 (``benchmarks/results/quality-20000docs-K50.md``),
    #: so about 20 minutes a fit at 10^6 and more beyond, with every token in memory.
    max_documents = 1_000_000
    _parameter_constraints: ClassVar[dict] = {
        **CORPUS_PARAMETERS,
        "alpha": Interval(float, 0.0, open_low=True),
        "eta": Interval(float, 0.0, open_low=True),
        "iterations": Interval(int, 1),
        "optimize_interval": Interval(int, 0),
        "inference_iterations": Interval(int, 1),
        **RUN_PARAMETERS,
    }

    def __init__(self, n_topics: int = 10, *, language: str | None = None,
                 vocabulary_size: int = DEFAULT_VOCABULARY_SIZE, min_df: int = 2, alpha: float = 0.1,
                 eta: float = 0.01, iterations: int = 400, optimize_interval: int = 10,
                 inference_iterations: int = 100, seed: int | None = 0, progress: bool = True):
        self.n_topics = n_topics
        self.language = language
        self.vocabulary_size = vocabulary_size
        self.min_df = min_df
        self.alpha = alpha
        self.eta = eta
        self.iterations = iterations
        self.optimize_interval = optimize_interval
        self.inference_iterations = inference_iterations
        self.seed = seed
        self.progress = progress

    def _fit(self, views: dict[str, View], rng, device) -> None:
        """Sample topics from the bags of words; ``embeddings`` are not used."""
        import tomotopy

        data = self._primary(views)
        words = data.vocabulary.words
        sampler = tomotopy.LDAModel(k=self.n_topics_, alpha=self.alpha, eta=self.eta,
                                    seed=self.seed_)
        sampler.optim_interval = self.optimize_interval
        counts = data.counts[data.keep].tocsr()
        for row in range(counts.shape[0]):
            lo, hi = counts.indptr[row], counts.indptr[row + 1]
            sampler.add_doc(np.repeat(np.array(words, dtype=object)[counts.indices[lo:hi]],
                                      counts.data[lo:hi].astype(np.int64)).tolist())
        bar = tqdm(total=self.iterations, desc="fitting LDA", unit="it", disable=not self.progress, leave=False)
        with bar:
            done = 0
            while done < self.iterations:
                step = min(_ITERATIONS_PER_STEP, self.iterations - done)
                sampler.train(step, workers=1)  # one worker: same seed, same topics
                done += step
                bar.update(step)
                bar.set_postfix(ll=f"{sampler.ll_per_word:.3f}")
        column = np.array([data.vocabulary.index(w) for w in sampler.used_vocabs])
        topic_word = np.full((self.n_topics_, len(words)), self.eta, dtype=np.float64)
        for k in range(self.n_topics_):
            topic_word[k, column] = np.asarray(sampler.get_topic_word_dist(k), dtype=np.float64)
        self.topic_word_ = topic_word / topic_word.sum(1, keepdims=True)
        self.alpha_ = np.asarray(sampler.alpha, dtype=np.float64)
        self.log_likelihood_per_word_ = float(sampler.ll_per_word)

    def _transform(self, view: View) -> np.ndarray:
        """p(topic | document) under the fitted topics, shape (n_texts, n_topics), by
        :func:`infer_doc_topic` (deterministic, per document)."""
        return infer_doc_topic(view.counts, self.topic_word_, self.alpha_, self.inference_iterations)

    def topic_labels(self, corpus, *, top_n: int = 10) -> np.ndarray:
        """Each document's topic label, the supervision of Mueller & Dredze (2021) §3.2/§4:
        the topic whose top-``top_n`` word list holds most of the document's tokens, or
        ``n_topics`` ("no topic") for a document with no token in any list
        (:func:`top_word_labels`).

        Returns
        -------
        ndarray of int, shape (n_texts,), values in [0, n_topics]
        """
        language = self._language(None)
        texts = as_corpus(corpus, language).texts(language)
        return top_word_labels(self.topic_word_, *self.vocabularies_[language].token_ids(texts), top_n=top_n)

    def _topic_word(self, language: str) -> np.ndarray:
        return self.topic_word_

    def _state(self):
        state = {"log_likelihood_per_word": self.log_likelihood_per_word_}
        return state, {"topic_word": self.topic_word_, "alpha": self.alpha_}

    def _restore(self, state, arrays):
        self.topic_word_ = arrays["topic_word"]
        self.alpha_ = arrays["alpha"]
        self.log_likelihood_per_word_ = float(state["log_likelihood_per_word"])
