"""The ``topics`` command: a run's topic words, and its topics' typical images, read from
the run's files without torch (it answers at once)."""

from __future__ import annotations

from pathlib import Path

import click

from polytopic.cli.options import quiet_option
from polytopic.runs import TYPICAL_TOP_N, read_topics, read_typical_images


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--top-n", type=click.IntRange(min=1), default=10, show_default=True, help="Words per topic.")
@click.option("--language", default=None, help="Language of the topic words (default: the model's primary one).")
@click.option("--images", "n_images", type=click.IntRange(min=1), default=None, metavar="N",
              help=f"After each topic's words, the paths of its N most typical training images (highest "
                   f"topic probability), one a line, indented (models with an image view; {TYPICAL_TOP_N} are "
                   "recorded per topic).")
@quiet_option
def topics(run, top_n, language, n_images):
    """Print the top words of each topic of RUN, one topic a line, space-separated.

    \b
    With --images N, each topic's line is followed by its N most typical
    training images, one path a line, indented by two spaces:
      game ball player ...
        /data/icons/mousetrap.png
        /data/icons/pinball.png
    """
    images = None if n_images is None else read_typical_images(run, top_n=n_images)
    for k, words in enumerate(read_topics(run, top_n=top_n, language=language)):
        click.echo(" ".join(words))
        for path in images[k] if images is not None else ():
            click.echo(f"  {path}")
