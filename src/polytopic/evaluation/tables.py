"""Tables of scores: the rows of one or several runs' metrics side by side, and their
plain-text layout (``evaluate``, ``compare``, ``sweep`` and the report's metrics table)."""

from __future__ import annotations

from polytopic.evaluation.scores import DIVERSITY_TOP_N
from polytopic.metrics import MEASURES
from polytopic.metrics.intrusion import NAME as INTRUSION_NAME


def comparison_rows(results: list[dict]) -> list[tuple[str, list]]:
    """Rows ``(metric name, [value per run])`` of the metrics any of ``results`` has."""
    rows: list[tuple[str, list]] = [("model", [r.get("model") for r in results]),
                                    ("topics", [r.get("n_topics") for r in results])]
    for name in MEASURES:
        rows.append((f"coherence {name}", [r["coherence"][name]["mean"] for r in results]))
    rows.append((f"topic diversity (top-{DIVERSITY_TOP_N})", [r["diversity"]["topic_diversity"] for r in results]))
    rows.append(("inverted RBO", [r["diversity"]["inverted_rbo"] for r in results]))
    for key, label in (("argmax_topic", "argmax topic"), ("kmeans_doc_topic", "K-means on doc-topic"),
                       ("kmeans_representation", "K-means on doc representation")):
        if any(key in r.get("clustering", {}) for r in results):
            for score, shown in (("nmi", "NMI"), ("purity", "purity")):
                rows.append((f"{label} {shown}", [r.get("clustering", {}).get(key, {}).get(score) for r in results]))
    if any("intrusion_proxy" in r for r in results):
        rows.append((INTRUSION_NAME, [r.get("intrusion_proxy", {}).get("mean") for r in results]))
    return rows + alignment_rows(results)


def format_table(header: list[str], rows: list[tuple[str, list]]) -> str:
    """A plain-text table: one metric a line, one column a run."""
    cells = [[name] + [_cell(v) for v in values] for name, values in rows]
    table = [header] + cells
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


_PAIR_ROWS = (("n_pairs", "pairs"), ("match", "match"), ("match_random", "match (shuffled)"), ("kl", "KL"),
              ("kl_random", "KL (shuffled)"), ("jsd", "JSD"), ("jsd_random", "JSD (shuffled)"), ("mrr", "MRR"),
              ("mrr_random", "MRR (shuffled)"), ("uap", "UAP (categories)"),
              ("uap_random", "UAP (categories, shuffled)"))
#: Scores only some evaluations have (with a category field): no row where no result has them.
_OPTIONAL_SCORES = {"uap", "uap_random"}


def alignment_rows(results: list[dict]) -> list[tuple[str, list]]:
    """Table rows of the ``"alignment"`` entries of ``results`` (none if no result has one):
    each ordered pair's scores, then each language's coherence."""
    entries = [r.get("alignment") or {} for r in results]
    pairs = list(dict.fromkeys(key for e in entries for key in e.get("pairs", {})))
    rows = []
    for key in pairs:
        arrow = key.replace("->", "→")
        scored = [e.get("pairs", {}).get(key, {}) for e in entries]
        for score, shown in _PAIR_ROWS:
            if score in _OPTIONAL_SCORES and not any(score in pair for pair in scored):
                continue
            rows.append((f"{arrow} {shown}", [pair.get(score) for pair in scored]))
    languages = list(dict.fromkeys(lang for e in entries for lang in e.get("coherence", {})))
    for lang in languages:
        for name in MEASURES:
            rows.append((f"coherence {name} [{lang}]",
                         [e.get("coherence", {}).get(lang, {}).get(name, {}).get("mean") for e in entries]))
    return rows
