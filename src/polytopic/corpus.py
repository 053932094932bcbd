"""The Corpus: aligned items, each with text in one or more languages, optionally an image.

One item is one "tuple" of the multilingual papers (Zosa & Pivovarova §3): the same
package description in English, German, ...; an application's texts with its icon. A
monolingual corpus is the special case of one language. Labels (a Debian ``section``,
freedesktop categories) are kept for evaluation only; no model trains on them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from polytopic.errors import CorpusError
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE, Tokenizer, Vocabulary

logger = logging.getLogger(__name__)


class Corpus:
    """An ordered collection of aligned items.

    Parameters
    ----------
    texts : sequence of str, mapping language -> sequence of (str or None), or sequence of mappings
        A plain sequence is a monolingual corpus in ``language``. A mapping from language
        to a column (``None`` where an item lacks that language), or one mapping per item
        (``{"en": ..., "de": ...}``, as in ``shared/data/debian``), is an aligned corpus.
    language : str
        Language of a plain sequence of texts (ISO 639-1).
    ids : sequence of str, optional
        Item identifiers (default "0", "1", ...). Must be unique.
    images : sequence of (str or None), optional
        Image file path per item.
    labels : mapping field -> sequence, optional
        Human labels per item, for evaluation only.
    """

    def __init__(
        self,
        texts: Sequence[str] | Mapping[str, Sequence[str | None]] | Sequence[Mapping[str, str]],
        *,
        language: str = "en",
        ids: Sequence[str] | None = None,
        images: Sequence[str | None] | None = None,
        labels: Mapping[str, Sequence] | None = None,
    ) -> None:
        columns = _to_columns(texts, language)
        n_items = len(next(iter(columns.values()))) if columns else 0
        if n_items == 0 and not images:
            raise CorpusError("the corpus is empty: give at least one document")
        n_items = max(n_items, len(images or ()))
        self._texts = columns
        self.ids = [str(i) for i in range(n_items)] if ids is None else [str(i) for i in ids]
        self.images = list(images) if images is not None else [None] * n_items
        self.labels = {name: list(values) for name, values in (labels or {}).items()}
        self._check_lengths(n_items)

    def _check_lengths(self, n_items: int) -> None:
        lengths = {f"texts[{lang}]": len(col) for lang, col in self._texts.items()}
        lengths.update(ids=len(self.ids), images=len(self.images))
        lengths.update({f"labels[{k}]": len(v) for k, v in self.labels.items()})
        bad = {k: n for k, n in lengths.items() if n != n_items}
        if bad:
            raise CorpusError(f"every field needs one entry per item ({n_items}); got {bad}")
        if len(set(self.ids)) != n_items:
            repeated = sorted(i for i, n in Counter(self.ids).items() if n > 1)
            raise CorpusError(f"item ids must be unique; repeated: {repeated[:5]}")

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        langs = ", ".join(f"{lang}: {self.indices(lang).size}" for lang in self.languages)
        n_img = sum(p is not None for p in self.images)
        return f"Corpus({len(self)} items; texts {{{langs}}}; {n_img} images)"

    @cached_property
    def languages(self) -> tuple[str, ...]:
        """Languages present, most covered first (ties in order of first appearance)."""
        counts = {lang: self.indices(lang).size for lang in self._texts}
        present = [lang for lang, n in counts.items() if n]
        return tuple(sorted(present, key=lambda lang: -counts[lang]))

    @property
    def primary_language(self) -> str:
        if not self.languages:
            raise CorpusError("the corpus has no texts (images only)")
        return self.languages[0]

    def _column(self, language: str | None) -> list[str | None]:
        language = language or self.primary_language
        if language not in self._texts:
            raise CorpusError(
                f"the corpus has no texts in language {language!r}; it has {list(self.languages)}"
            )
        return self._texts[language]

    def indices(self, language: str | None = None) -> np.ndarray:
        """Positions of the items that have a text in ``language`` (default: primary)."""
        column = self._column(language)
        return np.fromiter((i for i, t in enumerate(column) if t is not None), dtype=np.int64)

    def texts(self, language: str | None = None) -> list[str]:
        """Texts in ``language`` of the items that have one, in item order."""
        return [t for t in self._column(language) if t is not None]

    def aligned(self, languages: Sequence[str]) -> np.ndarray:
        """Positions of the items that have a text in every one of ``languages``."""
        mask = np.ones(len(self), dtype=bool)
        for lang in languages:
            mask &= np.array([t is not None for t in self._column(lang)])
        return np.flatnonzero(mask)

    def image_indices(self) -> np.ndarray:
        return np.array([i for i, p in enumerate(self.images) if p is not None], dtype=np.int64)

    def label(self, field: str, language: str | None = None) -> list:
        """Labels of ``field`` for the items that have a text in ``language``."""
        if field not in self.labels:
            raise CorpusError(f"no label field {field!r}; the corpus has {sorted(self.labels)}")
        values = self.labels[field]
        return [values[i] for i in self.indices(language)]

    def subset(self, positions: Sequence[int] | np.ndarray) -> "Corpus":
        """A new corpus of the items at ``positions`` (in that order)."""
        pos = np.asarray(positions, dtype=np.int64)
        if pos.size == 0:
            raise CorpusError("cannot take an empty subset of a corpus")
        pick = lambda seq: [seq[i] for i in pos]  # noqa: E731
        return Corpus(
            {lang: pick(col) for lang, col in self._texts.items()},
            ids=pick(self.ids),
            images=pick(self.images),
            labels={k: pick(v) for k, v in self.labels.items()},
        )

    def tokenizer(self, language: str | None = None, stopwords=None) -> Tokenizer:
        """The default tokeniser of ``language`` (its :func:`default_stopwords`)."""
        return Tokenizer(language or self.primary_language, stopwords=stopwords)

    def tokens(self, language: str | None = None, tokenizer: Tokenizer | None = None) -> list[list[str]]:
        """Tokenised texts in ``language`` (cached per tokeniser): the reference texts of
        coherence metrics."""
        tokenizer = tokenizer or self.tokenizer(language)
        key = (language or self.primary_language, tokenizer)
        cache = self.__dict__.setdefault("_token_cache", {})
        if key not in cache:
            cache[key] = tokenizer.tokenize_many(self.texts(key[0]))
        return cache[key]

    def vocabulary(
        self,
        language: str | None = None,
        size: int = DEFAULT_VOCABULARY_SIZE,
        min_df: int = 2,
        max_df: float = 1.0,
        tokenizer: Tokenizer | None = None,
    ) -> Vocabulary:
        """Fit a :class:`Vocabulary` on the texts of ``language``."""
        tokenizer = tokenizer or self.tokenizer(language)
        return Vocabulary.fit(self.texts(language), tokenizer, size=size, min_df=min_df, max_df=max_df)

    def bag_of_words(self, vocabulary: Vocabulary, language: str | None = None) -> sp.csr_matrix:
        """Counts over ``vocabulary`` for the texts in ``language`` (default: the
        vocabulary's), shape (n_texts, len(vocabulary))."""
        return vocabulary.bag_of_words(self.texts(language or vocabulary.language))


def _to_columns(texts, language: str) -> dict[str, list[str | None]]:
    """Normalise the accepted text layouts into {language: column}."""
    if isinstance(texts, str):
        raise CorpusError("texts must be a sequence of documents, not a single string")
    if isinstance(texts, Mapping):
        columns = {str(lang): list(col) for lang, col in texts.items()}
    else:
        texts = list(texts)
        if all(isinstance(t, str) for t in texts):
            columns = {language: texts}
        elif all(isinstance(t, Mapping) for t in texts):
            langs = list(dict.fromkeys(lang for item in texts for lang in item))
            columns = {lang: [item.get(lang) for item in texts] for lang in langs}
        else:
            raise CorpusError("texts must all be strings, or all be {language: text} mappings")
    lengths = {len(c) for c in columns.values()}
    if len(lengths) > 1:
        raise CorpusError(f"every language column needs one entry per item; got lengths {sorted(lengths)}")
    for lang, column in columns.items():
        bad = [i for i, t in enumerate(column) if t is not None and not isinstance(t, str)]
        if bad:
            raise CorpusError(f"texts[{lang!r}] item {bad[0]} is {type(column[bad[0]]).__name__}, not str")
        column[:] = [t if t is None or t.strip() else None for t in column]
    return columns
