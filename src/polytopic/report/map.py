"""The report's map of the documents: each item's topic distribution θ laid out in two
dimensions, as the papers' t-SNE figures of document representations do.

The layout is of √θ under the Euclidean distance, which is the Hellinger distance between
topic distributions up to a constant (√2), so documents with similar topic mixtures land
together whatever the model. UMAP (McInnes et al. 2018) lays it out when ``umap-learn`` is
installed, t-SNE (van der Maaten & Hinton 2008; scikit-learn) otherwise. An aligned item
contributes one point per view (each language, its image), so its translations can be
drawn joined to it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from polytopic.corpus import Corpus
from polytopic.models.views import IMAGE

#: t-SNE's perplexity (scikit-learn's default), lowered for small maps.
PERPLEXITY = 30.0
#: UMAP's neighbourhood size (its default).
NEIGHBOURS = 15


@dataclass
class DocumentMap:
    """Points of the map, one per (item, view): coordinates, the view, the argmax topic,
    the item's corpus position and its hover label."""

    x: np.ndarray
    y: np.ndarray
    view: list[str]
    topic: np.ndarray
    item: np.ndarray
    hover: list[str]
    method: str
    n_items: int
    n_total: int


def document_map(corpus: Corpus, theta: dict[str, np.ndarray], positions: dict[str, np.ndarray],
                 topic_words: list[list[str]], *, n_items: int, seed: int, hover_chars: int) -> DocumentMap:
    """Lay out a uniform sample of ``n_items`` items (all when fewer), one point per view.

    Parameters
    ----------
    corpus : Corpus
    theta, positions : {view: ndarray}
        Each view's θ (rows, K) and the corpus positions of its rows, ascending.
    topic_words : list of list of str
        A few words of each topic, for the hover labels.
    n_items : int
        Items to draw.
    seed : int
        Seed of the sample and of the layout.
    hover_chars : int
        Characters of the text shown on hover.
    """
    every = np.unique(np.concatenate([positions[v] for v in theta]))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(every, size=n_items, replace=False)) if every.size > n_items else every
    rows, views, items, texts = [], [], [], []
    for view, matrix in theta.items():
        keep = np.flatnonzero(np.isin(positions[view], sample))
        rows.append(matrix[keep])
        views += [view] * keep.size
        items.append(positions[view][keep])
        shown = corpus.images if view == IMAGE else corpus.texts(view)  # images: per item; texts: per row
        texts += [shown[p] for p in positions[view][keep]] if view == IMAGE else [shown[r] for r in keep]
    points = np.vstack(rows)
    item = np.concatenate(items)
    topic = np.argmax(points, axis=1)
    xy, method = layout(np.sqrt(np.clip(points, 0.0, None)), seed)
    hover = [hover_text(str(corpus.ids[p]), view, int(k), topic_words[k], text, hover_chars)
             for p, view, k, text in zip(item, views, topic, texts)]
    return DocumentMap(x=xy[:, 0], y=xy[:, 1], view=views, topic=topic, item=item, hover=hover, method=method,
                       n_items=int(sample.size), n_total=int(every.size))


def layout(points: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    """2-d coordinates of ``points`` (n, d) and a sentence naming the method and settings."""
    n = points.shape[0]
    if n < 4:  # too few for a neighbourhood embedding: the first two principal axes
        centred = points - points.mean(axis=0)
        axes = np.linalg.svd(centred, full_matrices=False)[2][:2] if n > 1 else np.zeros((2, points.shape[1]))
        xy = np.zeros((n, 2))
        xy[:, : axes.shape[0]] = centred @ axes.T
        return xy, "principal axes of sqrt(theta) (fewer than 4 points)"
    try:
        import umap  # the umap extra
    except ImportError:
        from sklearn.manifold import TSNE

        perplexity = min(PERPLEXITY, (n - 1) / 3)
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
        return (tsne.fit_transform(points),
                f"t-SNE (scikit-learn {metadata.version('scikit-learn')}) of sqrt(theta), Euclidean "
                f"(= Hellinger distance), perplexity {perplexity:g}, seed {seed}; "
                "install umap-learn for UMAP")
    neighbours = min(NEIGHBOURS, n - 1)
    reducer = umap.UMAP(n_components=2, n_neighbors=neighbours, random_state=seed)
    return (reducer.fit_transform(points),
            f"UMAP (umap-learn {metadata.version('umap-learn')}) of sqrt(theta), Euclidean (= Hellinger "
            f"distance), {neighbours} neighbours, seed {seed}")


def snippet(text: str, limit: int) -> str:
    """``text`` with its whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def hover_text(item_id: str, view: str, topic: int, words: list[str], text: str | None, limit: int) -> str:
    """The hover label of one point: id, view, argmax topic and its words, and the start
    of the text, HTML-escaped (plotly renders labels as HTML)."""
    lines = [f"<b>{html.escape(item_id)}</b> [{html.escape(view)}]",
             f"topic {topic}: {html.escape(' '.join(words))}"]
    if text:
        lines.append(html.escape(snippet(text, limit)))
    return "<br>".join(lines)

