"""The ``encode`` command: the vectors of a corpus's texts, into the encoder's cache (and
a ``.npy`` file), in this process or on a Ray cluster (``--engine ray``); and the same
step run by ``fit --engine ray`` before it fits, so that the fit reads every vector back."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from polytopic.cli.options import (
    corpus_options,
    engine_from,
    engine_options,
    is_quiet,
    logger,
    quiet_option,
    read_corpus_file,
    split_encoders,
)
from polytopic.persistence import atomic_file


def encode_corpus(corpus, encoder, languages, engine) -> dict[str, np.ndarray]:
    """The vectors of ``corpus``'s texts in each of ``languages`` by ``encoder`` (a name,
    an Encoder, or ``{language: either}``; None: the default), through ``engine``; every
    vector lands in the encoder's cache."""
    from polytopic.encoders import get_encoder

    vectors = {}
    for language in languages:
        spec = encoder.get(language) if isinstance(encoder, dict) else encoder
        chosen = get_encoder(spec, progress=not is_quiet())
        vectors[language] = chosen.encode(corpus.texts(language), engine=engine)
        logger.info("encoded %d %r texts with %s", len(vectors[language]), language, chosen.name)
    return vectors


@click.command()
@click.argument("corpus_path", metavar="CORPUS", type=click.Path(exists=True, path_type=Path))
@click.option("--encoder", default=None, callback=split_encoders, metavar="NAME|L1=NAME,L2=NAME",
              help="Encoder name or path (default: packaged all-MiniLM-L6-v2), or one per language.")
@click.option("--language", "languages", default=None, metavar="L1,L2",
              help="Languages to encode, comma-separated (default: all of the corpus's).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the vectors to this .npy file (one language: a row per item that has it, "
                   "in corpus order).")
@engine_options
@quiet_option
@corpus_options
def encode(corpus_path, encoder, languages, output, engine_name, address, workers, gpus_per_worker, **read_options):
    """Encode the texts of CORPUS into the vector cache, which later fits read back."""
    corpus = read_corpus_file(corpus_path, **read_options)
    chosen = [lang.strip() for lang in languages.split(",")] if languages else list(corpus.languages)
    if output is not None and (len(chosen) != 1 or output.suffix != ".npy"):
        raise click.BadParameter("writes one language to a .npy file: give --language L and a .npy path",
                                 param_hint="--output")
    vectors = encode_corpus(corpus, encoder, chosen, engine_from(engine_name, address, workers, gpus_per_worker))
    if output is not None:
        with atomic_file(output) as partial, open(partial, "wb") as handle:
            np.save(handle, vectors[chosen[0]])
        logger.info("wrote %s", output)
