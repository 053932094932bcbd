"""The ``sweep`` command of :mod:`polytopic.cli`: fit a model at several numbers of topics,
score each fit, print the table and suggest a K. The work is :func:`polytopic.sweep.sweep`'s
(imported when the command runs: it imports scipy, the models torch).
"""

from __future__ import annotations

from pathlib import Path

import click

from polytopic.cli.options import (
    corpus_options,
    encoder_option,
    epochs_option,
    model_option,
    model_options,
    overwrite_option,
    params_option,
    quiet_option,
    read_kwargs,
    vocabulary_size_option,
)
from polytopic.errors import ParameterError
from polytopic.models.registry import model_class


def _split_topics(_ctx, _param, value: str) -> list[int]:
    """``--topics 10,20,50`` as ``[10, 20, 50]``; a usage error for anything that is not
    distinct whole numbers of at least 2."""
    from polytopic.sweep import check_topics

    parts = [part.strip() for part in value.split(",") if part.strip()]
    try:
        topics = [int(part) for part in parts]
    except ValueError:
        raise click.BadParameter(f"{value!r}: give whole numbers separated by commas, such as 10,20,50") from None
    try:
        return check_topics(topics)
    except ParameterError as err:
        raise click.BadParameter(str(err)) from None


@click.command()
@click.argument("corpus_path", metavar="CORPUS", type=click.Path(exists=True, path_type=Path))
@model_option
@click.option("--topics", required=True, metavar="K1,K2,...", callback=_split_topics,
              help="Numbers of topics to fit, comma-separated (each at least 2), such as 10,20,50,100.")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Fits per K, with seeds 0 to N-1; the table shows their mean and sd.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Sweep directory to create: a run per fit, sweep.json, sweep.tsv, sweep.png.")
@click.option("--language", default=None, help="Language to model (default: the corpus's most covered).")
@encoder_option("Encoder name or path, or one per language (default: packaged all-MiniLM-L6-v2).")
@epochs_option
@vocabulary_size_option
@params_option("Any other hyperparameter of every fit (repeatable; VALUE is read as JSON where it parses).")
@overwrite_option("Replace an existing sweep directory (once the sweep is complete).")
@quiet_option
@corpus_options
def sweep(corpus_path, model_name, topics, seeds, out, language, encoder, epochs, vocabulary_size, params,
          overwrite, **read_options):
    """Fit a model on CORPUS at each number of topics of --topics, score every fit
    (coherence, diversity: as `polytopic evaluate`) and suggest a K.

    \b
    The suggested K has the highest topic quality, mean NPMI × topic
    diversity (Dieng et al. 2020); if no K has a positive NPMI, the highest
    NPMI. Ties go to the smaller K. Sentence vectors are encoded once.
    """
    from polytopic.evaluation import format_table
    from polytopic.sweep import sweep as run_sweep

    chosen = {"language": language, "encoder": encoder, "epochs": epochs, "vocabulary_size": vocabulary_size}
    options = model_options(model_name, model_class(model_name), chosen, params)
    record = run_sweep(corpus_path, model_name, topics, out, seeds=range(seeds), options=options,
                       read_options=read_kwargs(**read_options), overwrite=overwrite)
    click.echo(format_table(["K", *(str(entry["k"]) for entry in record["by_k"])], _table_rows(record["by_k"])))
    suggestion = record["suggestion"]
    click.echo(f"suggested K: {suggestion['k']} ({suggestion['description']})")


def _table_rows(by_k: list[dict]) -> list[tuple[str, list]]:
    """The rows of the printed table: each score's mean (± sd over seeds), topic quality
    and the mean fit time, one column a K."""
    from polytopic.evaluation import DIVERSITY_TOP_N

    def cells(name: str) -> list:
        return [entry[name]["mean"] if entry[name]["sd"] is None else
                f"{entry[name]['mean']:.4f} ± {entry[name]['sd']:.4f}" for entry in by_k]

    return [("coherence c_npmi", cells("c_npmi")),
            (f"topic diversity (top-{DIVERSITY_TOP_N})", cells("topic_diversity")),
            ("inverted RBO", cells("inverted_rbo")),
            ("topic quality", [entry["topic_quality"] for entry in by_k]),
            ("fit seconds", [f"{entry['fit_seconds']['mean']:.1f}" for entry in by_k])]
