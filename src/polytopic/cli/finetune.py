"""The ``finetune`` command of :mod:`polytopic.cli`: fine-tune a sentence encoder on a corpus
(Mueller & Dredze 2021, §3) into a sentence-transformers folder that ``fit --encoder`` takes.
The work is :func:`polytopic.finetuning.finetune`'s (imported when the command runs: torch).
"""

from __future__ import annotations

from pathlib import Path

import click

from polytopic.cli.options import corpus_options, is_quiet, quiet_option, read_corpus_file, split_languages

TASK_HELP = {
    "topics": "classify LDA topic labels (τ chosen by NPMI; --topics-grid)",
    "labels": "classify a label field of the corpus (--label-field)",
    "pairs": "bring aligned translations together (--languages; stands in for NLI)",
    "mlm": "continued masked-language-model pre-training on the texts",
}


def _split_grid(_ctx, _param, value: str | None) -> list[int] | None:
    """``--topics-grid 10,20,50`` as ``[10, 20, 50]``."""
    if value is None:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}: give whole numbers separated by commas, such as 10,20,50") from None


@click.command(epilog="Tasks:\n\n\b\n" + "\n".join(f"  {name:<7} {text}" for name, text in TASK_HELP.items()))
@click.argument("corpus_path", metavar="CORPUS", type=click.Path(exists=True, path_type=Path))
@click.option("--task", type=click.Choice(list(TASK_HELP)), required=True, help="What to fine-tune on (below).")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Encoder folder to create (a sentence-transformers model; give it to fit --encoder).")
@click.option("--base", default=None, metavar="NAME|DIR",
              help="Encoder to start from: all-MiniLM-L6-v2 (default), multilingual-e5-small, or a "
                   "sentence-transformers folder (such as an earlier finetune's --out).")
@click.option("--label-field", default=None, metavar="FIELD", help="labels: the label field to classify.")
@click.option("--languages", default=None, metavar="L1,L2", callback=split_languages,
              help="pairs: the languages to pair, every two of them (default: all of the corpus's).")
@click.option("--language", default=None,
              help="topics, labels: the texts' language (default: the most covered); mlm: only this "
                   "language (default: all).")
@click.option("--topics-grid", "grid", default=None, metavar="K1,K2,...", callback=_split_grid,
              help="topics: numbers of LDA topics to choose from by NPMI (default 10,20,50,100,150,200,250).")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Passes over the data (default: topics, pairs, mlm 1; labels 2).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Examples per step (default: topics, labels 16; pairs 64; mlm 256).")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Peak learning rate (default 2e-5; mlm 1e-4).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--overwrite", is_flag=True, help="Replace an existing encoder folder.")
@quiet_option
@corpus_options
def finetune(corpus_path, task, out, base, label_field, languages, language, grid, epochs, batch_size,
             learning_rate, seed, overwrite, **read_options):
    """Fine-tune a sentence encoder on CORPUS for topic modelling (Mueller & Dredze 2021)
    and write it to --out, a folder any model reads with --encoder.

    \b
    The folder holds polytopic-finetune.json: task, base encoder, labels
    (and the LDA choice of τ), pairs, settings, losses, time, versions.
    It appears only when fine-tuning succeeded.
    """
    for option, value, tasks in (("--label-field", label_field, ("labels",)), ("--languages", languages, ("pairs",)),
                                 ("--topics-grid", grid, ("topics",)),
                                 ("--language", language, ("topics", "labels", "mlm"))):
        if value is not None and task not in tasks:
            raise click.BadParameter(f"is for --task {' or '.join(tasks)}, not {task}", param_hint=option)
    if task == "labels" and label_field is None:
        raise click.BadParameter("--task labels needs the label field to classify", param_hint="--label-field")
    from polytopic.finetuning import finetune as run_finetune  # torch

    run_finetune(read_corpus_file(corpus_path, **read_options), task, out, base=base, label_field=label_field,
                 languages=languages, language=language, grid=grid, epochs=epochs, batch_size=batch_size,
                 learning_rate=learning_rate, seed=seed, overwrite=overwrite, progress=not is_quiet())
