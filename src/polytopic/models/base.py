"""The model contract every topic model follows (DESIGN.md, "The model contract").

``Model(n_topics=..., **hyperparameters)`` stores its arguments and nothing else;
``fit(corpus)`` learns and returns ``self``; learned state ends in ``_``;
``transform`` gives document-topic distributions for new documents; ``topics`` and
``topic_word`` expose what was learned; ``save``/``load`` write and read a directory
of JSON and safetensors that loads without executing code.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

import polytopic
from polytopic.corpus import Corpus
from polytopic.encoders import check_embeddings, get_encoder
from polytopic.errors import CorpusError, ModelFileError, NotFittedError, ParameterError
from polytopic.params import Anything, Interval, Optional, validate
from polytopic.persistence import atomic_directory, read_arrays, read_json, write_arrays, write_json
from polytopic.preprocessing import Vocabulary

logger = logging.getLogger(__name__)

FORMAT = "polytopic-model"
FORMAT_VERSION = 2  # 2: sparse first layer of the VAEs (format 1 is upgraded on load)
CONFIG_FILE = "config.json"
VOCABULARY_FILE = "vocabulary.json"
ARRAYS_FILE = "model.safetensors"


def as_corpus(documents, language: str | None = None) -> Corpus:
    """Accept a :class:`Corpus` or a plain list of texts (in ``language``, default en)."""
    if isinstance(documents, Corpus):
        return documents
    if isinstance(documents, str) or not isinstance(documents, Sequence):
        raise CorpusError("documents must be a Corpus or a list of strings")
    return Corpus(list(documents), language=language or "en")


@dataclass
class BagOfWords:
    """What a bag-of-words model trains on: the texts of one language, the vocabulary
    fitted on them, their counts, and the rows kept (documents with a vocabulary word)."""

    language: str
    texts: list[str]
    vocabulary: Vocabulary
    counts: sp.csr_matrix  # (n_texts, len(vocabulary))
    keep: np.ndarray  # positions of the texts with at least one vocabulary word

    @property
    def n_dropped(self) -> int:
        return len(self.texts) - self.keep.size


def bag_of_words_input(corpus: Corpus, language: str | None, *, n_topics: int,
                       vocabulary_size: int, min_df: int, min_count: int = 1) -> BagOfWords:
    """Fit the vocabulary of ``language`` (default: the corpus's primary one) and count it.

    Words seen fewer than ``min_count`` times in the corpus are dropped (TopClus,
    Appendix C, uses 5). Documents with no vocabulary word are left out (logged as a
    warning): there is nothing to reconstruct or sample in them.

    Raises
    ------
    ParameterError
        If ``n_topics`` exceeds the vocabulary or the usable documents.
    """
    language = language or corpus.primary_language
    texts = corpus.texts(language)
    vocabulary = corpus.vocabulary(language, size=vocabulary_size, min_df=min_df)
    counts = vocabulary.bag_of_words(texts)
    if min_count > 1:
        frequent = np.flatnonzero(np.asarray(counts.sum(axis=0)).ravel() >= min_count)
        if frequent.size == 0:
            raise ParameterError(f"no word occurs {min_count} times or more; add documents or lower min_count")
        vocabulary = Vocabulary(tuple(vocabulary.words[i] for i in frequent), vocabulary.tokenizer)
        counts = counts[:, frequent].tocsr()
    if n_topics > len(vocabulary):
        raise ParameterError(
            f"n_topics={n_topics} exceeds the vocabulary of {len(vocabulary)} words; "
            "use fewer topics or a larger corpus"
        )
    keep = np.flatnonzero(counts.getnnz(axis=1) > 0)
    if keep.size < len(texts):
        logger.warning("%d of %d documents have no vocabulary word after preprocessing and "
                       "are left out of training", len(texts) - keep.size, len(texts))
    if keep.size < max(2, n_topics):
        raise ParameterError(
            f"{keep.size} usable documents cannot support {n_topics} topics; "
            "add documents or lower n_topics"
        )
    return BagOfWords(language, texts, vocabulary, counts, keep)


#: Constraints every model that builds its own vocabulary shares: K, the language to
#: model, and the vocabulary's size and minimum document frequency.
CORPUS_PARAMETERS: dict = {
    "n_topics": Interval(int, 1),
    "language": Optional(Anything()),
    "vocabulary_size": Interval(int, 1),
    "min_df": Interval(int, 1),
}


class TopicModel(ABC):
    """Base class of every polytopic topic model.

    Subclasses declare ``name`` (the registry key), ``_parameter_constraints`` (every
    constructor argument and its allowed values), and implement ``fit``, ``transform``,
    ``_topic_word`` and the two persistence hooks ``_state`` / ``_restore``.
    """

    name: ClassVar[str]
    _parameter_constraints: ClassVar[dict]

    # -- parameters ---------------------------------------------------------------
    def get_params(self) -> dict:
        return {name: getattr(self, name) for name in self._parameter_constraints}

    def set_params(self, **params) -> "TopicModel":
        unknown = set(params) - set(self._parameter_constraints)
        if unknown:
            raise ParameterError(f"unknown parameters for {type(self).__name__}: {sorted(unknown)}")
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def _validate_params(self) -> None:
        validate(self.get_params(), self._parameter_constraints)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_topics={self.get_params().get('n_topics')})"

    # -- inputs ------------------------------------------------------------------------
    def _encoder(self):
        """The sentence encoder named by the ``encoder`` parameter (resolved once)."""
        spec = getattr(self, "encoder", None)
        cached = getattr(self, "_encoder_cache", (None, None))
        if cached[0] is not spec or cached[1] is None:
            resolved = spec
            if isinstance(spec, (str, type(None))):
                resolved = get_encoder(spec, progress=getattr(self, "progress", True))
            self._encoder_cache = cached = (spec, resolved)
        return cached[1]

    def _sentence_embeddings(self, texts: list[str], embeddings, dimension: int | None) -> np.ndarray:
        """``embeddings`` checked (one finite row per text), or the encoder's vectors."""
        if embeddings is None:
            embeddings = self._encoder().encode(texts)
        return check_embeddings(embeddings, len(texts), dimension)

    # -- fitting and inference ----------------------------------------------------------
    @abstractmethod
    def fit(self, corpus, *, embeddings=None) -> "TopicModel":
        """Learn topics from ``corpus`` (a Corpus or list of texts); returns ``self``."""

    @abstractmethod
    def transform(self, documents, *, language: str | None = None, embeddings=None) -> np.ndarray:
        """Document-topic distributions, shape (n_documents, n_topics), rows sum to 1."""

    def fit_transform(self, corpus, *, embeddings=None) -> np.ndarray:
        return self.fit(corpus, embeddings=embeddings).transform(corpus, embeddings=embeddings)

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "vocabularies_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(corpus) first")

    def _language(self, language: str | None) -> str:
        self._check_fitted()
        language = language or self.language_
        if language not in self.vocabularies_:
            raise CorpusError(
                f"{type(self).__name__} has topic words for {sorted(self.vocabularies_)}, not {language!r}"
            )
        return language

    @abstractmethod
    def _topic_word(self, language: str) -> np.ndarray:
        """Topic-word distribution over ``vocabularies_[language]``, shape (K, V)."""

    @property
    def topic_word(self) -> np.ndarray:
        """Topic-word matrix of the training language, shape (n_topics, vocabulary size),
        rows sum to 1."""
        return self._topic_word(self._language(None))

    def topic_word_for(self, language: str) -> np.ndarray:
        """Topic-word matrix over the vocabulary of ``language``."""
        return self._topic_word(self._language(language))

    def topics(self, top_n: int = 10, language: str | None = None) -> list[list[str]]:
        """The ``top_n`` most probable words of each topic, most probable first."""
        if not isinstance(top_n, int) or top_n < 1:
            raise ParameterError(f"top_n must be a positive integer, got {top_n!r}")
        language = self._language(language)
        words = np.array(self.vocabularies_[language].words, dtype=object)
        matrix = self._topic_word(language)
        top_n = min(top_n, matrix.shape[1])
        best = np.argsort(-matrix, axis=1, kind="stable")[:, :top_n]
        return [list(words[row]) for row in best]

    # -- persistence ----------------------------------------------------------------------
    @abstractmethod
    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Learned state as (JSON-able dict, named arrays)."""

    @abstractmethod
    def _restore(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        """Inverse of :meth:`_state` on a freshly constructed model."""

    def _saved_params(self) -> dict:
        """Parameters as JSON: objects that stand for a name (an encoder) become it."""
        return {k: getattr(v, "name", v) for k, v in self.get_params().items()}

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the model to directory ``path`` (config.json, vocabulary.json,
        model.safetensors); the directory appears only once complete."""
        with atomic_directory(path, overwrite=overwrite) as tmp:
            self.write(tmp)
        return Path(path)

    def write(self, directory: Path) -> None:
        """Write the model's files into the existing ``directory``."""
        self._check_fitted()
        state, arrays = self._state()
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "polytopic_version": polytopic.__version__,
            "model": self.name,
            "params": self._saved_params(),
            "language": self.language_,
            "state": state,
        }
        vocabularies = {lang: v.to_dict() for lang, v in self.vocabularies_.items()}
        write_json(directory / CONFIG_FILE, config)
        write_json(directory / VOCABULARY_FILE, vocabularies)
        write_arrays(directory / ARRAYS_FILE, arrays)

    @classmethod
    def load(cls, path: str | Path) -> "TopicModel":
        """Read a model saved by :meth:`save`. Never executes code from the files."""
        model = load_model(path)
        if not isinstance(model, cls):
            raise ModelFileError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model


def load_model(path: str | Path) -> TopicModel:
    """Load any saved polytopic model, resolving its class through the registry."""
    from polytopic.models import MODELS

    path = Path(path)
    if not path.is_dir():
        raise ModelFileError(f"{path}: no such model directory")
    config = read_json(path / CONFIG_FILE)
    if config.get("format") != FORMAT:
        raise ModelFileError(f"{path / CONFIG_FILE} is not a polytopic model configuration")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by a newer polytopic (format {config['format_version']}); upgrade polytopic"
        )
    if config.get("model") not in MODELS:
        raise ModelFileError(f"{path}: unknown model {config.get('model')!r}; known: {sorted(MODELS)}")
    model_cls = MODELS[config["model"]]
    try:
        model = model_cls(**config["params"])
        model.vocabularies_ = {
            lang: Vocabulary.from_dict(v) for lang, v in read_json(path / VOCABULARY_FILE).items()
        }
        model.language_ = config["language"]
        model._restore(config["state"], read_arrays(path / ARRAYS_FILE))
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise ModelFileError(f"{path} is corrupted or incomplete ({type(err).__name__}: {err})") from None
    return model
