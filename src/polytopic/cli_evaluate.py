"""The ``evaluate`` and ``compare`` commands of :mod:`polytopic.cli`: score a run, and put
the scores of several side by side. The metrics are :mod:`polytopic.evaluation`'s (imported
when a command runs); what metrics.json holds is :mod:`polytopic.runs`'s business.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from polytopic.cli_options import _read_options, _split_languages, quiet_option
from polytopic.runs import METRICS_FILE, read_metrics, write_metrics

# Named as the command's own messages: they read "INFO polytopic.cli: ..." whichever
# module of the command writes them.
logger = logging.getLogger("polytopic.cli")


@click.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(exists=True, path_type=Path), default=None,
              help="Reference corpus for coherence (default: the training corpus named in run.json).")
@click.option("--labels", default=None, metavar="FIELD",
              help="Label field of the reference corpus: adds NMI and purity of document clusters.")
@click.option("--intrusion", is_flag=True, help="Add the word-intrusion proxy (embeddings, not people).")
@click.option("--aligned", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Aligned items ({language: text} objects, images beside them): adds Match, KL, "
                                   "JSD and MRR between their views (UAP with --category-field), with shuffled "
                                   "baselines, and coherence per language.")
@click.option("--languages", default=None, metavar="L1,L2", callback=_split_languages,
              help="With --aligned: the languages to compare (default: the run's, if it learned several).")
@click.option("--images", is_flag=True, help="With --aligned: compare the items' images too (needs an image field).")
@click.option("--seed", type=int, default=0, show_default=True, help="With --aligned: seed of the shuffled baselines.")
@click.option("--category-field", default=None, metavar="FIELD",
              help="With --aligned: field of each item's categories (a list such as [\"Game\", \"ArcadeGame\"]); "
                   "adds the UAP of retrieving the items sharing a category, with its shuffled baseline.")
@quiet_option
@_read_options("text_field", "id_field", "image_field", from_run=True)
def evaluate(run, reference, labels, intrusion, aligned, languages, images, seed, category_field, **read_options):
    """Score RUN (coherence, diversity, optionally clustering and the alignment of the views
    of --aligned items); print a table and write metrics.json, with every setting used, and
    the confusion figures of --aligned into RUN."""
    from polytopic.evaluation import ReferenceCache, comparison_rows, evaluate_run, format_table

    given = {name: value for name, value in read_options.items() if value is not None}
    cache, alignment = ReferenceCache(), None
    if aligned is None:
        _refuse_without_aligned(["languages", "images", "seed", "category_field", *read_options])
    else:  # first: its input errors surface before the slower coherence counts
        from polytopic.alignment_evaluation import evaluate_aligned, write_confusion_figures

        _check_aligned_request(run, languages, images, given)
        alignment = evaluate_aligned(run, aligned, languages, images=images, reference=reference, seed=seed,
                                     read_options=given, cache=cache, category_field=category_field)
    metrics = evaluate_run(run, reference=reference, labels=labels, intrusion=intrusion, cache=cache)
    if alignment is not None:
        metrics["alignment"] = alignment | {"figures": [p.name for p in write_confusion_figures(run, alignment)]}
        logger.info("alignment over %s, items per view %s, shuffle seed %s", aligned, alignment["n_items"], seed)
    path = write_metrics(run, metrics)
    click.echo(format_table(["metric", str(run)], comparison_rows([metrics])))
    settings = metrics["settings"]
    logger.info("reference: %s (%s documents, %s); coherence top-%s, windows %s, epsilon %s; written to %s",
                settings["reference_corpus"], settings["reference_documents"], settings["language"],
                settings["coherence_top_n"], settings["coherence_windows"], settings["epsilon"], path)


def _refuse_without_aligned(names: list[str]) -> None:
    """A usage error for options of ``evaluate --aligned`` given without it."""
    ctx = click.get_current_context()
    given = [f"--{name.replace('_', '-')}" for name in names
             if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
    if given:
        raise click.UsageError(f"{', '.join(given)} only go with --aligned FILE")


def _check_aligned_request(run: Path, languages, images: bool, given: dict) -> None:
    """Usage errors of ``evaluate --aligned`` that run.json answers before any work: images
    without an image field, and too few languages to compare."""
    from polytopic.runs import read_run

    info = read_run(run)
    if images and not (given.get("image_field") or (info.get("read_options") or {}).get("image_field")):
        raise click.BadParameter("needs --image-field FIELD, the field holding each item's image path (the run's "
                                 "training corpus was read without one)", param_hint="--images")
    learned = info.get("languages")
    if languages is None and isinstance(learned, list) and len(learned) + images < 2:
        raise click.UsageError(f"the run learned only {learned}: name the languages to compare with --languages, "
                               "such as --languages en,it")


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(exists=True, path_type=Path), default=None,
              help="Reference corpus for runs evaluated now (those without metrics.json).")
@click.option("--labels", default=None, metavar="FIELD", help="Label field, for runs evaluated now.")
@quiet_option
def compare(runs, reference, labels):
    """Put the metrics of several RUNS side by side (each run's metrics.json; runs
    without one are evaluated first, sharing reference counts)."""
    from polytopic.evaluation import ReferenceCache, comparison_rows, evaluate_run, format_table

    cache, results = ReferenceCache(), []
    for run in runs:
        if (run / METRICS_FILE).is_file():
            results.append(read_metrics(run))
        else:
            results.append(evaluate_run(run, reference=reference, labels=labels, cache=cache))
            write_metrics(run, results[-1])
    click.echo(format_table(["metric", *map(str, runs)], comparison_rows(results)))
    references = {r["settings"]["reference_corpus"] for r in results}
    if len(references) > 1:
        logger.warning("the runs were scored against different reference corpora %s; their coherence values "
                       "are not comparable", sorted(references))
