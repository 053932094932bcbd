"""The ``evaluate`` command: score a run and write its metrics.json (and, with
``--aligned``, its confusion figures). The metrics are :mod:`polytopic.evaluation`'s
(imported when the command runs); what metrics.json holds is :mod:`polytopic.runs`'s business.
"""

from __future__ import annotations

from pathlib import Path

import click

from polytopic.cli.options import logger, quiet_option, reading_options, split_languages
from polytopic.runs import Run


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
@click.option("--languages", default=None, metavar="L1,L2", callback=split_languages,
              help="With --aligned: the languages to compare (default: the run's, if it learned several).")
@click.option("--images", is_flag=True, help="With --aligned: compare the items' images too (needs an image field).")
@click.option("--seed", type=int, default=0, show_default=True, help="With --aligned: seed of the shuffled baselines.")
@click.option("--category-field", default=None, metavar="FIELD",
              help="With --aligned: field of each item's categories (a list such as [\"Game\", \"ArcadeGame\"]); "
                   "adds the UAP of retrieving the items sharing a category, with its shuffled baseline.")
@quiet_option
@reading_options("text_field", "id_field", "image_field", from_run=True)
def evaluate(run, reference, labels, intrusion, aligned, languages, images, seed, category_field, **read_options):
    """Score RUN (coherence, diversity, optionally clustering and the alignment of the views
    of --aligned items); print a table and write metrics.json, with every setting used, and
    the confusion figures of --aligned into RUN."""
    from polytopic.evaluation import (
        ReferenceCache,
        comparison_rows,
        confusion_figures,
        evaluate_aligned,
        evaluate_run,
        format_table,
    )

    given = {name: value for name, value in read_options.items() if value is not None}
    opened, cache, alignment, figures = Run.open(run), ReferenceCache(), None, {}
    if aligned is None:
        _refuse_without_aligned(["languages", "images", "seed", "category_field", *read_options])
    else:  # first: its input errors surface before the slower coherence counts
        _check_aligned_request(opened, languages, images, given)
        alignment = evaluate_aligned(opened, aligned, languages, images=images, reference=reference, seed=seed,
                                     read_options=given, cache=cache, category_field=category_field)
    metrics = evaluate_run(opened, reference=reference, labels=labels, intrusion=intrusion, cache=cache)
    if alignment is not None:
        figures = confusion_figures(alignment)
        metrics["alignment"] = alignment | {"figures": list(figures)}
        logger.info("alignment over %s, items per view %s, shuffle seed %s", aligned, alignment["n_items"], seed)
    path = opened.write_metrics(metrics, figures)
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


def _check_aligned_request(run: Run, languages, images: bool, given: dict) -> None:
    """Usage errors of ``evaluate --aligned`` that run.json answers before any work: images
    without an image field, and too few languages to compare."""
    info = run.info
    if images and not (given.get("image_field") or run.read_options.get("image_field")):
        raise click.BadParameter("needs --image-field FIELD, the field holding each item's image path (the run's "
                                 "training corpus was read without one)", param_hint="--images")
    learned = info.get("languages")
    if languages is None and isinstance(learned, list) and len(learned) + images < 2:
        raise click.UsageError(f"the run learned only {learned}: name the languages to compare with --languages, "
                               "such as --languages en,it")
