"""Render :class:`~polytopic.report.data.RunReport` objects as one self-contained HTML file.

The page inlines everything it uses: plotly.js (once), the figures' data, the styles and
the icons (PNG data URIs), so it opens offline and can be mailed; it makes no network
request. The template is ``templates/report.html.j2`` (jinja2, autoescaped). Several runs
make one page: a comparison table of their metrics and their topics side by side, then
each run's own sections.
"""

from __future__ import annotations

import datetime
import itertools
import json
import math
from pathlib import Path

from polytopic.errors import ParameterError
from polytopic.evaluation.tables import comparison_rows
from polytopic.persistence import atomic_file
from polytopic.report.data import RunReport
from polytopic.report.figures import (
    coherence_figure,
    confusion_figure,
    fragment,
    map_figure,
    plotly_js,
    require_report,
    similarity_figure,
)
from polytopic.version import __version__

TEMPLATE = "report.html.j2"
#: The coherence measure drawn per topic and shown in the topic table.
TOPIC_MEASURE = "c_npmi"
#: Words of a topic in figure labels and the side-by-side comparison.
LABEL_WORDS = 3


def render(reports: list[RunReport]) -> str:
    """The HTML page of ``reports`` (one run, or several compared).

    Raises
    ------
    ParameterError
        If ``reports`` is empty, or the runs model different primary languages (their
        topics and coherence would not be comparable: report each run on its own).
    DependencyError
        If plotly or jinja2 (the ``report`` extra) is missing.
    """
    if not reports:
        raise ParameterError("a report needs at least one run")
    primary = {r.name: r.facts.get("language") for r in reports}
    if len(set(primary.values())) > 1:
        raise ParameterError(f"the runs model different primary languages ({primary}): their topics and coherence "
                             "are not comparable; report each run on its own")
    jinja2 = require_report("jinja2")
    environment = jinja2.Environment(loader=jinja2.PackageLoader("polytopic.report", "templates"),
                                     autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.filters["num"] = _number
    environment.filters["as_json"] = lambda value: json.dumps(value, ensure_ascii=False, indent=1, default=str)
    sections = [_section(r, i) for i, r in enumerate(reports)]
    return environment.get_template(TEMPLATE).render(
        title=" vs ".join(r.name for r in reports), reports=sections, comparison=_comparison(reports),
        plotly_js=plotly_js(), version=__version__, measure=TOPIC_MEASURE,
        generated=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def write(reports: list[RunReport], path: str | Path) -> Path:
    """Render ``reports`` into ``path``, whole or not at all."""
    page = render(reports)
    path = Path(path)
    with atomic_file(path) as partial:
        partial.write_text(page, encoding="utf-8")
    return path


def _section(report: RunReport, number: int) -> dict:
    """What the template shows of one run: the report and its figures' HTML fragments."""
    primary = report.facts.get("language")
    labels = [" ".join(t.words[primary][:LABEL_WORDS]) for t in report.topics]
    figures = {}
    if report.document_map is not None:
        figures["map"] = fragment(map_figure(report.document_map, labels), f"figure-map-{number}")
    per_topic = [t.coherence.get(primary, {}).get(TOPIC_MEASURE) for t in report.topics]
    if any(v is not None for v in per_topic):
        figures["coherence"] = fragment(coherence_figure(per_topic, labels, TOPIC_MEASURE),
                                        f"figure-coherence-{number}")
    if len(report.topics) > 1:
        figures["similarity"] = fragment(similarity_figure(report.similarity, labels), f"figure-similarity-{number}")
    confusions = []
    alignment = report.alignment or {}
    views = alignment.get("settings", {}).get("views", [])
    for source, target in itertools.combinations(views, 2):  # each pair once, as evaluate draws them
        pair = alignment["pairs"][f"{source}->{target}"]
        confusions.append(fragment(confusion_figure(pair, _labels(report, source), _labels(report, target)),
                                   f"figure-confusion-{number}-{len(confusions)}"))
    order = sorted(report.topics, key=lambda t: -t.share)
    return {"report": report, "number": number, "labels": labels, "figures": figures, "confusions": confusions,
            "topics_by_share": order, "max_share": max((t.share for t in order), default=1.0) or 1.0,
            "metric_rows": _metric_rows(report.metrics), "measure": TOPIC_MEASURE}


def _labels(report: RunReport, view: str) -> list[str]:
    """A few words per topic in ``view``'s language (the primary language's for a view
    without words: images, zero-shot languages)."""
    language = view if view in report.topics[0].words else report.facts.get("language")
    return [" ".join(t.words[language][:LABEL_WORDS]) for t in report.topics]


def _metric_rows(metrics: dict) -> list[tuple[str, object]]:
    """The metrics table of one run; the alignment's pair scores have their own table."""
    pairs = {f"{p['source']}→{p['target']}" for p in (metrics.get("alignment") or {}).get("pairs", {}).values()}
    return [(name, values[0]) for name, values in comparison_rows([metrics]) if name.split(" ")[0] not in pairs]


def _comparison(reports: list[RunReport]):
    """Rows of the metrics side by side and the topics side by side (by share), or None
    for a single run."""
    if len(reports) < 2:
        return None
    ranked = [sorted(r.topics, key=lambda t: -t.share) for r in reports]
    depth = max(len(topics) for topics in ranked)
    side = [[(topics[i] if i < len(topics) else None) for topics in ranked] for i in range(depth)]
    return {"rows": comparison_rows([r.metrics for r in reports]), "topics": side,
            "references": sorted({str(r.metrics.get("settings", {}).get("reference_corpus")) for r in reports})}


def _number(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.{digits}f}"
