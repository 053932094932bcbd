"""Fine-tuned sentence encoders for topic modelling (Mueller & Dredze 2021, §3–5).

:func:`finetune` adapts a sentence-transformers encoder to a corpus by one of the tasks
of :mod:`polytopic.finetuning.tasks` — topic classification on LDA labels (§3.2), document
classification on a label field (§3.1), aligned translation pairs (the offline stand-in
for NLI, §3.1), continued masked-LM pre-training (§3.3) — and writes a sentence-transformers
folder that any model takes as its encoder (``CombinedTM(encoder=folder)``, ``polytopic fit
--encoder folder``). Continued pre-training then fine-tuning (CPT+FT, §5) is a second call
whose ``base`` is the first's output. The folder's vector-cache identity is the content of
its files (:mod:`polytopic.encoders.identity`), so it never reads its base's cached vectors.

Training is the seeded loop of :mod:`polytopic.finetuning.loop` (AdamW, linear warm-up
and decay, a progress bar, a time estimate after the first steps). Its settings per task
(:data:`DEFAULTS`) are the authors': sentence-transformers' ``fit`` defaults (learning rate
2e-5, 10 % warm-up, weight decay 0.01) with the paper's batch of 16 (§4) for
classification, one epoch for topic labels and two for document labels (their
``training_topic.py``, ``training_mldoc.py``); the same for pairs (their NLI run is
sentence-transformers' own NLI example, ``train_nli.sh``) but with batches of 64, since the
batch is each pair's set of negatives and more negatives make the ranking harder (Henderson
et al. 2017); and for MLM their ``cpt/continue_pretraining.sh``: one epoch, learning rate
1e-4, batches of 256 (there 4 × 64 accumulated, here micro-batches of :data:`MICRO_BATCH`),
transformers' defaults of no warm-up and no weight decay. Their continued pre-training read
512-token blocks of concatenated text; here each document is one input, cut at the
encoder's window.

The masked-LM head comes from the base's folder where it has one; a sentence-transformers
model usually has none (the packaged MiniLM and multilingual-e5-small do not), so the head's
transform layer and output bias start fresh (its decoder is tied to the word embeddings),
and a log line says so. Only the encoder is kept: the classification heads and the MLM head
are dropped when the folder is written.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from polytopic.corpus import Corpus
from polytopic.encoders import DEFAULT_ENCODER, ENCODERS, SentenceTransformerEncoder, get_encoder
from polytopic.encoders.base import covers
from polytopic.encoders.sentence import resolve_model_path, sentence_transformers_modules
from polytopic.errors import EncoderError, ParameterError
from polytopic.finetuning import tasks
from polytopic.finetuning.loop import MICRO_BATCH, Objective, Schedule, train
from polytopic.finetuning.tasks import TASKS
from polytopic.models.base import as_corpus, seeded
from polytopic.models.topic_labels import DEFAULT_GRID
from polytopic.persistence import atomic_directory, write_json
from polytopic.runs import library_versions

logger = logging.getLogger(__name__)

RECORD_FILE = "polytopic-finetune.json"

#: Each task's training settings (the sources are in the module docstring).
DEFAULTS = {
    "topics": Schedule(epochs=1, batch_size=16, learning_rate=2e-5, warmup=0.1, weight_decay=0.01),
    "labels": Schedule(epochs=2, batch_size=16, learning_rate=2e-5, warmup=0.1, weight_decay=0.01),
    "pairs": Schedule(epochs=1, batch_size=64, learning_rate=2e-5, warmup=0.1, weight_decay=0.01),
    "mlm": Schedule(epochs=1, batch_size=256, learning_rate=1e-4, warmup=0.0, weight_decay=0.0),
}


@dataclass(frozen=True)
class Base:
    """The encoder fine-tuning starts from: as named, its folder, its cache identity, the
    prefix its texts are encoded with, and the languages it declares."""

    name: str
    path: Path
    identity: str
    prompt: str
    languages: frozenset | None


def resolve_base(base: str | Path | None) -> Base:
    """The sentence-transformers encoder ``base`` names, resolved as encoders are
    (:func:`~polytopic.encoders.get_encoder`): the packaged ``all-MiniLM-L6-v2`` (default),
    ``multilingual-e5-small`` (converted on first use), or a sentence-transformers folder.

    Raises
    ------
    EncoderError
        For an encoder that is not a sentence-transformers model (``use-multilingual``, the
        static ones), a name that is neither registered nor a folder, or a folder that is
        not a sentence-transformers model (naming what is missing).
    """
    spec = DEFAULT_ENCODER if base is None else str(base)
    tunable = f"{DEFAULT_ENCODER}, multilingual-e5-small, or a sentence-transformers folder"
    if not Path(spec).is_dir() and spec not in ENCODERS and resolve_model_path(spec) == spec:
        raise EncoderError(f"{spec!r} is neither a directory nor an encoder name; fine-tuning starts from {tunable}")
    encoder = get_encoder(spec, progress=False)
    if not isinstance(encoder, SentenceTransformerEncoder):
        raise EncoderError(f"{spec!r} is not a sentence-transformers model and cannot be fine-tuned; give {tunable}")
    path = Path(encoder.model_path)  # e5: converted on first use
    sentence_transformers_modules(path)
    return Base(spec, path, encoder.identity, getattr(encoder, "prefix", ""), encoder.languages)


def finetune(corpus: Corpus | Sequence[str], task: str, out: str | Path, *, base: str | Path | None = None,
             label_field: str | None = None, languages: Sequence[str] | None = None, language: str | None = None,
             grid: Sequence[int] | None = None, topic_options: dict | None = None, epochs: int | None = None,
             batch_size: int | None = None, learning_rate: float | None = None, seed: int = 0,
             device: str | None = None, overwrite: bool = False, progress: bool = True) -> Path:
    """Fine-tune ``base`` on ``corpus`` by ``task`` and write it to the folder ``out``.

    Parameters
    ----------
    corpus : Corpus or list of str
    task : {"topics", "labels", "pairs", "mlm"}
        See :mod:`polytopic.finetuning.tasks`.
    out : str or Path
        The sentence-transformers folder to write, with ``polytopic-finetune.json`` (what
        produced it). It appears only when fine-tuning succeeded: an error or Ctrl-C
        leaves nothing.
    base : str or Path, optional
        The encoder to start from (:func:`resolve_base`; default: the packaged MiniLM; use
        ``multilingual-e5-small`` for multilingual work).
    label_field : str
        ``labels`` only: the corpus's label field to classify (every document needs one).
    languages : sequence of str, optional
        ``pairs`` only: the languages to pair, two or more (every two of them; default:
        all the corpus's).
    language : str, optional
        The texts to train on (``topics``, ``labels``: default the primary language;
        ``mlm``: default every language).
    grid : sequence of int, optional
        ``topics`` only: the numbers of LDA topics searched by NPMI (default
        :data:`~polytopic.models.topic_labels.DEFAULT_GRID`).
    topic_options : dict, optional
        ``topics`` only: other arguments of :func:`~polytopic.models.topic_labels.choose_topics`
        (``top_n``, ``iterations``, ``vocabulary_size``, ...).
    epochs, batch_size, learning_rate : optional
        Override the task's :data:`DEFAULTS`.
    seed : int
        Seeds the labels' LDA, the order of examples, dropout, masking and the heads:
        the same seed gives the same weights on the CPU.
    device : str, optional
        Default: CUDA when available.
    overwrite : bool
        Replace an existing ``out``.
    progress : bool
        Progress bars.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ParameterError
        An unknown task, an option the task does not take, a label field missing from
        some documents, a single class.
    CorpusError
        No aligned pair, a language the corpus lacks.
    EncoderError
        A ``base`` that cannot be fine-tuned (:func:`resolve_base`).
    ModelFileError
        ``out`` exists and ``overwrite`` is false.
    """
    schedule = _schedule(task, epochs, batch_size, learning_rate)
    _check_options(task, label_field=label_field, languages=languages, grid=grid, topic_options=topic_options,
                   language=language)
    corpus = as_corpus(corpus, language)
    out = Path(out)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        started = time.perf_counter()
        start = resolve_base(base)
        with seeded(seed, device) as (rng, resolved):
            examples, source = _examples(task, corpus, start, seed, progress, label_field=label_field,
                                         languages=languages, language=language, grid=grid,
                                         topic_options=topic_options or {})
            model, prompt = _load(start, resolved)
            objective = _objective(task, examples, model, start, prompt, rng)
            logger.info("fine-tuning %s on %d examples (%s): %d epochs of %d steps, batch %d, learning rate %g",
                        start.name, objective.n_examples, task, schedule.epochs,
                        math.ceil(objective.n_examples / schedule.batch_size), schedule.batch_size,
                        schedule.learning_rate)
            losses = train(objective, schedule, rng, progress=progress, description=f"fine-tuning ({task})")
            if task == "mlm":
                _copy_encoder_weights(objective.modules[0], model)
        _save(model, prompt, tmp)
        seconds = time.perf_counter() - started
        write_json(tmp / RECORD_FILE, _record(task, start, source, objective, schedule, losses, seed, prompt,
                                              seconds))
    logger.info("fine-tuned %s (%s) in %.0f s -> %s", start.name, task, seconds, out)
    return out


def _schedule(task: str, epochs, batch_size, learning_rate) -> Schedule:
    if task not in TASKS:
        raise ParameterError(f"unknown fine-tuning task {task!r}; choose one of {', '.join(TASKS)}")
    given = {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate}
    for name, value in given.items():
        if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
                                      and (name == "learning_rate" or float(value).is_integer())):
            raise ParameterError(f"{name} must be a positive {'number' if name == 'learning_rate' else 'integer'}, "
                                 f"got {value!r}")
    return replace(DEFAULTS[task], **{k: (int(v) if k != "learning_rate" else float(v))
                                      for k, v in given.items() if v is not None})


#: The options only some tasks take.
_TASK_OPTIONS = {"label_field": ("labels",), "languages": ("pairs",), "grid": ("topics",),
                 "topic_options": ("topics",), "language": ("topics", "labels", "mlm")}


def _check_options(task: str, **options) -> None:
    for name, value in options.items():
        if value is not None and task not in _TASK_OPTIONS[name]:
            raise ParameterError(f"{name} is for the task(s) {', '.join(_TASK_OPTIONS[name])}, not {task!r}")
    if task == "labels" and not options["label_field"]:
        raise ParameterError("the labels task needs label_field, the corpus's label field to classify")


def _examples(task: str, corpus: Corpus, start: Base, seed: int, progress: bool, *, label_field, languages,
              language, grid, topic_options):
    """The task's examples (labelled texts, text pairs or texts) and a record of them."""
    if task in ("topics", "labels"):
        data = (tasks.topic_labels(corpus, language, grid or DEFAULT_GRID, seed, progress, topic_options)
                if task == "topics" else tasks.corpus_labels(corpus, label_field, language))
        _warn_uncovered(start, [language or corpus.primary_language])
        return data, {"labels": data.source, "n_labels": len(data.names), "label_names": data.names}
    if task == "pairs":
        pairs, record = tasks.translation_pairs(corpus, languages)
        _warn_uncovered(start, record["languages"])
        return pairs, record
    texts = tasks.mlm_texts(corpus, language)
    used = [language] if language else list(corpus.languages)
    _warn_uncovered(start, used)
    return texts, {"languages": used, "mlm_probability": tasks.MLM_PROBABILITY}


def _objective(task: str, examples, model, start: Base, prompt: str, rng: np.random.Generator) -> Objective:
    """The task's objective on ``model`` (a classifier head drawn from ``rng``)."""
    if task in ("topics", "labels"):
        generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
        return tasks.classification_objective(model, examples, prompt, generator)
    if task == "pairs":
        return tasks.pairs_objective(model, examples, prompt, MICRO_BATCH)
    return tasks.mlm_objective(_masked_lm(model, start), model.tokenizer, examples, model.max_seq_length, prompt)


def _warn_uncovered(start: Base, languages: list[str]) -> None:
    missing = [lang for lang in languages if not covers(start, lang)]
    if missing:
        logger.warning("%s was not trained on %s texts; for other languages than %s start from a multilingual "
                       "encoder (multilingual-e5-small)", start.name, ", ".join(missing),
                       ", ".join(sorted(start.languages)))


# -- the model -----------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet_transformers():
    """Transformers' load reports and weight-loading bars off while the block runs."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _load(start: Base, device):
    """The base's sentence-transformers model on ``device``, and the prefix of its texts:
    the registered encoder's (e5: ``"passage: "``), else the folder's default prompt."""
    from sentence_transformers import SentenceTransformer

    with _quiet_transformers():
        try:
            model = SentenceTransformer(str(start.path), device=str(device))
        except Exception as err:  # the library raises many types for a broken folder
            raise EncoderError(f"cannot load the sentence-transformers model in {start.path} ({err})") from err
    prompt = start.prompt or model.prompts.get(model.default_prompt_name or "", "") or ""
    return model, prompt


def _masked_lm(model, start: Base):
    """A transformers masked-LM model on the weights of ``model``'s transformer module,
    read from the base's folder with the head it has there (else a fresh one, said so)."""
    from transformers import AutoModelForMaskedLM

    folder = start.path / sentence_transformers_modules(start.path)[0].get("path", "")
    with _quiet_transformers():
        masked_lm, info = AutoModelForMaskedLM.from_pretrained(folder, output_loading_info=True)
    prefix = masked_lm.base_model_prefix + "."
    fresh = sorted(key for key in info["missing_keys"] if not key.startswith(prefix))
    if fresh:
        logger.info("%s has no masked-LM head: its %d weights (%s) start fresh", start.name, len(fresh),
                    ", ".join(fresh))
    return masked_lm.to(model.device)


def _copy_encoder_weights(masked_lm, model) -> None:
    """Put the trained transformer weights of ``masked_lm`` back into ``model``'s module."""
    target = model[0].auto_model
    missing, unexpected = target.load_state_dict(masked_lm.base_model.state_dict(), strict=False)
    if unexpected or any(not key.startswith("pooler.") for key in missing):
        raise EncoderError(f"the masked-LM model's weights do not fit the encoder (missing {missing}, "
                           f"unexpected {unexpected})")


def _save(model, prompt: str, folder: Path) -> None:
    """Write ``model`` as a sentence-transformers folder whose default prompt is ``prompt``
    (so that the folder, loaded by path, encodes texts as they were trained)."""
    if prompt:
        name = next((k for k, v in model.prompts.items() if v == prompt), "document")
        model.prompts[name] = prompt
        model.default_prompt_name = name
    with _quiet_transformers():
        model.save(str(folder), create_model_card=False)


def _record(task, start: Base, source: dict, objective: Objective, schedule: Schedule, losses, seed, prompt,
            seconds) -> dict:
    return {"task": task, "base": {"name": start.name, "path": str(start.path), "identity": start.identity},
            **source, "n_examples": objective.n_examples, **asdict(schedule), "micro_batch": MICRO_BATCH,
            "epoch_losses": [round(loss, 6) for loss in losses], "seed": seed, "prompt": prompt,
            "seconds": round(seconds, 1), "versions": library_versions()}
