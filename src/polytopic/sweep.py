"""Fit one model at several topic counts K, score every fit, and suggest a K.

:func:`sweep` reads the corpus once and, for each K and seed, fits the model into a run
directory as ``polytopic fit`` writes one (:func:`polytopic.runs.fit_run`), scores the
model it has in hand as ``polytopic evaluate`` does (:func:`polytopic.evaluation.evaluate_run`,
the reference corpus counted once for every fit) and writes its ``metrics.json``. Sentence
vectors are encoded by the first fit only: the later ones read them back from the
encoder's on-disk cache (:mod:`polytopic.encoders.cache`). The sweep directory holds

- ``k<K>/`` per K, or ``k<K>-seed<S>/`` per K and seed when there are several seeds: a
  run directory with its ``metrics.json``;
- ``sweep.json``: a row per fit (K, seed, mean c_npmi, topic diversity, inverted RBO, fit
  seconds, run directory relative to the sweep's), the mean and sd over seeds per K, the
  settings of the scores (those of ``metrics.json``: reference corpus, top-N, windows...)
  and the suggested K with the rule that chose it (:func:`suggest_k`);
- ``sweep.tsv``: the per-K table;
- ``sweep.png``: mean NPMI and topic diversity against K, the sd over seeds as error
  bars, the suggested K marked (matplotlib, the ``report`` extra; without it only the
  figure is skipped, and a line says how to install it).

The directory appears only when every fit is written and scored
(:func:`~polytopic.persistence.atomic_directory`): a failure or Ctrl-C leaves nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from polytopic.datasets import CorpusCache
from polytopic.errors import ParameterError
from polytopic.evaluation import DIVERSITY_TOP_N, ReferenceCache, evaluate_run
from polytopic.evaluation.figures import sweep_figure
from polytopic.models.registry import MODEL_TABLE, model_class
from polytopic.persistence import atomic_directory, write_json
from polytopic.runs import fit_run

logger = logging.getLogger(__name__)

SWEEP_FILE = "sweep.json"
TABLE_FILE = "sweep.tsv"
FIGURE_FILE = "sweep.png"
#: The scores of a fit a sweep keeps (a row's keys beside k, seed, fit_seconds and run).
SCORES = ("c_npmi", "topic_diversity", "inverted_rbo")
#: The names of the rules of :func:`suggest_k`.
TOPIC_QUALITY, HIGHEST_NPMI = "topic_quality", "highest_npmi"


def sweep(source: str | Path, model_name: str, topics: Sequence[int], out: str | Path, *,
          seeds: Sequence[int] = (0,), options: dict | None = None, read_options: dict | None = None,
          overwrite: bool = False) -> dict:
    """Fit ``model_name`` with each of ``topics`` topics (and each seed) on the corpus at
    ``source``, score the fits and suggest a K; write it all into the directory ``out``.

    Parameters
    ----------
    source : path
        The corpus file (or folder), read once with ``read_options`` (keyword arguments of
        :func:`~polytopic.datasets.read_corpus`, recorded in each run.json); it is also the
        reference corpus of the scores.
    model_name : str
        A name of :data:`~polytopic.models.registry.MODEL_TABLE`.
    topics : sequence of int
        The values of K, each at least 2, no duplicates (:func:`check_topics`); fitted in
        ascending order.
    seeds : sequence of int
        Seeds of the fits of each K (distinct, non-negative): the scores of a K are their
        mean and sd.
    options : dict, optional
        Other constructor arguments of the model (not ``n_topics`` nor ``seed``).
    overwrite : bool
        Replace an existing ``out`` (only once the sweep is complete).

    Returns
    -------
    dict
        What ``sweep.json`` holds: ``model``, ``corpus``, ``read_options``, ``topics``,
        ``seeds``, ``settings``, ``rows``, ``by_k`` (:func:`summarise`) and ``suggestion``
        (:func:`suggest_k`).

    Raises
    ------
    ParameterError
        For bad ``topics``, ``seeds`` or ``options``, or a model with no K of its own to
        sweep (a distillation student takes its teacher's).
    ModelFileError
        If ``out`` exists and ``overwrite`` is false (before anything is fitted).
    """
    topics, seeds = check_topics(topics), _check_seeds(seeds)
    options, read_options = dict(options or {}), dict(read_options or {})
    model_cls = _model_class(model_name, options)
    out = Path(out)
    fits = [(k, seed) for k in topics for seed in seeds]
    with atomic_directory(out, overwrite=overwrite) as tmp:
        corpora, cache = CorpusCache(), ReferenceCache()
        corpus = corpora.read(source, **read_options)
        rows, settings, started = [], {}, time.perf_counter()
        for k, seed in fits:
            name = run_name(k, seed, several_seeds=len(seeds) > 1)
            run = fit_run(model_cls(n_topics=k, seed=seed, **options), corpus, tmp / name,
                          source=source, read_options=read_options, corpora=corpora)
            metrics = evaluate_run(run, cache=cache) | {"run": str(out / name)}
            run.write_metrics(metrics)
            settings = metrics["settings"]
            rows.append(_row(k, seed, name, metrics, run.info["fit_seconds"]))
            _log_progress(rows[-1], len(rows), len(fits), time.perf_counter() - started)
        by_k = summarise(rows)
        record = {"model": model_name, "corpus": str(source), "read_options": read_options, "topics": topics,
                  "seeds": seeds, "settings": settings, "rows": rows, "by_k": by_k, "suggestion": suggest_k(by_k)}
        write_json(tmp / SWEEP_FILE, record)
        write_table(tmp / TABLE_FILE, by_k)
        write_figure(tmp / FIGURE_FILE, record)
    _log_suggestion(record["suggestion"], out)
    return record


def check_topics(topics: Sequence[int]) -> list[int]:
    """The values of K of a sweep, ascending.

    Raises
    ------
    ParameterError
        If there are none, one is not an integer or is below 2 (one topic holds every
        word: nothing to compare), or one is given twice (each is named).
    """
    topics = list(topics)
    if not topics:
        raise ParameterError("give at least one number of topics K")
    if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) for k in topics):
        raise ParameterError(f"numbers of topics must be integers, got {topics}")
    small = sorted({int(k) for k in topics if k < 2})
    if small:
        raise ParameterError(f"numbers of topics must be at least 2, got {', '.join(map(str, small))}")
    repeated = sorted({int(k) for k in topics if topics.count(k) > 1})
    if repeated:
        raise ParameterError(f"numbers of topics given more than once: {', '.join(map(str, repeated))}")
    return sorted(int(k) for k in topics)


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if (not seeds or len(set(seeds)) < len(seeds)
            or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds)):
        raise ParameterError(f"seeds must be distinct non-negative integers, at least one; got {seeds}")
    return [int(s) for s in seeds]


def _model_class(model_name: str, options: dict) -> type:
    """The model's class, refusing what a sweep cannot vary or has no K to vary."""
    if model_name not in MODEL_TABLE:
        raise ParameterError(f"unknown model {model_name!r}; the models are {', '.join(MODEL_TABLE)}")
    fixed = sorted({"n_topics", "seed"} & set(options))
    if fixed:
        raise ParameterError(f"a sweep sets {' and '.join(fixed)} itself (from topics and seeds); "
                             "leave them out of the options")
    model_cls = model_class(model_name)
    if model_cls.takes_teacher:
        raise ParameterError(f"model {model_name!r} takes its teacher's number of topics: there is no K to sweep")
    return model_cls


def run_name(k: int, seed: int, several_seeds: bool) -> str:
    """The run directory of one fit inside the sweep's: ``k<K>``, or ``k<K>-seed<S>``."""
    return f"k{k}-seed{seed}" if several_seeds else f"k{k}"


def _row(k: int, seed: int, run: str, metrics: dict, seconds: float) -> dict:
    """A fit's row of sweep.json (scores from its metrics.json; None where undefined)."""
    diversity = metrics["diversity"]
    return {"k": k, "seed": seed, "c_npmi": metrics["coherence"]["c_npmi"]["mean"],
            "topic_diversity": diversity["topic_diversity"], "inverted_rbo": diversity["inverted_rbo"],
            "fit_seconds": seconds, "run": run}


def summarise(rows: list[dict]) -> list[dict]:
    """Per K, ascending: the number of fits, ``{"mean", "sd"}`` of each score and of the
    fit seconds over the seeds (sd with n - 1 degrees of freedom; None with one fit; a
    score that is None in a row is left out), and the ``topic_quality`` of the means
    (:func:`suggest_k`; None where a mean is)."""
    summary = []
    for k in sorted({row["k"] for row in rows}):
        group = [row for row in rows if row["k"] == k]
        entry = {"k": k, "n_fits": len(group)}
        for name in (*SCORES, "fit_seconds"):
            values = [row[name] for row in group if row[name] is not None]
            entry[name] = {"mean": float(np.mean(values)) if values else None,
                           "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None}
        npmi, diversity = entry["c_npmi"]["mean"], entry["topic_diversity"]["mean"]
        entry["topic_quality"] = None if npmi is None or diversity is None else npmi * diversity
        summary.append(entry)
    return summary


def suggest_k(by_k: list[dict]) -> dict:
    """The suggested K of a sweep and the rule that chose it.

    The rule is ETM's topic quality (Dieng et al. 2020, §5): TQ = coherence × diversity,
    here the mean c_npmi of each topic's top-10 words times the topic diversity of the
    top-25 words (the share of distinct words among them), each the mean over seeds; the
    K of highest TQ is suggested. When no K has a positive mean NPMI the product is
    meaningless (a negative coherence times a higher diversity ranks lower), and when a K
    has no diversity (a vocabulary of fewer than 25 words) there is no product: then the
    K of highest mean NPMI is suggested, and ``reason`` says why. Ties go to the smaller K.

    Parameters
    ----------
    by_k : list of dict
        :func:`summarise`'s entries (``k``, ``c_npmi["mean"]``, ``topic_quality``).

    Returns
    -------
    dict
        ``k`` (None if no K has an NPMI), ``rule`` (:data:`TOPIC_QUALITY` or
        :data:`HIGHEST_NPMI`), ``description``, and ``reason`` with the second rule.
    """
    npmi = {entry["k"]: entry["c_npmi"]["mean"] for entry in by_k}
    quality = {entry["k"]: entry["topic_quality"] for entry in by_k}
    if any(value is None for value in quality.values()):
        reason = (f"a K has no topic quality: no NPMI, or no topic diversity (fewer than {DIVERSITY_TOP_N} "
                  "vocabulary words)")
    elif not any(value > 0 for value in npmi.values()):
        reason = "no K has a positive mean NPMI, and topic quality (NPMI × diversity) ranks negative NPMI backwards"
    else:
        return {"k": _best(quality), "rule": TOPIC_QUALITY,
                "description": f"highest topic quality: mean c_npmi × mean topic diversity (top-{DIVERSITY_TOP_N}), "
                               "Dieng et al. 2020; ties to the smaller K"}
    return {"k": _best(npmi), "rule": HIGHEST_NPMI, "description": "highest mean c_npmi; ties to the smaller K",
            "reason": reason}


def _best(values: dict[int, float | None]) -> int | None:
    """The K of the highest value (None values left out), the smaller K on a tie."""
    scored = [(value, -k) for k, value in values.items() if value is not None]
    return -max(scored)[1] if scored else None


def _log_progress(row: dict, done: int, total: int, elapsed: float) -> None:
    """One line per fit: which, its scores, the time so far and an estimate of the rest
    (the mean time of a fit so far, times the fits left)."""
    left = f", about {_duration(elapsed / done * (total - done))} left" if done < total else ""
    logger.info("fit %d/%d: K=%d seed %d in %.1f s, c_npmi %s, topic diversity %s; %s elapsed%s",
                done, total, row["k"], row["seed"], row["fit_seconds"], _number(row["c_npmi"]),
                _number(row["topic_diversity"]), _duration(elapsed), left)


def _log_suggestion(suggestion: dict, out: Path) -> None:
    if suggestion["rule"] == HIGHEST_NPMI:
        logger.warning("suggesting K=%s by the highest mean NPMI, not topic quality: %s",
                       suggestion["k"], suggestion["reason"])
    logger.info("sweep written to %s (%s, %s, %s)", out, SWEEP_FILE, TABLE_FILE, FIGURE_FILE)


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s`` or ``2 h 07 min``."""
    seconds = round(seconds)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def write_table(path: Path, by_k: list[dict]) -> None:
    """The per-K table as TSV: K, fits, then mean and sd of each score, topic quality and
    mean fit seconds; an empty cell where a value is undefined."""
    header = ["k", "n_fits"]
    for name in SCORES:
        header += [name, f"{name}_sd"]
    header += ["topic_quality", "fit_seconds"]
    lines = ["\t".join(header)]
    for entry in by_k:
        values = [entry["k"], entry["n_fits"]]
        for name in SCORES:
            values += [entry[name]["mean"], entry[name]["sd"]]
        values += [entry["topic_quality"], entry["fit_seconds"]["mean"]]
        lines.append("\t".join("" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v) for v in values))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_figure(path: Path, record: dict) -> None:
    """Draw the sweep's scores against K (:func:`~polytopic.evaluation.figures.sweep_figure`)
    into ``path`` (PNG); without matplotlib nothing is drawn and one INFO line says so."""
    png = sweep_figure(record, FIGURE_FILE, DIVERSITY_TOP_N)
    if png is not None:
        path.write_bytes(png)
