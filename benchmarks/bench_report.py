"""What a report weighs and how long it takes for 20,000 documents.

Fits LDA (K=50) on the first 20,000 English Debian dev descriptions, then writes its
report with the default map (3,000 items drawn) and with every document drawn, timing each
stage: gathering (θ of the corpus, metrics computed now, typical documents, the map's
layout) and rendering, and, where Chromium is installed, opening the page in headless
Chromium until its figures are drawn (the tests' harness, tests/chromium.py; browser
start included). Prints each row and writes them to results/report.json.

    python benchmarks/bench_report.py [--documents 20000]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from common import debian_english

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from chromium import find_chromium, render  # noqa: E402  (tests/chromium.py)

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/polytopic-bench-report"))
    args = parser.parse_args()

    from polytopic.models.lda import LDA
    from polytopic.report import gather, write
    from polytopic.runs import Run, write_run

    args.work.mkdir(parents=True, exist_ok=True)
    corpus = debian_english(args.documents)
    corpus_file = args.work / "english.jsonl"
    corpus_file.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip(corpus.ids, corpus.texts())),
                           encoding="utf-8")
    run = args.work / "lda"
    if not run.exists():
        run.mkdir()
        started = time.perf_counter()
        model = LDA(n_topics=50, seed=0).fit(corpus)
        write_run(run, model, corpus=str(corpus_file), n_documents=len(corpus),
                  fit_seconds=time.perf_counter() - started)
    rows = {}
    for label, drawn in (("map of 3,000 (default)", 3000), ("map of every document", len(corpus)),
                         ("no map", 0)):
        started = time.perf_counter()
        report = gather(Run.open(run), map_documents=drawn)
        gathered = time.perf_counter() - started
        started = time.perf_counter()
        page = write([report], args.work / f"report-{drawn}.html")
        rendered = time.perf_counter() - started
        rows[label] = {"documents": len(corpus), "drawn": drawn, "megabytes": round(page.stat().st_size / 1e6, 2),
                       "gather_seconds": round(gathered, 1), "render_seconds": round(rendered, 1),
                       "layout": report.document_map.method if report.document_map else None}
        if find_chromium():
            started = time.perf_counter()
            opened = render(page, timeout=300)
            rows[label] |= {"chromium_open_seconds": round(time.perf_counter() - started, 1),
                            "console_errors": opened.errors}
        print(label, rows[label], flush=True)
    result = {"rows": rows, "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
              "versions": {name: metadata.version(name) for name in ("plotly", "scikit-learn", "jinja2")}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
