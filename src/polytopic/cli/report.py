"""The ``report`` command of :mod:`polytopic.cli`: one self-contained HTML page of one run,
or of several side by side (:mod:`polytopic.report.data` gathers, :mod:`polytopic.report.html`
renders; both are imported when the command runs).
"""

from __future__ import annotations

from pathlib import Path

import click

from polytopic.cli.options import is_quiet, logger, quiet_option
from polytopic.runs import Run


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="HTML file to write (replaced if it exists; written whole or not at all).")
@click.option("--reference", type=click.Path(exists=True, path_type=Path), default=None,
              help="The training corpus where it is now, if it moved since the fit (read as the run recorded); "
                   "also the reference corpus of metrics computed now. One run only.")
@click.option("--aligned", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Held-out aligned items for the cross-lingual scores of runs whose metrics.json "
                                   "has none (default: the training corpus, and the report says so).")
@click.option("--map-documents", type=click.IntRange(min=0), default=None, metavar="N",
              help="Items drawn on each run's map (a uniform sample; 0: no map). Default 3000.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the map's sample and layout and of the shuffled baselines.")
@quiet_option
def report(runs, out, reference, aligned, map_documents, seed):
    """Write one HTML page showing RUNS: topics (words per language, share, typical documents
    and icons, coherence), a map of the documents, the cross-lingual confusion matrices, the
    metrics with their settings, topic similarity and the run's facts. Several runs are
    compared side by side. The page inlines everything: it opens offline."""
    from polytopic.datasets import CorpusCache
    from polytopic.evaluation import ReferenceCache
    from polytopic.report import MAP_DOCUMENTS, gather, write

    if reference is not None and len(runs) > 1:
        raise click.UsageError("--reference names one run's moved corpus: give it with a single run")
    corpora, cache, gathered = CorpusCache(), ReferenceCache(), []
    for run in runs:
        logger.info("reading %s", run)
        gathered.append(gather(Run.open(run, corpora=corpora), reference=reference, aligned=aligned, seed=seed,
                               cache=cache, map_documents=MAP_DOCUMENTS if map_documents is None else map_documents,
                               progress=not is_quiet()))
        for note in gathered[-1].notes:
            logger.warning("%s: %s", run, note)
    path = write(gathered, out)
    logger.info("report of %d run%s written to %s (%.1f MB)", len(runs), "s" * (len(runs) > 1), path,
                path.stat().st_size / 1e6)
