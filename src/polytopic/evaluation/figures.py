"""Static figures of scores (matplotlib, the ``report`` extra), drawn as PNG bytes: the
argmax-topic confusion matrices of an aligned evaluation, and a sweep's scores against K.

Without matplotlib nothing is drawn and one INFO line says how to install it; the scores
themselves never need it.
"""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Mapping

import numpy as np

from polytopic.errors import install_hint

logger = logging.getLogger(__name__)

#: The suggestion rules of :func:`polytopic.sweep.suggest_k`, as the sweep figure names them.
RULE_LABELS = {"topic_quality": "topic quality", "highest_npmi": "highest NPMI"}


def _figure(needs: str, size: tuple[float, float]):
    """A matplotlib Figure on the Agg canvas, or None without matplotlib, with the INFO
    line ``<needs> matplotlib: pip install ...``."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # the report extra
        from matplotlib.figure import Figure
    except ImportError:
        logger.info("%s matplotlib: %s", needs, install_hint("report"))
        return None
    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def confusion_figures(result: Mapping) -> dict[str, bytes]:
    """The argmax-topic confusion matrix of each unordered pair of views of an aligned
    evaluation (the first view's topics as rows), as PNG bytes keyed by file name
    ``confusion-<a>-<b>.png``; empty without matplotlib."""
    figures = {}
    for a, b in itertools.combinations(result["settings"]["views"], 2):
        figure = _figure("the confusion-matrix figures need", (5.5, 4.5))
        if figure is None:
            return {}
        pair = result["pairs"][f"{a}->{b}"]
        axes = figure.add_subplot()
        image = axes.imshow(np.asarray(pair["confusion"]), cmap="viridis", interpolation="nearest")
        figure.colorbar(image, ax=axes, label="items")
        axes.set_xlabel(f"argmax topic of the {b!r} view")
        axes.set_ylabel(f"argmax topic of the {a!r} view")
        match = pair["match"]
        axes.set_title(f"{pair['n_pairs']} aligned items, Match {match:.3f}" if match is not None
                       else f"{pair['n_pairs']} aligned items")
        figures[f"confusion-{a}-{b}.png"] = _png(figure)
    return figures


def sweep_figure(record: Mapping, name: str, diversity_top_n: int) -> bytes | None:
    """Mean NPMI and topic diversity of a sweep against K in two panels, the sd over
    seeds as error bars and the suggested K as a dashed line (PNG bytes; None without
    matplotlib; ``name`` is the file's, for that message)."""
    figure = _figure(f"the sweep figure {name} needs", (6, 5.5))
    if figure is None:
        return None
    by_k, suggestion = record["by_k"], record["suggestion"]
    ks = [entry["k"] for entry in by_k]
    panels = figure.subplots(2, 1, sharex=True)
    labels = (f"NPMI (top-{record['settings']['coherence_top_n']})", f"topic diversity (top-{diversity_top_n})")
    for axes, name, label in zip(panels, ("c_npmi", "topic_diversity"), labels):
        means = [np.nan if entry[name]["mean"] is None else entry[name]["mean"] for entry in by_k]
        sds = [0.0 if entry[name]["sd"] is None else entry[name]["sd"] for entry in by_k]
        axes.errorbar(ks, means, yerr=sds, marker="o", capsize=3)
        if suggestion["k"] is not None:
            axes.axvline(suggestion["k"], color="grey", linestyle="--",
                         label=f"suggested K = {suggestion['k']} ({RULE_LABELS[suggestion['rule']]})")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
    if suggestion["k"] is not None:
        panels[0].legend(loc="best")
    n_seeds = len(record["seeds"])
    panels[0].set_title(record["model"] + (f": mean ± sd over {n_seeds} seeds" if n_seeds > 1 else ""))
    panels[1].set_xlabel("number of topics K")
    panels[1].set_xticks(ks)
    return _png(figure)
