"""The ``polytopic`` command: fit a model on a corpus, read its topics, transform new
documents. A run directory is a saved model plus ``run.json`` (how it was made) and
``topics.txt``; it appears only when the fit succeeded."""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from pathlib import Path

import click
import numpy as np

import polytopic
from polytopic.datasets import demo_corpus_path, read_corpus
from polytopic.errors import ParameterError, PolytopicError
from polytopic.models import MODELS, load_model
from polytopic.persistence import atomic_directory, write_json

RUN_FILE = "run.json"
TOPICS_FILE = "topics.txt"


def _corpus_options(command):
    """Options that say how to read a corpus file, shared by fit and transform."""
    options = [
        click.option("--text-field", default="text", show_default=True,
                     help="JSON/CSV field holding the text (a string or a {language: text} object)."),
        click.option("--id-field", default="id", show_default=True, help="Field holding the document id."),
        click.option("--language-field", default=None, help="Field holding each document's language."),
        click.option("--corpus-language", default="en", show_default=True,
                     help="Language of plain-string texts without a language field."),
    ]
    return functools.reduce(lambda cmd, opt: opt(cmd), reversed(options), command)


def _read(path, text_field, id_field, language_field, corpus_language):
    if Path(path).is_dir():
        return read_corpus(path, language=corpus_language)
    return read_corpus(path, text_field=text_field, id_field=id_field,
                       language_field=language_field, language=corpus_language)


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _parse_params(pairs: tuple[str, ...]) -> dict:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        try:
            params[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            params[key.replace("-", "_")] = value
    return params


def _model_help() -> str:
    lines = [f"  {name:<10} {(cls.__doc__ or '').strip().splitlines()[0]}" for name, cls in MODELS.items()]
    return "Models:\n\n\b\n" + "\n".join(lines)


class _PolytopicGroup(click.Group):
    """Turns the library's own errors into one-line messages and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PolytopicError as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(2)


@click.group(cls=_PolytopicGroup)
@click.version_option(polytopic.__version__, prog_name="polytopic")
def main():
    """Topic models on pretrained embeddings: fit, inspect, transform."""


def _fit_run(corpus, model_name, topics, out, overwrite, options, source):
    model_cls = MODELS[model_name]
    unknown = set(options) - set(model_cls._parameter_constraints)
    if unknown:
        raise ParameterError(f"model {model_name!r} has no option(s) {sorted(unknown)}")
    model = model_cls(n_topics=topics, **options)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        started = time.perf_counter()
        model.fit(corpus)
        seconds = time.perf_counter() - started
        model.write(tmp)
        write_json(tmp / RUN_FILE, {
            "corpus": str(source), "model": model_name, "n_topics": topics,
            "options": model._saved_params(), "n_documents": len(corpus),
            "fit_seconds": round(seconds, 3), "polytopic_version": polytopic.__version__,
        })
        (tmp / TOPICS_FILE).write_text("".join(" ".join(t) + "\n" for t in model.topics()), encoding="utf-8")
    click.echo(f"fitted {model_name} with {topics} topics on {len(corpus)} documents in "
               f"{seconds:.1f} s -> {out}", err=True)
    return model


@main.command(epilog=_model_help())
@click.argument("corpus_path", metavar="CORPUS", type=click.Path(exists=True, path_type=Path))
@click.option("--model", "model_name", type=click.Choice(sorted(MODELS)), default="combined", show_default=True)
@click.option("--topics", type=int, default=50, show_default=True, help="Number of topics K.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Run directory to create.")
@click.option("--language", default=None, help="Language to model (default: the corpus's most covered).")
@click.option("--encoder", default=None, help="Encoder name or path (default: packaged all-MiniLM-L6-v2).")
@click.option("--epochs", type=int, default=None, help="Training epochs (model default if unset).")
@click.option("--vocabulary-size", type=int, default=None, help="Words kept per language (default 2000).")
@click.option("--seed", type=int, default=None, help="Random seed (default 0).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Any other hyperparameter.")
@click.option("--overwrite", is_flag=True, help="Replace an existing run directory.")
@click.option("--quiet", is_flag=True, help="No progress bars or info messages.")
@_corpus_options
def fit(corpus_path, model_name, topics, out, language, encoder, epochs, vocabulary_size, seed,
        params, overwrite, quiet, **read_options):
    """Fit a topic model on CORPUS (.jsonl[.gz], .csv or a folder of .txt files)."""
    _setup_logging(quiet)
    chosen = {"language": language, "encoder": encoder, "epochs": epochs,
              "vocabulary_size": vocabulary_size, "seed": seed}
    options = {k: v for k, v in chosen.items() if v is not None} | _parse_params(params)
    options.setdefault("progress", not quiet)
    if "progress" not in MODELS[model_name]._parameter_constraints:
        options.pop("progress")
    corpus = _read(corpus_path, **read_options)
    _fit_run(corpus, model_name, topics, out, overwrite, options, corpus_path)


@main.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--top-n", type=int, default=10, show_default=True)
@click.option("--language", default=None, help="Language of the topic words, for multilingual models.")
def topics(run, top_n, language):
    """Print the top words of each topic of RUN, one topic a line, space-separated."""
    model = load_model(run)
    for words in model.topics(top_n=top_n, language=language):
        click.echo(" ".join(words))


@main.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("corpus_path", metavar="CORPUS", type=click.Path(exists=True, path_type=Path))
@click.option("--language", default=None, help="Language of the texts to transform (default: the model's).")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Write to a .npy, .csv, .tsv or .jsonl file instead of standard output (TSV).")
@click.option("--quiet", is_flag=True)
@_corpus_options
def transform(run, corpus_path, language, output, quiet, **read_options):
    """Print the document-topic distribution of every document of CORPUS under RUN."""
    _setup_logging(quiet)
    model = load_model(run)
    if hasattr(model, "progress"):
        model.progress = not quiet
    corpus = _read(corpus_path, **read_options)
    language = language or model.language_
    doc_topic = model.transform(corpus, language=language)
    ids = [corpus.ids[i] for i in corpus.indices(language)]
    _write_doc_topic(ids, doc_topic, output)


def _write_doc_topic(ids, doc_topic: np.ndarray, output: Path | None) -> None:
    suffix = output.suffix if output else ".tsv"
    if suffix == ".npy":
        np.save(output, doc_topic)
        return
    if suffix == ".jsonl":
        lines = (json.dumps({"id": i, "topics": [round(float(p), 6) for p in row]}) for i, row in zip(ids, doc_topic))
    elif suffix in (".csv", ".tsv"):
        sep = "," if suffix == ".csv" else "\t"
        header = sep.join(["id"] + [f"topic_{k}" for k in range(doc_topic.shape[1])])
        body = (sep.join([str(i)] + [f"{p:.6f}" for p in row]) for i, row in zip(ids, doc_topic))
        lines = iter([header, *body])
    else:
        raise ParameterError(f"unknown output format {suffix!r}: use .npy, .csv, .tsv or .jsonl")
    text = "\n".join(lines) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/demo"), show_default=True)
@click.option("--model", "model_name", type=click.Choice(sorted(MODELS)), default="combined", show_default=True)
@click.option("--topics", type=int, default=20, show_default=True)
@click.option("--epochs", type=int, default=None)
@click.option("--quiet", is_flag=True)
def demo(out, model_name, topics, epochs, quiet):
    """Fit a model on the bundled demo corpus (2,000 Debian package descriptions) and
    print its topics."""
    _setup_logging(quiet)
    source = demo_corpus_path()
    options = {"progress": not quiet} | ({"epochs": epochs} if epochs else {})
    model = _fit_run(read_corpus(source), model_name, topics, out, True, options, source)
    for words in model.topics():
        click.echo(" ".join(words))


@main.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(exists=True, path_type=Path), default=None,
              help="Reference corpus for coherence (default: the training corpus named in run.json).")
@click.option("--labels", default=None, metavar="FIELD",
              help="Label field of the reference corpus: adds NMI and purity of document clusters.")
@click.option("--intrusion", is_flag=True, help="Add the word-intrusion proxy (embeddings, not people).")
@click.option("--quiet", is_flag=True)
def evaluate(run, reference, labels, intrusion, quiet):
    """Score RUN (coherence, diversity, optionally clustering); print a table and write
    metrics.json, with every setting used, into RUN."""
    from polytopic.evaluation import evaluate_run, format_table, comparison_rows, write_metrics

    _setup_logging(quiet)
    metrics = evaluate_run(run, reference=reference, labels=labels, intrusion=intrusion)
    path = write_metrics(run, metrics)
    click.echo(format_table(["metric", str(run)], comparison_rows([metrics])))
    settings = metrics["settings"]
    click.echo(f"reference: {settings['reference_corpus']} ({settings['reference_documents']} documents, "
               f"{settings['language']}); coherence top-{settings['coherence_top_n']}, windows "
               f"{settings['coherence_windows']}, epsilon {settings['epsilon']}; written to {path}", err=True)


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(exists=True, path_type=Path), default=None,
              help="Reference corpus for runs evaluated now (those without metrics.json).")
@click.option("--labels", default=None, metavar="FIELD", help="Label field, for runs evaluated now.")
@click.option("--quiet", is_flag=True)
def compare(runs, reference, labels, quiet):
    """Put the metrics of several RUNS side by side (each run's metrics.json; runs
    without one are evaluated first, sharing reference counts)."""
    from polytopic.evaluation import (METRICS_FILE, ReferenceCache, comparison_rows, evaluate_run,
                                      format_table, read_metrics, write_metrics)

    _setup_logging(quiet)
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
        click.echo(f"warning: the runs were scored against different reference corpora {sorted(references)}; "
                   "their coherence values are not comparable", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
