"""The collapsed Gibbs sampler of PLTM (Mimno et al. 2009), compiled with numba.

Every token of every language is flattened once into int32 arrays (:class:`Tokens`):
its tuple, its language, its word — an index into one concatenated topic-word count
array, each language's vocabulary at its own offset — and its current topic. One njit
function then runs whole sweeps over them (:func:`gibbs_sweeps`); numba's generator is
seeded inside it from the caller's numpy generator, so a seed fixes every draw.

The conditional of token i (word w of language l in tuple d) is, with the token's own
assignment removed from the counts,

    p(z_i = k | rest) ∝ (n_dk + α_k) · (n_kw^l + β) / (n_k^l + V_l β),

where n_dk counts the tokens of *all* languages of tuple d (the tie between languages)
and n_kw^l, n_k^l count topic k's tokens of language l only (Mimno et al. 2009, §3).

The asymmetric α is re-estimated outside the kernel by :func:`learn_alpha`, Minka's
fixed-point update on count histograms as Mallet's ``Dirichlet.learnParameters``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

#: Mallet's ``Dirichlet.learnParameters`` defaults as PolylingualTopicModel calls it:
#: a Gamma(shape, scale) hyperprior on each α_k, and fixed-point steps per update.
ALPHA_SHAPE = 1.00001
ALPHA_SCALE = 1.0
ALPHA_STEPS = 200


@dataclass
class Tokens:
    """Every token of the training tuples, tuple-major, and the counts they make.

    Attributes
    ----------
    doc, lang, word, topic : ndarray of int32, shape (n_tokens,)
        Tuple, language, word (offset into ``word_topic``'s rows) and topic of each token.
    doc_topic : ndarray of int32, shape (n_tuples, K)
        n_dk over all languages of tuple d.
    word_topic : ndarray of int32, shape (Σ_l V_l, K)
        n_kw^l, language l's words at rows ``offsets[l]:offsets[l + 1]``.
    lang_topic : ndarray of int32, shape (n_languages, K)
        n_k^l.
    offsets : ndarray of int64, shape (n_languages + 1,)
    """

    doc: np.ndarray
    lang: np.ndarray
    word: np.ndarray
    topic: np.ndarray
    doc_topic: np.ndarray
    word_topic: np.ndarray
    lang_topic: np.ndarray
    offsets: np.ndarray

    @property
    def vocabulary_sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def topic_word_counts(self, language: int) -> np.ndarray:
        """n_kw^l of one language, shape (K, V_l)."""
        lo, hi = self.offsets[language], self.offsets[language + 1]
        return np.ascontiguousarray(self.word_topic[lo:hi].T)


def flatten_tokens(counts: list[sp.csr_matrix], rows_doc: list[np.ndarray], n_docs: int, n_topics: int,
                   rng: np.random.Generator) -> Tokens:
    """Tokens of every language, tuple-major, with topics drawn uniformly from ``rng``.

    Parameters
    ----------
    counts : list of csr_matrix, one per language, shape (n_rows_l, V_l)
        Bags of words of the rows trained on.
    rows_doc : list of ndarray of int, one per language, shape (n_rows_l,)
        The tuple each row belongs to, in [0, n_docs).
    n_docs, n_topics : int
    rng : numpy Generator
    """
    offsets = np.concatenate([[0], np.cumsum([c.shape[1] for c in counts])]).astype(np.int64)
    docs, langs, words = [], [], []
    for lang, (matrix, row_doc) in enumerate(zip(counts, rows_doc)):
        matrix = sp.csr_matrix(matrix)
        repeats = matrix.data.astype(np.int64)
        row_of_entry = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        docs.append(np.repeat(np.asarray(row_doc)[row_of_entry], repeats))
        words.append(np.repeat(matrix.indices.astype(np.int64) + offsets[lang], repeats))
        langs.append(np.full(int(repeats.sum()), lang))
    doc, lang, word = (np.concatenate(a) for a in (docs, langs, words))
    order = np.argsort(doc, kind="stable")  # tuple-major: one tuple's n_dk row stays in cache
    doc, lang, word = (a[order].astype(np.int32) for a in (doc, lang, word))
    topic = rng.integers(n_topics, size=doc.size).astype(np.int32)
    return Tokens(doc, lang, word, topic, *count_assignments(doc, lang, word, topic, n_docs, len(counts),
                                                             int(offsets[-1]), n_topics), offsets)


def count_assignments(doc, lang, word, topic, n_docs: int, n_languages: int, n_words: int,
                      n_topics: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n_dk, n_kw^l (all languages stacked) and n_k^l of an assignment, as int32 arrays."""
    def count(index, rows):
        flat = index.astype(np.int64) * n_topics + topic
        return np.bincount(flat, minlength=rows * n_topics).reshape(rows, n_topics).astype(np.int32)
    return count(doc, n_docs), count(word, n_words), count(lang, n_languages)


@numba.njit(cache=True)
def gibbs_sweeps(doc, lang, word, topic, doc_topic, word_topic, lang_topic, alpha, beta, beta_sum,
                 n_sweeps, seed):  # pragma: no cover - compiled
    """Run ``n_sweeps`` collapsed Gibbs sweeps over every token, in place.

    ``beta_sum`` (n_languages,) is V_l β. Numba's generator is seeded with ``seed`` first.
    """
    np.random.seed(seed)
    n_topics = alpha.shape[0]
    inverse = np.empty(lang_topic.shape, dtype=np.float64)  # 1 / (n_k^l + V_l β)
    for lg in range(lang_topic.shape[0]):
        for k in range(n_topics):
            inverse[lg, k] = 1.0 / (lang_topic[lg, k] + beta_sum[lg])
    cumulative = np.empty(n_topics, dtype=np.float64)
    for _ in range(n_sweeps):
        for i in range(doc.shape[0]):
            d, lg, w, old = doc[i], lang[i], word[i], topic[i]
            doc_topic[d, old] -= 1
            word_topic[w, old] -= 1
            lang_topic[lg, old] -= 1
            inverse[lg, old] = 1.0 / (lang_topic[lg, old] + beta_sum[lg])
            total = 0.0
            for k in range(n_topics):
                total += (doc_topic[d, k] + alpha[k]) * (word_topic[w, k] + beta) * inverse[lg, k]
                cumulative[k] = total
            u = np.random.random() * total
            new = 0
            while new < n_topics - 1 and cumulative[new] <= u:
                new += 1
            topic[i] = new
            doc_topic[d, new] += 1
            word_topic[w, new] += 1
            lang_topic[lg, new] += 1
            inverse[lg, new] = 1.0 / (lang_topic[lg, new] + beta_sum[lg])


@numba.njit(cache=True)
def log_likelihood(doc, lang, word, doc_topic, word_topic, lang_topic, alpha, beta, beta_sum):  # pragma: no cover
    """Σ_i log Σ_k θ_dk φ_kw^l over the tokens, θ and φ the posterior means of the
    current counts (n_dk + α_k) / (N_d + Σα) and (n_kw^l + β) / (n_k^l + V_l β)."""
    n_topics = alpha.shape[0]
    alpha_sum = alpha.sum()
    inverse = np.empty(lang_topic.shape, dtype=np.float64)
    for lg in range(lang_topic.shape[0]):
        for k in range(n_topics):
            inverse[lg, k] = 1.0 / (lang_topic[lg, k] + beta_sum[lg])
    lengths = np.zeros(doc_topic.shape[0], dtype=np.float64)
    for d in range(doc_topic.shape[0]):
        for k in range(n_topics):
            lengths[d] += doc_topic[d, k]
    total = 0.0
    for i in range(doc.shape[0]):
        d, lg, w = doc[i], lang[i], word[i]
        p = 0.0
        for k in range(n_topics):
            p += (doc_topic[d, k] + alpha[k]) * (word_topic[w, k] + beta) * inverse[lg, k]
        total += np.log(p / (lengths[d] + alpha_sum))
    return total


class AlphaStatistics:
    """Count histograms of sampled states, the sufficient statistics of Mallet's α update.

    ``topic_docs[k, n]``: how many (tuple, sample) pairs had n tokens of topic k;
    ``lengths[n]``: how many had n tokens in all (Mallet's ``topicDocCounts`` and
    ``docLengthCounts``).
    """

    def __init__(self, n_topics: int, doc_lengths: np.ndarray):
        self.doc_lengths = np.asarray(doc_lengths, dtype=np.int64)
        size = int(self.doc_lengths.max()) + 1
        self.topic_docs = np.zeros((n_topics, size), dtype=np.int64)
        self.lengths = np.zeros(size, dtype=np.int64)

    def add(self, doc_topic: np.ndarray) -> None:
        """Record one sampled state's n_dk, shape (n_tuples, K)."""
        n_topics, size = self.topic_docs.shape
        flat = np.arange(n_topics)[None, :] * size + doc_topic
        self.topic_docs += np.bincount(flat.ravel(), minlength=n_topics * size).reshape(n_topics, size)
        self.lengths += np.bincount(self.doc_lengths, minlength=size)

    def clear(self) -> None:
        self.topic_docs[:] = 0
        self.lengths[:] = 0


def learn_alpha(alpha: np.ndarray, stats: AlphaStatistics, shape: float = ALPHA_SHAPE,
                scale: float = ALPHA_SCALE, steps: int = ALPHA_STEPS) -> np.ndarray | None:
    """Minka's fixed-point update of an asymmetric Dirichlet α with a Gamma(shape, scale)
    hyperprior, from count histograms (Wallach 2008 §2.5; Mallet's ``learnParameters``):

        α_k ← (α_k Σ_n h_k[n] (ψ(α_k + n) − ψ(α_k)) + shape)
              / (Σ_n h[n] (ψ(Σα + n) − ψ(Σα)) − 1/scale),

    with ψ(a + n) − ψ(a) = Σ_{i=1}^{n} 1/(a + i − 1) computed as cumulative sums.

    Parameters
    ----------
    alpha : ndarray, shape (K,)
    stats : AlphaStatistics

    Returns
    -------
    ndarray, shape (K,), or None when the update is not defined (a non-positive
    denominator, as on a handful of tiny documents): the caller keeps its α.
    """
    alpha = np.asarray(alpha, dtype=np.float64).copy()
    counts = np.arange(stats.lengths.size - 1, dtype=np.float64)  # i - 1 for i = 1..max
    for _ in range(steps):
        denominator = stats.lengths[1:] @ np.cumsum(1.0 / (alpha.sum() + counts)) - 1.0 / scale
        if not denominator > 0:
            return None
        digammas = np.cumsum(1.0 / (alpha[:, None] + counts[None, :]), axis=1)  # (K, max)
        numerator = np.einsum("kn,kn->k", stats.topic_docs[:, 1:], digammas)
        alpha = (alpha * numerator + shape) / denominator
    return alpha if np.all(np.isfinite(alpha)) and np.all(alpha > 0) else None
