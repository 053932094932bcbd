"""The model contract every topic model follows (README.md, "Views: languages and images in one contract").

``Model(n_topics=..., **hyperparameters)`` stores its arguments and nothing else;
``fit(corpus)`` learns and returns ``self``; learned state ends in ``_``;
``transform`` gives document-topic distributions for new documents, of any view the
model has (a language, the items' images); ``topics`` and ``topic_word`` expose what was
learned, per language; ``save``/``load`` write and read a directory of JSON and
safetensors that loads without executing code.

The fit plumbing lives here, once: :meth:`TopicModel.fit` validates the parameters,
settles the seed (``seed_``) and the number of topics (``n_topics_``), builds each view's
inputs (:mod:`polytopic.models.views`), seeds, picks the device, calls the model's own
:meth:`TopicModel._fit` and records the bookkeeping. A model implements ``_fit``,
``_transform``, ``_topic_word`` and the persistence hooks; what else a fit reads comes in
through the views it builds (TCCTM's labels, a distillation teacher's language), never
through attributes set around the call.
"""

from __future__ import annotations

import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from polytopic.corpus import Corpus
from polytopic.encoders import get_encoder
from polytopic.encoders.base import covers
from polytopic.errors import CorpusError, ModelFileError, NotFittedError, ParameterError, ViewError
from polytopic.models.files import ARRAYS_FILE, CONFIG_FILE, FORMAT, FORMAT_VERSION, VOCABULARY_FILE, load_model
from polytopic.models.ranking import top_words
from polytopic.models.views import IMAGE, View, checked_vectors, embeddings_by_view, fit_bag_of_words, view_items
from polytopic.params import Anything, Interval, OneOf, Optional, validate
from polytopic.persistence import atomic_directory, write_arrays, write_json
from polytopic.stages import Stages
from polytopic.version import __version__

logger = logging.getLogger(__name__)


def as_corpus(documents, language: str | None = None) -> Corpus:
    """Accept a :class:`Corpus` or a plain list of texts (in ``language``, default en)."""
    if isinstance(documents, Corpus):
        return documents
    if isinstance(documents, str) or not isinstance(documents, Sequence):
        raise CorpusError("documents must be a Corpus or a list of strings")
    return Corpus(list(documents), language=language or "en")


#: Constraints every model that builds its own vocabulary shares: K, the language to
#: model, and the vocabulary's size and minimum document frequency.
CORPUS_PARAMETERS: dict = {
    "n_topics": Interval(int, 1),
    "language": Optional(Anything()),
    "vocabulary_size": Interval(int, 1),
    "min_df": Interval(int, 1),
}

#: The same for a model that learns several languages at once (``languages`` instead of
#: ``language``: a list, a comma-separated string, or None for all of the corpus's).
MULTILINGUAL_CORPUS_PARAMETERS: dict = {
    **{k: v for k, v in CORPUS_PARAMETERS.items() if k != "language"},
    "languages": Optional(Anything()),
}

#: Constraints of how every model runs: ``seed`` (None: a fresh seed each fit, kept as
#: ``seed_``) and whether to show progress bars.
RUN_PARAMETERS: dict = {
    "seed": Optional(Interval(int, 0)),
    "progress": OneOf((True, False)),
}

#: The torch device of the models that train a network (None: CUDA when available).
DEVICE_PARAMETER: dict = {"device": Optional(Anything())}


def _languages(value) -> tuple[str, ...] | None:
    """``languages`` as a tuple (a comma-separated string is accepted)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    return tuple(value)


class TopicModel(ABC):
    """Base class of every polytopic topic model.

    Subclasses declare ``name`` (the registry key), ``_parameter_constraints`` (every
    constructor argument and its allowed values) and what they read, and implement
    :meth:`_fit`, :meth:`_transform`, :meth:`_topic_word` and the two persistence hooks
    :meth:`_state` / :meth:`_restore`.

    What a model reads (class attributes):

    - ``multilingual``: learns several languages at once (a ``languages`` parameter);
      otherwise one (a ``language`` parameter).
    - ``image_view``: can also learn from the items' images (an ``image_encoder``
      parameter); :meth:`_learns_images` decides per corpus.
    - ``reads_vectors``: reads sentence vectors of its text views (an ``encoder``
      parameter: a name, an :class:`~polytopic.encoders.Encoder`, or ``{view: either}``).
    - ``transform_reads_bow``: ``transform`` needs the bag of words, hence a language it
      has a vocabulary for. A model that reads only vectors at transform time transfers to
      any language its encoder knows (zero-shot, Bianchi et al. 2021b).
    """

    name: ClassVar[str]
    _parameter_constraints: ClassVar[dict]
    multilingual: ClassVar[bool] = False
    image_view: ClassVar[bool] = False
    reads_vectors: ClassVar[bool] = False
    transform_reads_bow: ClassVar[bool] = True
    #: Learns from a fitted teacher's posteriors (a ``teacher`` parameter) and takes its K.
    takes_teacher: ClassVar[bool] = False
    #: Words seen fewer times are dropped from the vocabulary (TopClus: 5).
    min_count: int = 1
    #: The largest corpus ``fit`` takes (None: any), for a model that holds the whole
    #: corpus in memory as it trains and would take hours beyond it.
    max_documents: ClassVar[int | None] = None

    # -- parameters ---------------------------------------------------------------
    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """The constructor's arguments: what :meth:`get_params` returns and
        :meth:`set_params` takes."""
        return tuple(cls._parameter_constraints)

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

    # -- views --------------------------------------------------------------------------
    def _requested_languages(self) -> tuple[str, ...] | None:
        if self.multilingual:
            return _languages(self.languages)
        return None if self.language is None else (self.language,)

    def _fit_languages(self, corpus: Corpus) -> tuple[str, ...]:
        """The languages to learn: those asked for, else all of the corpus's (multilingual
        models) or its most covered one."""
        requested = self._requested_languages()
        if requested is None:
            return corpus.languages if self.multilingual else (corpus.primary_language,)
        missing = [lang for lang in requested if lang not in corpus.languages]
        if missing:
            raise ViewError(f"the corpus has no texts in {missing}; it has {list(corpus.languages)}")
        return requested

    def _encoder_for(self, view: str):
        """The encoder of ``view``: ``image_encoder`` for images, else ``encoder`` (one
        for every language, or a ``{language: encoder}`` mapping); resolved once."""
        spec = getattr(self, "image_encoder" if view == IMAGE else "encoder", None)
        if isinstance(spec, dict):
            if view not in spec:
                raise ViewError(f"no encoder given for the {view!r} view; encoders are given for {sorted(spec)}")
            spec = spec[view]
        modality = "image" if view == IMAGE else "text"
        return self._cached_encoder((view, spec),
                                    lambda: get_encoder(spec, modality, progress=getattr(self, "progress", True)))

    def _cached_encoder(self, key: tuple, build):
        """The encoder ``build()`` gives, made once per ``key`` (what it is built from: a
        name, an object), so that ``set_params(encoder=...)`` takes effect at the next fit."""
        key = tuple(value if isinstance(value, (str, type(None))) else id(value) for value in key)
        cache = self.__dict__.setdefault("_encoders", {})
        if key not in cache:
            cache[key] = build()
        return cache[key]

    def _vectors(self, view: View, given, dimension: int | None, encoder=None) -> np.ndarray:
        """The caller's vectors for ``view`` (checked), or those of ``encoder`` (default:
        the view's own, :meth:`_encoder_for`)."""
        if given is None:
            encoder = encoder or self._encoder_for(view.name)
            if view.is_image:
                given = encoder.encode(view.items, item_ids=view.item_ids)
            else:
                _warn_uncovered(encoder, view.name)
                given = encoder.encode(view.items)
        return checked_vectors(view, given, dimension)

    def _build_view(self, corpus: Corpus, name: str) -> View:
        positions, items = view_items(corpus, name)
        return View(name, positions, items, item_ids=[corpus.ids[i] for i in positions])

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, corpus, *, embeddings=None) -> "TopicModel":
        """Learn topics from ``corpus`` (a Corpus of aligned items, or a list of texts).

        Sets ``seed_`` (``seed``, or with ``seed=None`` one drawn for this fit: the value
        that repeats it), ``n_topics_`` (the number of topics learned) and ``fit_stages_``
        (time, items and peak memory of the vocabulary, encoding and training stages,
        :class:`~polytopic.stages.Stages`) beside each model's own learned attributes;
        parameters are left as they were given.

        Parameters
        ----------
        corpus : Corpus or list of str
        embeddings : ndarray or mapping view -> ndarray, optional
            Precomputed vectors instead of the encoders': one array (for the first
            language), or ``{"en": E_en, "it": E_it, "image": E_img}``; each has one row
            per item that has the view, in corpus order.

        Items missing a view are trained on with the views they have. Documents with no
        vocabulary word left after preprocessing are left out of their language's
        training (counted in ``n_dropped_``).
        """
        corpus, views = self._start_fit(corpus, embeddings)
        with seeded(self.seed_, getattr(self, "device", None)) as (rng, device):
            with self.fit_stages_.stage("train", len(corpus)):
                self._fit(views, rng, device)
        self._record(views, tuple(name for name in views if name != IMAGE), tuple(views))
        return self

    def _start_fit(self, corpus, embeddings) -> tuple[Corpus, dict[str, View]]:
        """What every fit does before training: validate the parameters, settle ``seed_``
        and :meth:`_prepare_fit`, and build the views with their inputs."""
        self._validate_params()
        corpus = as_corpus(corpus, self._first_language())
        if self.max_documents is not None and len(corpus) > self.max_documents:
            from polytopic.models.registry import MODEL_TABLE, model_class

            streaming = sorted(name for name in MODEL_TABLE if hasattr(model_class(name), "partial_fit"))
            raise ParameterError(
                f"{type(self).__name__} takes at most {self.max_documents:,} documents (it holds the corpus in "
                f"memory and trains on all of it at once); this corpus has {len(corpus):,}. Fit a sample, or a "
                f"model that also learns in chunks (partial_fit): {', '.join(streaming)}")
        self.seed_ = fresh_seed() if self.seed is None else self.seed
        self.fit_stages_ = Stages()
        self._prepare_fit()
        return corpus, self._fit_views(corpus, embeddings)

    def _prepare_fit(self) -> None:
        """Settle what the parameters name before the corpus is read: the number of topics
        this fit learns, ``n_topics_`` (a distillation student loads its teacher and takes
        its K)."""
        self.n_topics_ = self.n_topics

    def _fit_views(self, corpus: Corpus, embeddings) -> dict[str, View]:
        """Every view this fit reads, with its inputs: the languages to learn
        (:meth:`_fit_languages`), then the images when the model learns them."""
        languages = self._fit_languages(corpus)
        names = languages + ((IMAGE,) if self._learns_images(corpus) else ())
        given = embeddings_by_view(embeddings, names, languages[0])
        return {name: self._fit_view(corpus, name, given.get(name)) for name in names}

    def _fit_view(self, corpus: Corpus, name: str, given, encoder=None, dimension: int | None = None) -> View:
        """View ``name`` of ``corpus`` with what fitting reads of it: a vocabulary and the
        bag of words of a text view, the vectors the model reads (``given``, else those of
        ``encoder``, default the view's own; ``dimension``: the size they must have)."""
        view = self._build_view(corpus, name)
        if not view.is_image:
            with self.fit_stages_.stage("vocabulary", len(view)):
                fit_bag_of_words(view, n_topics=self.n_topics_, vocabulary_size=self.vocabulary_size,
                                 min_df=self.min_df, min_count=self.min_count)
        if self.reads_vectors or view.is_image:
            with self.fit_stages_.stage("encode" if given is None else "check vectors", len(view)):
                view.vectors = self._vectors(view, given, dimension, encoder)
        return view

    def _record(self, views: dict[str, View], languages: tuple[str, ...], names: tuple[str, ...]) -> None:
        """Keep what the fit learned about its views: the languages it has topic words for,
        the views it transforms, their vocabularies and vector sizes. A model that reads a
        view only to learn from it (a distillation teacher's language) records less."""
        self.languages_ = languages
        self.language_ = languages[0]
        self.views_ = names
        self.vocabularies_ = {lang: views[lang].vocabulary for lang in languages}
        self.embedding_sizes_ = {n: int(views[n].vectors.shape[1]) for n in names if views[n].vectors is not None}
        self.n_dropped_ = int(views[languages[0]].n_dropped)

    def _learns_images(self, corpus: Corpus) -> bool:
        """Whether this fit learns an image view (default: whenever the model has one)."""
        return self.image_view

    @staticmethod
    def _primary(views: dict[str, View]) -> View:
        """The view of the first language learned (the only one of a monolingual model)."""
        return next(view for view in views.values() if not view.is_image)

    def _first_language(self) -> str | None:
        requested = self._requested_languages()
        return requested[0] if requested else None

    @abstractmethod
    def _fit(self, views: dict[str, View], rng: np.random.Generator, device) -> None:
        """Learn from the views' inputs. ``rng`` is seeded from ``seed`` (torch's global
        generator is seeded from it too, and restored afterwards); ``device`` is a
        ``torch.device`` (models without a ``device`` parameter ignore it)."""

    # -- inference ----------------------------------------------------------------------------
    def transform_view(self, language: str | None = None, images: bool = False) -> str:
        """The view :meth:`transform` reads for ``language`` / ``images``, or a
        :class:`ViewError` saying why it cannot: callers check before encoding anything."""
        self._check_fitted()
        if images:
            if language is not None:
                raise ViewError("transform reads one view: give language=... or images=True, not both")
            if IMAGE not in self.views_:
                raise ViewError(f"{type(self).__name__} has no image view (it learned {list(self.views_)}); "
                                "fit a model with images, such as M3L-Contrast, to transform images")
            return IMAGE
        language = language or self.language_
        if language not in self.languages_ and self.transform_reads_bow:
            raise ViewError(
                f"{type(self).__name__} has topics for {list(self.languages_)}, not {language!r}; models "
                "that read only sentence vectors at transform time (ZeroShotTM) transfer across languages"
            )
        return language

    def transform(self, documents, *, language: str | None = None, images: bool = False,
                  embeddings=None) -> np.ndarray:
        """Document-topic distributions of one view of ``documents``.

        Parameters
        ----------
        documents : Corpus or list of str
        language : str, optional
            The texts to read (default: the first language the model learned).
        images : bool
            Read the items' images instead (models with an image view).
        embeddings : ndarray or {view: ndarray}, optional
            Precomputed vectors of that view, one row per item that has it.

        Returns
        -------
        ndarray, shape (n_items with the view, n_topics), rows sum to 1, in corpus order.
        """
        return self._transform(self._input_view(documents, language, images, embeddings))

    def _input_view(self, documents, language: str | None, images: bool, embeddings) -> View:
        """The view of ``documents`` that :meth:`transform` reads, with the inputs the
        model needs (bag of words over its vocabulary, vectors)."""
        view_name = self.transform_view(language, images)
        corpus = as_corpus(documents, None if images else view_name)
        return self._known_view(corpus, view_name, embeddings, counted=self.transform_reads_bow)

    def _known_view(self, corpus: Corpus, view_name: str, embeddings, counted: bool) -> View:
        """View ``view_name`` of ``corpus`` read as the fitted model reads new documents:
        counted over the model's vocabulary of that view (``counted``, text views), with
        the vectors the model reads (``embeddings``, else its encoder's)."""
        view = self._build_view(corpus, view_name)
        known = self.views_ if view_name in self.views_ else (*self.views_, view_name)
        given = embeddings_by_view(embeddings, known, view_name).get(view_name)
        if not view.is_image and counted:
            view.vocabulary = self.vocabularies_[view_name]
            view.counts = view.vocabulary.bag_of_words(view.items)
        if self.reads_vectors or view.is_image:
            dimension = self.embedding_sizes_.get(view_name, self.embedding_sizes_.get(self.language_))
            view.vectors = self._vectors(view, given, dimension)
        return view

    @abstractmethod
    def _transform(self, view: View) -> np.ndarray:
        """Document-topic distributions of a view's rows, shape (len(view), n_topics).
        ``view.name`` may be a language the model did not learn (zero-shot transfer)."""

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
            raise ViewError(f"{type(self).__name__} has topic words for {sorted(self.vocabularies_)}, not {language!r}")
        return language

    # -- topics -------------------------------------------------------------------------------
    @abstractmethod
    def _topic_word(self, language: str) -> np.ndarray:
        """Topic-word distribution over ``vocabularies_[language]``, shape (K, V)."""

    def topic_word(self, language: str | None = None) -> np.ndarray:
        """Topic-word matrix of ``language`` (default: the first learned), shape
        (n_topics, vocabulary size), rows sum to 1."""
        return self._topic_word(self._language(language))

    def topics(self, top_n: int = 10, language: str | None = None) -> list[list[str]]:
        """The ``top_n`` most probable words of each topic in ``language``, most probable first."""
        if not isinstance(top_n, int) or top_n < 1:
            raise ParameterError(f"top_n must be a positive integer, got {top_n!r}")
        language = self._language(language)
        return top_words(self._topic_word(language), self.vocabularies_[language].words, top_n)

    # -- persistence ----------------------------------------------------------------------
    @abstractmethod
    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Learned state as (JSON-able dict, named arrays)."""

    @abstractmethod
    def _restore(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        """Inverse of :meth:`_state` on a model whose base bookkeeping is restored."""

    def saved_params(self) -> dict:
        """Parameters as JSON: objects that stand for a name (an encoder) become it."""
        def named(value):
            if isinstance(value, dict):
                return {k: named(v) for k, v in value.items()}
            return getattr(value, "name", value)
        return {k: named(v) for k, v in self.get_params().items()}

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the model to directory ``path`` (config.json, vocabulary.json,
        model.safetensors); the directory appears only once complete."""
        self._check_fitted()
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
            "polytopic_version": __version__,
            "model": self.name,
            "params": self.saved_params(),
            "n_topics": self.n_topics_,
            "seed": self.seed_,
            "language": self.language_,
            "languages": list(self.languages_),
            "views": list(self.views_),
            "embedding_sizes": self.embedding_sizes_,
            "n_dropped": self.n_dropped_,
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


class PartialFitMixin:
    """``partial_fit``: learning a corpus one chunk at a time, for corpora that do not fit
    in memory at once (scikit-learn's incremental contract: the presence of the method
    says the model has it).

    The first call on a model not fitted yet settles what :meth:`TopicModel.fit` settles,
    the vocabulary included, from that first chunk: it should be a fair sample of the
    corpus (a file in date order is not one). Later calls count their texts over that
    vocabulary, so words it lacks are not learned. A model fitted by ``fit``, or loaded,
    continues from what it learned; ``fit`` starts over. A model implements
    ``_partial_fit(views, rng, device)``.
    """

    def fit(self, corpus, *, embeddings=None):
        super().fit(corpus, embeddings=embeddings)
        self.n_chunks_ = 1
        return self

    def partial_fit(self, corpus, *, embeddings=None):
        """Learn from one more chunk of documents (a Corpus or a list of texts; ``embeddings``
        as for :meth:`TopicModel.fit`). Sets ``n_chunks_``, the chunks learned so far."""
        if not self.is_fitted:
            corpus, views = self._start_fit(corpus, embeddings)
            self.n_chunks_ = 0
        else:
            corpus = as_corpus(corpus, self.language_)
            self.__dict__.setdefault("fit_stages_", Stages())
            with self.fit_stages_.stage("count and encode", len(corpus)):
                views = {name: self._known_view(corpus, name, embeddings, counted=True) for name in self.views_}
            for view in views.values():
                if view.counts is not None:
                    view.keep = np.flatnonzero(view.counts.getnnz(axis=1) > 0)
        chunk = getattr(self, "n_chunks_", 1)
        with seeded((self.seed_, chunk), getattr(self, "device", None)) as (rng, device):
            with self.fit_stages_.stage("train", len(corpus)):
                self._partial_fit(views, rng, device)
        if chunk == 0:
            self._record(views, tuple(name for name in views if name != IMAGE), tuple(views))
        self.n_chunks_ = chunk + 1
        return self


def _warn_uncovered(encoder, language: str) -> None:
    """Warn when ``encoder`` declares the languages it was trained on and ``language`` is
    not one of them: its vectors of those texts carry little of their meaning."""
    if not covers(encoder, language):
        logger.warning("the encoder %s was not trained on %r texts; it covers %s. Choose a multilingual "
                       "encoder (use-multilingual, multilingual-e5-small) for %r",
                       encoder.name, language, ", ".join(sorted(encoder.languages)), language)


def fresh_seed() -> int:
    """A seed from the operating system's entropy: what ``seed=None`` fits with (kept as
    the model's ``seed_``, so that the fit can be repeated)."""
    return int(np.random.SeedSequence().entropy % 2**31)


@contextlib.contextmanager
def seeded(seed: int | tuple[int, ...], device: str | None):
    """A numpy generator from ``seed`` (an int, or a tuple such as (seed, chunk)), torch's
    global generator seeded from it (and restored afterwards), and the device resolved
    (default: CUDA when available)."""
    import torch

    rng = np.random.default_rng(seed)

    from polytopic.models.training import resolve_device

    resolved = resolve_device(device)
    with torch.random.fork_rng(devices=[resolved] if resolved.type == "cuda" else []):
        torch.manual_seed(int(rng.integers(2**31)))
        yield rng, resolved
