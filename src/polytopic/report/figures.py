"""The report's interactive figures, drawn with plotly (the ``report`` extra) and embedded
as HTML fragments that call the plotly.js the page inlines once.

- the document map (:mod:`polytopic.report.map`), coloured by argmax topic, one marker
  shape per view, an aligned item's points joined by a thin line;
- the cross-lingual confusion matrix of argmax topics (Mueller & Dredze 2021, Fig. 3);
- the topic-similarity matrix (cosine of the topic-word distributions);
- per-topic coherence, weakest first.
"""

from __future__ import annotations

import numpy as np

from polytopic.errors import require
from polytopic.report.map import DocumentMap

#: Marker shapes of the views, in order of appearance.
SYMBOLS = ("circle", "diamond", "square", "triangle-up", "cross", "x", "star", "pentagon")
#: Items whose views are joined by lines on the map (more would hide the points).
JOINED_ITEMS = 300
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def require_report(module: str):
    """Import ``module`` of the ``report`` extra, or raise a :class:`DependencyError` naming it."""
    return require(module, "report", "the HTML report")


def plotly():
    """Plotly's graph objects."""
    return require_report("plotly.graph_objects")


def plotly_js() -> str:
    """plotly.js itself (minified), to inline in the page so it opens offline."""
    return require_report("plotly.offline").get_plotlyjs()


def fragment(figure, div_id: str) -> str:
    """The HTML of ``figure`` (a div and the script drawing it), without plotly.js."""
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOT_CONFIG)


def map_figure(doc_map: DocumentMap, topic_labels: list[str]):
    """Scatter of the map's points: a trace per topic (click the legend to hide one), a
    marker shape per view, and the first :data:`JOINED_ITEMS` multi-view items joined."""
    go = plotly()
    views = list(dict.fromkeys(doc_map.view))
    symbol = {view: SYMBOLS[i % len(SYMBOLS)] for i, view in enumerate(views)}
    view = np.asarray(doc_map.view)
    figure = go.Figure()
    if len(views) > 1:
        figure.add_trace(_joins(go, doc_map))
    for k in np.unique(doc_map.topic):
        rows = np.flatnonzero(doc_map.topic == k)
        figure.add_trace(go.Scatter(
            x=doc_map.x[rows], y=doc_map.y[rows], mode="markers", name=f"{k}: {topic_labels[k]}",
            marker={"size": 6, "opacity": 0.8, "symbol": [symbol[v] for v in view[rows]]},
            text=[doc_map.hover[r] for r in rows], hoverinfo="text"))
    figure.update_layout(height=650, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"itemsizing": "constant"},
                         xaxis={"visible": False}, yaxis={"visible": False}, plot_bgcolor="white",
                         title=" · ".join(f"{symbol[v]} = {v}" for v in views) if len(views) > 1 else None)
    return figure


def _joins(go, doc_map: DocumentMap):
    """One line trace through each multi-view item's points (None breaks between items)."""
    xs, ys = [], []
    items, counts = np.unique(doc_map.item, return_counts=True)
    for item in items[counts > 1][:JOINED_ITEMS]:
        rows = np.flatnonzero(doc_map.item == item)
        xs += [*doc_map.x[rows], None]
        ys += [*doc_map.y[rows], None]
    return go.Scatter(x=xs, y=ys, mode="lines", line={"width": 0.5, "color": "rgba(120,120,120,0.35)"},
                      hoverinfo="skip", name="same item", showlegend=True)


def confusion_figure(pair: dict, source_labels: list[str], target_labels: list[str]):
    """Heatmap of a view pair's argmax-topic confusion counts (rows: the source view)."""
    go = plotly()
    counts = np.asarray(pair["confusion"])
    match = pair.get("match")
    title = f"{pair['source']} → {pair['target']}: {pair.get('n_pairs', int(counts.sum()))} aligned items" + (
        f", Match {match:.3f}" if match is not None else "")
    figure = go.Figure(go.Heatmap(
        z=counts, x=[f"{k}: {w}" for k, w in enumerate(target_labels)],
        y=[f"{k}: {w}" for k, w in enumerate(source_labels)], colorscale="Viridis",
        hovertemplate=f"{pair['source']} %{{y}}<br>{pair['target']} %{{x}}<br>%{{z}} items<extra></extra>"))
    size = 220 + 14 * counts.shape[0]
    figure.update_layout(title=title, height=size, width=size + 120, xaxis={"showticklabels": False,
                         "title": f"argmax topic ({pair['target']})"}, yaxis={"showticklabels": False,
                         "title": f"argmax topic ({pair['source']})", "autorange": "reversed"},
                         margin={"t": 50})
    return figure


def similarity_figure(similarity: np.ndarray, labels: list[str]):
    """Heatmap of the topic-similarity matrix, the diagonal blanked."""
    go = plotly()
    shown = np.array(similarity, dtype=float)
    np.fill_diagonal(shown, np.nan)
    names = [f"{k}: {w}" for k, w in enumerate(labels)]
    figure = go.Figure(go.Heatmap(z=shown, x=names, y=names, colorscale="RdBu", reversescale=True, zmid=0,
                                  zmin=-1, zmax=1,
                                  hovertemplate="%{y}<br>%{x}<br>cosine %{z:.3f}<extra></extra>"))
    size = 220 + 14 * shown.shape[0]
    figure.update_layout(height=size, width=size + 120, xaxis={"showticklabels": False},
                         yaxis={"showticklabels": False, "autorange": "reversed"}, margin={"t": 20})
    return figure


def coherence_figure(per_topic: list, labels: list[str], measure: str):
    """Bars of each topic's coherence under ``measure``, weakest first."""
    go = plotly()
    values = np.array([np.nan if v is None else v for v in per_topic], dtype=float)
    order = np.argsort(np.nan_to_num(values, nan=np.inf), kind="stable")
    figure = go.Figure(go.Bar(
        x=[f"{k}" for k in order], y=values[order], text=[labels[k] for k in order], textposition="none",
        marker={"color": ["#c0392b" if v < 0 else "#2e86c1" for v in np.nan_to_num(values[order])]},
        hovertemplate="topic %{x}: %{text}<br>%{y:.3f}<extra></extra>"))
    figure.update_layout(height=320, margin={"t": 20, "b": 40}, xaxis={"type": "category", "title": "topic"},
                         yaxis={"title": measure})
    return figure
