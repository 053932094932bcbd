"""Draw the README's report screenshots: fit one run of each kind on the shared Debian data
with the ``polytopic`` command, write its report, open it in headless Chromium (the tests'
harness, tests/chromium.py) and save the top of the page as docs/report-<kind>.png.

    python docs/make_screenshots.py [--work /tmp/polytopic-docs]

Kinds: one language (CombinedTM, 3,000 English descriptions), two runs compared (LDA
beside it), two languages (M3L-Contrast, 3,000 en/it descriptions, the multilingual USE)
and texts with icons (M3L-Contrast, the dev applications). Each report must open without
a console error; the script prints each report's size and the time it took to write.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

from chromium import screenshot  # noqa: E402  (tests/chromium.py)
from common import DATA, debian_aligned, debian_english  # noqa: E402  (benchmarks/common.py)

VIEWPORT = (1400, 2300)


def polytopic(*args) -> float:
    """Run ``polytopic ARGS`` quietly; the seconds it took."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "polytopic.cli", "-q", *map(str, args)], check=True)
    return time.perf_counter() - started


def write_jsonl(corpus, path: Path) -> Path:
    import json

    texts: list[dict] = [{} for _ in corpus.ids]
    for lang in corpus.languages:
        for position, text in zip(corpus.indices(lang), corpus.texts(lang)):
            texts[position][lang] = text
    with path.open("w", encoding="utf-8") as handle:
        for item_id, text in zip(corpus.ids, texts):
            handle.write(json.dumps({"id": item_id, "text": text}, ensure_ascii=False) + "\n")
    return path


def fit_once(out: Path, *args) -> Path:
    if not out.exists():
        print(f"fitting {out.name} ...", flush=True)
        polytopic("fit", *args, "--out", out)
    return out


def draw(kind: str, runs: list[Path], work: Path, *extra) -> None:
    page = work / f"report-{kind}.html"
    seconds = polytopic("report", *runs, "--out", page, *extra)
    png = ROOT / "docs" / f"report-{kind}.png"
    rendered = screenshot(page, png, width=VIEWPORT[0], height=VIEWPORT[1])
    if rendered.errors:
        raise SystemExit(f"{page} logged errors in Chromium: {rendered.errors}")
    print(f"{kind}: {page.stat().st_size / 1e6:.1f} MB, written in {seconds:.1f} s -> {png.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/polytopic-docs"))
    work = parser.parse_args().work
    work.mkdir(parents=True, exist_ok=True)
    english = write_jsonl(debian_english(3000), work / "english-3000.jsonl")
    aligned = write_jsonl(debian_aligned(3000), work / "aligned-3000.jsonl")
    combined = fit_once(work / "combined", english, "--model", "combined", "--topics", "20")
    lda = fit_once(work / "lda", english, "--model", "lda", "--topics", "20")
    m3l = fit_once(work / "m3l-en-it", aligned, "--model", "m3l", "--languages", "en,it", "--encoder",
                   "use-multilingual", "--topics", "20")
    apps = fit_once(work / "m3l-apps", DATA / "apps-dev.jsonl.gz", "--model", "m3l", "--languages", "en",
                    "--text-field", "debian", "--image-field", "icon", "--topics", "20")
    draw("monolingual", [combined], work)
    draw("comparison", [combined, lda], work, "--map-documents", "0")
    draw("multilingual", [m3l], work)
    draw("images", [apps], work)


if __name__ == "__main__":
    main()
