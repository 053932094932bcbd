"""The ``compare`` command: the metrics of several runs side by side (runs without
metrics.json are evaluated first, sharing the reading and counts of their reference)."""

from __future__ import annotations

from pathlib import Path

import click

from polytopic.cli.options import logger, quiet_option
from polytopic.runs import Run


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(exists=True, path_type=Path), default=None,
              help="Reference corpus for runs evaluated now (those without metrics.json).")
@click.option("--labels", default=None, metavar="FIELD", help="Label field, for runs evaluated now.")
@quiet_option
def compare(runs, reference, labels):
    """Put the metrics of several RUNS side by side (each run's metrics.json; runs
    without one are evaluated first, sharing reference counts)."""
    from polytopic.datasets import CorpusCache
    from polytopic.evaluation import ReferenceCache, comparison_rows, evaluate_run, format_table

    corpora, cache, results = CorpusCache(), ReferenceCache(), []
    for path in runs:
        run = Run.open(path, corpora=corpora)
        metrics = run.metrics
        if metrics is None:
            metrics = evaluate_run(run, reference=reference, labels=labels, cache=cache)
            run.write_metrics(metrics)
        results.append(metrics)
    click.echo(format_table(["metric", *map(str, runs)], comparison_rows(results)))
    references = {r["settings"]["reference_corpus"] for r in results}
    if len(references) > 1:
        logger.warning("the runs were scored against different reference corpora %s; their coherence values "
                       "are not comparable", sorted(references))
