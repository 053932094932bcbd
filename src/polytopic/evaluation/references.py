"""Reference corpora counted once: the co-occurrence counts of a corpus's texts in one
language, as one tokeniser reads them, shared by every run and language scored against it."""

from __future__ import annotations

from polytopic.corpus import Corpus
from polytopic.metrics import ReferenceTexts


class ReferenceCache:
    """The :class:`~polytopic.metrics.ReferenceTexts` of each (corpus, language,
    tokeniser), counted once: comparing several runs trained on one corpus (read once
    through one :class:`~polytopic.datasets.CorpusCache`) counts its words once."""

    def __init__(self) -> None:
        self._texts: dict[tuple, tuple[Corpus, ReferenceTexts]] = {}

    def texts(self, corpus: Corpus, language: str, tokenizer) -> ReferenceTexts:
        """The counts of ``corpus``'s texts in ``language`` as ``tokenizer`` reads them."""
        key = (id(corpus), language, tokenizer)
        if key not in self._texts:  # the corpus is kept beside its counts, so its id stays its own
            self._texts[key] = corpus, ReferenceTexts(corpus.tokens(language, tokenizer=tokenizer))
        return self._texts[key][1]
