"""Tokenisation, stopwords and the bag-of-words vocabulary of one language.

The unprocessed text goes to the encoder (as in CTM, Bianchi et al. 2021); what this
module produces — a bag-of-words over the N most frequent words — is what the topic
decoder reconstructs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import stopwordsiso
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from polytopic.errors import CorpusError, ParameterError

logger = logging.getLogger(__name__)

# A token is a maximal run of letters and digits (Unicode-aware): apostrophes, hyphens
# and underscores separate tokens ("l'application" -> "l", "application").
_TOKEN = re.compile(r"[^\W_]+")

DEFAULT_VOCABULARY_SIZE = 2000  # Zosa & Pivovarova §4.1; Meng et al. keep the same order


def iso_stopwords(language: str) -> frozenset[str]:
    """The stopword list of ``language`` (ISO 639-1) from the ``stopwordsiso`` package.

    Raises
    ------
    CorpusError
        If the package has no list for the code (an unknown or unsupported language).
    """
    if not isinstance(language, str) or not stopwordsiso.has_lang(language):
        raise CorpusError(
            f"unknown language code {language!r}: no stopword list for it. Use an ISO 639-1 "
            "code such as 'en', 'de', 'fr', or pass stopwords=[] (or your own list) to "
            "tokenise without one."
        )
    return frozenset(stopwordsiso.stopwords(language))


def default_stopwords(language: str) -> frozenset[str]:
    """The stopwords a :class:`Tokenizer` drops when it is given none.

    English takes scikit-learn's 318-word list (the list BERTopic and Turftopic users
    pass and the one ``shared/tools/score_npmi.py`` scores with); every other language
    takes ``stopwordsiso``'s. For English, stopwordsiso's 1,298 words drop topical words
    of technical text ("web", "html", "http", "shell", "text", "test", "computer",
    "free", "open", "value"...), so a web-server topic could not contain "web". Measured
    on Debian descriptions (issue #14, three seeds): with scikit-learn's list
    CombinedTM's NPMI (raw texts) at 3,000 documents rose from 0.006 ± 0.016 to
    0.047 ± 0.013, 0.034 of it still there with generic words left out of the scoring;
    at 20,000 documents LDA's gain (0.077 → 0.089) came from generic words alone. No
    other language was measured, so they keep stopwordsiso's lists.

    Raises
    ------
    CorpusError
        If there is no list for the code.
    """
    if language == "en":
        return frozenset(ENGLISH_STOP_WORDS)
    return iso_stopwords(language)


@dataclass(frozen=True)
class Tokenizer:
    """Lower-casing, Unicode-aware word tokeniser with a stopword filter.

    Parameters
    ----------
    language : str
        ISO 639-1 code; selects the stopword list when ``stopwords`` is None.
    stopwords : iterable of str, optional
        Words to drop. None takes :func:`default_stopwords` of ``language``
        (scikit-learn's list for English, ``stopwordsiso``'s otherwise); an empty list
        keeps every word. Saved tokenisers store their list, so a model keeps the
        stopwords it was fitted with.
    min_length : int
        Shorter tokens are dropped (default 2: single letters carry no topic).
    """

    language: str = "en"
    stopwords: frozenset[str] | None = None
    min_length: int = 2
    lowercase: bool = True

    def __post_init__(self) -> None:
        words = default_stopwords(self.language) if self.stopwords is None else self.stopwords
        object.__setattr__(self, "stopwords", frozenset(w.lower() for w in words))
        if self.min_length < 1:
            raise ParameterError(f"min_length must be >= 1, got {self.min_length}")

    def tokenize(self, text: str) -> list[str]:
        """Tokens of one text, in order, stopwords and pure numbers removed."""
        if self.lowercase:
            text = text.lower()
        stop = self.stopwords
        return [
            t
            for t in _TOKEN.findall(text)
            if len(t) >= self.min_length and t not in stop and not t.isdigit()
        ]

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        return [self.tokenize(t) for t in texts]

    def to_dict(self) -> dict:
        return {
            "language": self.language,
            "stopwords": sorted(self.stopwords),
            "min_length": self.min_length,
            "lowercase": self.lowercase,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Tokenizer":
        return cls(
            language=data["language"],
            stopwords=frozenset(data["stopwords"]),
            min_length=int(data["min_length"]),
            lowercase=bool(data["lowercase"]),
        )


def _token_columns(token_lists: Sequence[Sequence[str]], index: dict[str, int],
                   grow: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each text's tokens as positions in ``index``, in text order, flattened, and the
    offsets of each text (text i is ``columns[indptr[i]:indptr[i + 1]]``). With ``grow``
    unseen tokens are added to ``index``; otherwise they are skipped."""
    indptr = np.zeros(len(token_lists) + 1, dtype=np.int64)
    columns: list[int] = []
    for i, tokens in enumerate(token_lists):
        if grow:
            columns.extend(index.setdefault(t, len(index)) for t in tokens)
        else:
            columns.extend(index[t] for t in tokens if t in index)
        indptr[i + 1] = len(columns)
    return np.asarray(columns, dtype=np.int64), indptr


def count_matrix(token_lists: Sequence[Sequence[str]], index: dict[str, int] | None = None, *,
                 grow: bool | None = None):
    """Document-term counts as CSR (float32) and the word index used.

    With ``index`` None a new index is grown from the tokens (first-seen order); with
    ``grow`` an existing ``index`` grows too; otherwise tokens outside ``index`` are
    ignored. The matrix has a column per word of the index.
    """
    grow = index is None if grow is None else grow
    index = {} if index is None else index
    cols, indptr = _token_columns(token_lists, index, grow)
    data = np.ones(len(cols), dtype=np.float32)
    matrix = sp.csr_matrix((data, cols, indptr), shape=(len(token_lists), len(index)))
    matrix.sum_duplicates()  # merges repeated tokens into counts, sorts indices
    return matrix, index


#: Texts tokenised at a time when counting: the token lists of one chunk are held, not
#: the corpus's, so counting takes memory for its result and one chunk.
COUNT_CHUNK = 20_000


def _chunked_counts(texts: Sequence[str], tokenizer: Tokenizer, index: dict[str, int], grow: bool):
    """:func:`count_matrix` of each :data:`COUNT_CHUNK` texts in turn, over ``index``
    (grown across chunks with ``grow``)."""
    for start in range(0, len(texts), COUNT_CHUNK):
        yield count_matrix(tokenizer.tokenize_many(texts[start:start + COUNT_CHUNK]), index, grow=grow)[0]


@dataclass(frozen=True)
class Vocabulary:
    """The words a topic model reconstructs, with the tokeniser that produced them.

    Build it with :meth:`fit`; :meth:`bag_of_words` maps any texts of the same language
    onto it, so a model applied to new documents always sees the training shape.
    """

    words: tuple[str, ...]
    tokenizer: Tokenizer
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(set(self.words)) != len(self.words):
            raise CorpusError("vocabulary words must be unique")
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    @property
    def language(self) -> str:
        return self.tokenizer.language

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def index(self, word: str) -> int:
        return self._index[word]

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        tokenizer: Tokenizer,
        size: int = DEFAULT_VOCABULARY_SIZE,
        min_df: int = 2,
        max_df: float = 1.0,
    ) -> "Vocabulary":
        """Keep the ``size`` most frequent words (corpus term frequency).

        Candidates must occur in at least ``min_df`` documents and in at most a share
        ``max_df`` of them. Ties are broken alphabetically so the result is
        deterministic. If fewer candidates exist than ``size``, all are kept and a
        warning says how many.
        """
        if size < 1:
            raise ParameterError(f"vocabulary size must be >= 1, got {size}")
        if min_df < 1:
            raise ParameterError(f"min_df must be >= 1, got {min_df}")
        if not 0.0 < max_df <= 1.0:
            raise ParameterError(f"max_df must be in (0, 1], got {max_df}")
        index: dict[str, int] = {}
        term_freq, doc_freq, n_docs = np.zeros(0), np.zeros(0, dtype=np.int64), 0
        for counts in _chunked_counts(texts, tokenizer, index, grow=True):
            grown = len(index) - term_freq.size
            term_freq = np.pad(term_freq, (0, grown)) + np.asarray(counts.sum(axis=0)).ravel()
            doc_freq = np.pad(doc_freq, (0, grown)) + np.bincount(counts.indices, minlength=len(index))
            n_docs += counts.shape[0]
        words = np.array(sorted(index, key=index.__getitem__), dtype=object)
        keep = (doc_freq >= min_df) & (doc_freq <= max_df * n_docs)
        candidates = np.flatnonzero(keep)
        if len(candidates) == 0:
            raise CorpusError(
                f"no word of language {tokenizer.language!r} occurs in >= {min_df} documents "
                f"(of {n_docs}) after stopword removal: the corpus is too small or "
                "empty; lower min_df or add documents."
            )
        if len(candidates) < size:
            logger.warning(
                "vocabulary size %d requested, but the %s corpus has only %d words with "
                "document frequency >= %d; keeping all %d",
                size, tokenizer.language, len(candidates), min_df, len(candidates),
            )
        order = sorted(candidates, key=lambda j: (-term_freq[j], words[j]))[:size]
        return cls(words=tuple(words[order]), tokenizer=tokenizer)

    def bag_of_words(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Counts of this vocabulary's words in each text, shape (n_texts, len(self))."""
        chunks = list(_chunked_counts(texts, self.tokenizer, self._index, grow=False))
        matrix = sp.vstack(chunks, format="csr") if chunks else sp.csr_matrix((0, len(self.words)), dtype=np.float32)
        matrix.resize((len(texts), len(self.words)))
        return matrix

    def token_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary words of each text as word ids, in text order (other tokens
        skipped), flattened, and each text's offsets: text i is ``ids[indptr[i]:indptr[i + 1]]``.
        The bag of words forgets the order; :meth:`LDA.topic_labels
        <polytopic.models.lda.LDA.topic_labels>` breaks ties by it."""
        return _token_columns(self.tokenizer.tokenize_many(texts), self._index, grow=False)

    def to_dict(self) -> dict:
        return {"words": list(self.words), "tokenizer": self.tokenizer.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocabulary":
        return cls(words=tuple(data["words"]), tokenizer=Tokenizer.from_dict(data["tokenizer"]))
