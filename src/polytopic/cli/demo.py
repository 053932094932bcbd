"""The ``demo`` command: fit a model on the bundled demo corpus and print its topics."""

from __future__ import annotations

from pathlib import Path

import click

from polytopic.cli.fit import fit_into_run
from polytopic.cli.options import DEMO_MODEL, READ_DEFAULTS, model_choice, model_options, quiet_option
from polytopic.models.registry import model_class
from polytopic.runs import read_topics


@click.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/demo"), show_default=True,
              help="Run directory to write (replaced if it exists).")
@model_choice(DEMO_MODEL)
@click.option("--topics", type=click.IntRange(min=1), default=20, show_default=True, help="Number of topics K.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Training epochs, for a model that trains (model default if unset).")
@quiet_option
def demo(out, model_name, topics, epochs):
    """Fit a model on the bundled demo corpus (2,000 Debian package descriptions) and
    print its topics."""
    from polytopic.datasets import demo_corpus_path, read_corpus

    model_cls = model_class(model_name)
    options = model_options(model_name, model_cls, {"epochs": epochs}, ())
    source = demo_corpus_path()
    fit_into_run(model_cls(n_topics=topics, **options), read_corpus(source), out, True, source,
                 read_options=READ_DEFAULTS)
    for words in read_topics(out):
        click.echo(" ".join(words))
