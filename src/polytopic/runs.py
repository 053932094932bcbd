"""The run directory that ``polytopic fit`` writes: its files, how it is written and read.

A run is a saved model (``config.json``, ``vocabulary.json``, ``model.safetensors``) plus

- ``run.json``: how it was made (corpus and how it was read, model, options, fit time,
  languages, the time, rate and peak memory of each stage, versions);
- ``topic_word.safetensors``: the topic-word matrix of each language the model learned,
  float32 (n_topics, vocabulary size), so that reading topics needs neither torch nor
  the model's class;
- ``topics.txt``: the top words of each topic in the model's primary language, one topic
  a line, space-separated, and ``topics-<language>.txt`` for each language when the
  model learned several;
- ``typical-images.json``, for a model with an image view written with its training
  corpus: each topic's :data:`TYPICAL_TOP_N` most typical training images (highest θ;
  :func:`polytopic.typical.image_record`), read by :func:`read_typical_images`;
- ``metrics.json``, written later by ``polytopic evaluate``, and with ``--aligned`` the
  figures ``confusion-<view>-<view>.png``.

Runs written before ``topic_word.safetensors`` existed are read through the saved model.

Only this module reads or writes a run directory. :class:`Run` is a run opened: its
run.json read, its model loaded once on first use, its training corpus read once per set
of reading options; evaluation, the report and the sweep take a :class:`Run` (a sweep the
one :func:`fit_run` returns, with the model it fitted in hand).
"""

from __future__ import annotations

import contextlib
import logging
import platform
import time
from functools import cached_property
from importlib import metadata
from pathlib import Path

import numpy as np

from polytopic.errors import ModelFileError, ParameterError, ViewError
from polytopic.models.files import CONFIG_FILE, VOCABULARY_FILE
from polytopic.models.ranking import top_words
from polytopic.persistence import atomic_directory, atomic_file, read_arrays, read_json, write_arrays, write_json
from polytopic.stages import Stages
from polytopic.version import __version__

RUN_FILE = "run.json"
TOPICS_FILE = "topics.txt"
TOPIC_WORD_FILE = "topic_word.safetensors"
METRICS_FILE = "metrics.json"
TYPICAL_IMAGES_FILE = "typical-images.json"
TOPICS_FILE_TOP_N = 10
#: Most typical training images recorded per topic.
TYPICAL_TOP_N = 20
#: The image view's name (:data:`polytopic.models.views.IMAGE`; importing it would import scipy).
IMAGE_VIEW = "image"
#: Libraries whose versions run.json records, beside polytopic's and Python's.
RECORDED_LIBRARIES = ("numpy", "scipy", "torch", "safetensors", "sentence-transformers", "transformers",
                      "tomotopy")

logger = logging.getLogger(__name__)


def topics_file(language: str | None = None) -> str:
    """Name of the topics file of ``language`` (None: the primary language's)."""
    return TOPICS_FILE if language is None else f"topics-{language}.txt"


def write_run(directory: Path, model, *, corpus: str, n_documents: int, fit_seconds: float,
              read_options: dict | None = None, training_corpus=None, embeddings=None,
              stages: Stages | None = None) -> None:
    """Write a fitted ``model`` and how it was fitted into the existing ``directory``.

    Parameters
    ----------
    directory : Path
        An empty directory (the temporary one of :func:`~polytopic.persistence.atomic_directory`).
    model : TopicModel
        Fitted; read through ``write``, ``topic_word(language)``, ``languages_``,
        ``language_`` and ``vocabularies_``.
    corpus : str
        The training corpus as the user named it (``evaluate``'s default reference).
    n_documents, fit_seconds
        Size of the training corpus and the time ``fit`` took.
    read_options : dict, optional
        Keyword arguments of :func:`~polytopic.datasets.read_corpus` the corpus was read
        with (``text_field``, ``id_field``, ``language``, ``language_field``,
        ``image_field``), recorded as ``read_options`` so that ``evaluate`` reads the
        training corpus, and by default other files, alike.
    training_corpus : Corpus, optional
        The corpus ``model`` was fitted on: for a model with an image view, each topic's
        :data:`TYPICAL_TOP_N` most typical images of it are written to
        ``typical-images.json`` (their vectors come from the model's image encoder, or
        from ``embeddings``, the vectors the model was fitted with).
    stages : Stages, optional
        The stages before the fit (reading the corpus); recorded under ``stages`` in
        run.json with the model's ``fit_stages_`` and the writing of these files.
    """
    stages = Stages() if stages is None else stages
    stages.update(getattr(model, "fit_stages_", Stages()).stages)
    with stages.stage("write"):
        _write_model_files(directory, model, training_corpus, embeddings)
    write_json(directory / RUN_FILE, {
        "corpus": corpus, **({"read_options": dict(read_options)} if read_options is not None else {}),
        "model": model.name, "n_topics": model.n_topics_, "options": model.saved_params(),
        "language": model.language_, "languages": list(model.languages_), "n_documents": n_documents,
        "fit_seconds": round(fit_seconds, 3), "stages": stages.as_dict(), "versions": library_versions(),
    })


def _write_model_files(directory: Path, model, training_corpus, embeddings) -> None:
    """The saved model, its topic-word matrices, topics files and typical images."""
    model.write(directory)
    languages = tuple(model.languages_)
    matrices = {lang: np.asarray(model.topic_word(language=lang), dtype=np.float32) for lang in languages}
    write_arrays(directory / TOPIC_WORD_FILE, matrices)
    primary = model.language_
    _write_topics(directory / topics_file(), matrices[primary], model.vocabularies_[primary].words)
    if len(languages) > 1:
        for lang in languages:
            _write_topics(directory / topics_file(lang), matrices[lang], model.vocabularies_[lang].words)
    if training_corpus is not None and IMAGE_VIEW in model.views_:
        from polytopic.typical import image_record  # scipy, and the model's transform

        write_json(directory / TYPICAL_IMAGES_FILE, image_record(model, training_corpus, TYPICAL_TOP_N, embeddings))


def fit_run(model, corpus, out: str | Path, *, source: str | Path, read_options: dict | None = None,
            overwrite: bool = False, corpora=None, stages: Stages | None = None) -> Run:
    """Fit ``model`` on ``corpus`` into the run directory ``out``, as ``polytopic fit`` does.

    ``out`` is written in a temporary directory beside it (:func:`write_run`, with ``corpus``
    as the training corpus) and appears only when the fit and the writing succeed; an
    existing ``out`` is replaced only with ``overwrite``.

    Parameters
    ----------
    model : TopicModel
        Not yet fitted.
    corpus : Corpus
        Read from ``source`` with ``read_options`` (keyword arguments of
        :func:`~polytopic.datasets.read_corpus`), which run.json records.
    corpora : CorpusCache, optional
        Where the returned run finds ``corpus`` (a new one by default).
    stages : Stages, optional
        The stages that came before (reading ``corpus``), for run.json.

    Returns
    -------
    Run
        The run written, holding ``model`` and ``corpus``: scoring it loads and reads
        nothing again. Its ``fit_seconds`` is the time ``fit`` took.
    """
    with atomic_directory(out, overwrite=overwrite) as tmp:
        started = time.perf_counter()
        model.fit(corpus)
        seconds = time.perf_counter() - started
        write_run(tmp, model, corpus=str(source), n_documents=len(corpus), fit_seconds=seconds,
                  read_options=read_options, training_corpus=corpus, stages=stages)
    run = Run(out, read_json(Path(out) / RUN_FILE), model=model, corpora=corpora)
    run.corpora.add(source, corpus, **(read_options or {}))
    return run


def _write_topics(path: Path, matrix: np.ndarray, words) -> None:
    topics = top_words(matrix, words, TOPICS_FILE_TOP_N)
    path.write_text("".join(" ".join(t) + "\n" for t in topics), encoding="utf-8")


def library_versions() -> dict[str, str]:
    """polytopic's, Python's and the installed :data:`RECORDED_LIBRARIES`' versions."""
    versions = {"polytopic": __version__, "python": platform.python_version()}
    for library in RECORDED_LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[library] = metadata.version(library)
    return versions


def read_run(run_dir: str | Path) -> dict:
    """The contents of a run's ``run.json``."""
    return read_json(_existing(run_dir) / RUN_FILE)


def read_topics(run_dir: str | Path, top_n: int = 10, language: str | None = None) -> list[list[str]]:
    """The ``top_n`` words of each topic of a run in ``language`` (default: the primary).

    Read from ``topic_word.safetensors`` and ``vocabulary.json``, without torch; a run
    written before that file existed is read through its saved model.

    Raises
    ------
    ViewError
        If the run has no topic words in ``language``.
    ModelFileError
        If the run directory is missing, incomplete or corrupted.
    """
    if not isinstance(top_n, int) or top_n < 1:
        raise ParameterError(f"top_n must be a positive integer, got {top_n!r}")
    run_dir = _existing(run_dir)
    if not (run_dir / TOPIC_WORD_FILE).is_file():
        from polytopic.models import load_model  # imports torch: only for runs that predate topic_word

        return load_model(run_dir).topics(top_n=top_n, language=language)
    matrices = read_arrays(run_dir / TOPIC_WORD_FILE)
    language = language or _primary_language(run_dir)
    if language not in matrices:
        raise ViewError(f"{run_dir} has topic words for {sorted(matrices)}, not {language!r}")
    words = read_json(run_dir / VOCABULARY_FILE).get(language, {}).get("words")
    if words is None or len(words) != matrices[language].shape[1]:
        raise ModelFileError(f"{run_dir}: {VOCABULARY_FILE} does not match {TOPIC_WORD_FILE} for {language!r}")
    return top_words(matrices[language], words, top_n)


def read_typical_images(run_dir: str | Path, top_n: int = TYPICAL_TOP_N) -> list[list[str]]:
    """The paths of each topic's ``top_n`` most typical training images, most typical
    first, as recorded at fit time (``typical-images.json``; without torch). At most
    :data:`TYPICAL_TOP_N` are recorded: a larger ``top_n`` gives those, with a warning.

    Raises
    ------
    ViewError
        If the run's model has no image view.
    ModelFileError
        If the run directory is missing or corrupted, or records no typical images (a run
        written before they were, or by :func:`write_run` without ``training_corpus``:
        :func:`polytopic.typical.typical_images` computes them from the model and corpus).
    """
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ParameterError(f"top_n must be a positive integer, got {top_n!r}")
    topics, recorded = _typical_image_records(_existing(run_dir))
    if top_n > recorded:
        logger.warning("only the %d most typical images of each topic are recorded in %s; showing those",
                       recorded, run_dir)
    return [[entry["image"] for entry in topic[:top_n]] for topic in topics]


def _typical_image_records(run_dir: Path) -> tuple[list[list[dict]], int]:
    """typical-images.json: each topic's entries (``id``, ``image``, ``theta``) and how
    many were recorded per topic."""
    config = read_json(run_dir / CONFIG_FILE)
    views = (config.get("views") if isinstance(config, dict) else None) or []
    if IMAGE_VIEW not in views:
        raise ViewError(f"{run_dir} has no image view (its model learned {views}): only a model fitted with "
                        "images, such as m3l on a corpus read with --image-field, has typical images")
    path = run_dir / TYPICAL_IMAGES_FILE
    if not path.is_file():
        raise ModelFileError(f"{run_dir} records no typical images ({TYPICAL_IMAGES_FILE} is missing: the run was "
                             "written before they were recorded, or without its training corpus); "
                             "polytopic.typical.typical_images(model, corpus) computes them")
    record = read_json(path)
    try:
        topics = [[dict(entry, image=entry["image"]) for entry in topic] for topic in record["topics"]]
        recorded = int(record["top_n"])
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{path} is corrupted ({type(err).__name__}: {err})") from None
    return topics, recorded


def _primary_language(run_dir: Path) -> str:
    language = read_run(run_dir).get("language")
    if not isinstance(language, str):
        raise ModelFileError(f"{run_dir / RUN_FILE} names no language")
    return language


def write_metrics(run_dir: str | Path, metrics: dict) -> Path:
    """Write ``metrics.json`` into the run directory, whole or not at all."""
    path = Path(run_dir) / METRICS_FILE
    with atomic_file(path) as partial:
        write_json(partial, metrics)
    return path


def read_metrics(run_dir: str | Path) -> dict:
    """The contents of a run's ``metrics.json``."""
    return read_json(Path(run_dir) / METRICS_FILE)


def _existing(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ModelFileError(f"{run_dir}: no such run directory")
    return run_dir


class Run:
    """A run directory, opened: what ``evaluate``, ``report`` and ``sweep`` work on.

    ``run.json`` is read when the run is opened; the model is loaded on first use of
    :attr:`model` and kept; corpora are read through ``corpora`` (a
    :class:`~polytopic.datasets.CorpusCache`), once per file and reading options, so
    that runs opened with one cache share the reading of a corpus they all name.

    Parameters
    ----------
    path : path
        The run directory.
    info : dict
        Its run.json.
    model : TopicModel, optional
        The fitted model, when the caller has it in hand (:func:`fit_run`).
    corpora : CorpusCache, optional
        Shared with other runs (default: a cache of this run's own).
    """

    def __init__(self, path: str | Path, info: dict, *, model=None, corpora=None) -> None:
        from polytopic.datasets import CorpusCache  # scipy: not for the torch-free quick paths

        self.path = Path(path)
        self.info = info
        self.corpora = CorpusCache() if corpora is None else corpora
        if model is not None:
            self.model = model

    @classmethod
    def open(cls, path: str | Path, *, corpora=None) -> Run:
        """The run at ``path``: its run.json, read now (ModelFileError if missing or corrupted)."""
        return cls(path, read_run(path), corpora=corpora)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, model={self.info.get('model')!r})"

    @property
    def name(self) -> str:
        return self.path.name or str(self.path)

    @cached_property
    def model(self):
        """The saved model, loaded on first use (it imports torch), then kept."""
        from polytopic.models import load_model

        return load_model(self.path)

    @property
    def read_options(self) -> dict:
        """How the training corpus was read (keyword arguments of
        :func:`~polytopic.datasets.read_corpus`; empty for runs that predate them)."""
        return dict(self.info.get("read_options") or {})

    def corpus_path(self, reference: str | Path | None = None) -> Path:
        """``reference`` if given, else the training corpus run.json names.

        Raises
        ------
        ModelFileError
            If run.json names none, or the file named is not found from here.
        """
        if reference is not None:
            return Path(reference)
        if "corpus" not in self.info:
            raise ModelFileError(f"{self.path / RUN_FILE} names no training corpus; pass a reference corpus")
        path = Path(self.info["corpus"])
        if not path.exists():
            raise ModelFileError(
                f"the training corpus {path} named in {self.path / RUN_FILE} is not found from here; "
                "pass the reference corpus explicitly (--reference)"
            )
        return path

    def corpus(self, reference: str | Path | None = None, read_options: dict | None = None):
        """The training corpus read as at fit time, or the file ``reference`` read with
        ``read_options`` (default: as the training corpus was when no ``reference`` is
        given, else :func:`~polytopic.datasets.read_corpus`'s defaults)."""
        if read_options is None:
            read_options = self.read_options if reference is None else {}
        return self.corpora.read(self.corpus_path(reference), **read_options)

    def topics(self, top_n: int = 10, language: str | None = None) -> list[list[str]]:
        """:func:`read_topics` of this run."""
        return read_topics(self.path, top_n=top_n, language=language)

    @property
    def records_typical_images(self) -> bool:
        """Whether the run recorded its topics' typical training images at fit time."""
        return (self.path / TYPICAL_IMAGES_FILE).is_file()

    def typical_images(self) -> list[list[dict]]:
        """Each topic's recorded typical training images (``id``, ``image``, ``theta``),
        most typical first (see :func:`read_typical_images`)."""
        return _typical_image_records(self.path)[0]

    @property
    def metrics(self) -> dict | None:
        """The run's metrics.json, or None when it has none."""
        return read_metrics(self.path) if (self.path / METRICS_FILE).is_file() else None

    def write_metrics(self, metrics: dict, figures: dict[str, bytes] | None = None) -> Path:
        """Write ``figures`` (file name -> PNG bytes), then ``metrics.json``, each file
        whole or not at all; the path of metrics.json."""
        for name, data in (figures or {}).items():
            if Path(name).name != name:
                raise ParameterError(f"a figure of a run is a file name, not a path: {name!r}")
            with atomic_file(self.path / name) as partial:
                partial.write_bytes(data)
        return write_metrics(self.path, metrics)
