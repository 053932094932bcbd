"""The classical image features on the Debian apps: speed, and how much of the text they see.

For the 1,789 apps of ``shared/data/debian/apps-dev.jsonl.gz`` with an English
description, the script encodes every icon with :class:`ImageFeatureEncoder` (cache off:
images/s is the cold speed) and the descriptions with the packaged MiniLM (cached). A
linear CCA between the two is fitted on 80% of the apps; on the held-out 20%, each
description ranks all held-out icons by cosine in the shared space, and the mean
reciprocal rank of its own icon is reported against a random ranking's (H_n / n) and
against a CCA fitted on shuffled pairs (which must score at chance: no leak).

Two CCAs: scikit-learn's (NIPALS, 16 components, as ``shared/MODELS.md`` reports), and a
closed-form regularised CCA (Vinod 1976; ridge ``reg`` × mean variance added to each
covariance) whose components and ridge are chosen by 5-fold cross-validation inside the
training apps only. Each feature variant in ``VARIANTS`` is measured alike. Apps sharing
one icon tie; a tie counts half a rank. Writes ``benchmarks/results/image_features.json``.

Run: ``PYTHONPATH=src python benchmarks/bench_image_features.py [--seed 0] [--no-sklearn]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA  # noqa: E402

from polytopic.encoders import get_encoder  # noqa: E402
from polytopic.encoders.image import ImageFeatureEncoder  # noqa: E402

logger = logging.getLogger("bench_image_features")
RESULTS = Path(__file__).resolve().parent / "results"
#: Feature variants: the default recipe, and a compact one (one 4×4 gradient grid, coarser colour).
VARIANTS = {"default": {}, "compact": {"colour_bins": (4, 5, 5), "cells": (4,)}}
GRID = [(k, reg) for k in (16, 32, 64, 128) for reg in (0.1, 0.3, 1.0, 3.0)]


def debian_apps() -> tuple[list[str], list[str]]:
    """English descriptions and absolute icon paths of the apps that have both."""
    with gzip.open(DATA / "apps-dev.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    rows = [r for r in rows if "en" in r["debian"] and r.get("icon")]
    return [r["debian"]["en"] for r in rows], [str(DATA / r["icon"]) for r in rows]


def mean_reciprocal_rank(queries: np.ndarray, targets: np.ndarray) -> float:
    """MRR of target i for query i among all targets, by cosine; ties count half a rank."""
    queries, targets = _unit(queries), _unit(targets)
    scores = queries @ targets.T
    own = np.diag(scores)[:, None]
    ranks = 1 + (scores > own).sum(axis=1) + ((scores == own).sum(axis=1) - 1) / 2
    return float(np.mean(1 / ranks))


def _unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _inverse_sqrt(covariance):
    values, vectors = np.linalg.eigh(covariance)
    return (vectors / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T


def regularised_cca(x, y, k, reg):
    """Projections (mean_x, A, mean_y, B) of a ridge-regularised CCA with ``k`` components:
    A = Cxx^-1/2 U, B = Cyy^-1/2 V from the SVD of Cxx^-1/2 Cxy Cyy^-1/2."""
    mean_x, mean_y = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - mean_x, y - mean_y
    cxx, cyy, cxy = xc.T @ xc / len(x), yc.T @ yc / len(y), xc.T @ yc / len(x)
    cxx += reg * np.trace(cxx) / len(cxx) * np.eye(len(cxx))
    cyy += reg * np.trace(cyy) / len(cyy) * np.eye(len(cyy))
    wx, wy = _inverse_sqrt(cxx), _inverse_sqrt(cyy)
    u, _, vt = np.linalg.svd(wx @ cxy @ wy)
    k = min(k, u.shape[1], vt.shape[0])
    return mean_x, wx @ u[:, :k], mean_y, wy @ vt.T[:, :k]


def cca_mrr(text, image, train, test, k, reg):
    mean_x, a, mean_y, b = regularised_cca(text[train], image[train], k, reg)
    return mean_reciprocal_rank((text[test] - mean_x) @ a, (image[test] - mean_y) @ b)


def choose_by_cross_validation(text, image, train, seed, folds=5):
    """(k, reg) of GRID with the best mean MRR over ``folds`` folds of the training apps."""
    parts = np.array_split(np.random.default_rng(seed).permutation(train), folds)
    scores = {}
    for k, reg in GRID:
        scores[(k, reg)] = np.mean([
            cca_mrr(text, image, np.concatenate(parts[:i] + parts[i + 1:]), parts[i], k, reg) for i in range(folds)
        ])
    return max(scores, key=scores.get)


def sklearn_cca_mrr(text, image, train, test, k=16):
    from sklearn.cross_decomposition import CCA
    from sklearn.preprocessing import StandardScaler

    sx, sy = StandardScaler().fit(text[train]), StandardScaler().fit(image[train])
    cca = CCA(n_components=k, max_iter=1000).fit(sx.transform(text[train]), sy.transform(image[train]))
    return mean_reciprocal_rank(*cca.transform(sx.transform(text[test]), sy.transform(image[test])))


def measure_variant(options, text, paths, train, test, seed, with_sklearn):
    encoder = ImageFeatureEncoder(cache_dir=False, progress=False, **options)
    start = time.perf_counter()
    image = encoder.encode(paths)
    seconds = time.perf_counter() - start
    k, reg = choose_by_cross_validation(text, image, train, seed)
    shuffled = np.random.default_rng(seed + 1).permutation(train)
    result = {
        "identity": encoder.identity, "dimension": encoder.dimension,
        "distinct_icons": len(set(paths)), "seconds": round(seconds, 2),
        "images_per_second": round(len(set(paths)) / seconds, 1),
        "regularised_cca": {"k": k, "reg": reg, "mrr": round(cca_mrr(text, image, train, test, k, reg), 4)},
        "regularised_cca_shuffled_pairs": round(_shuffled_mrr(text, image, train, shuffled, test, k, reg), 4),
    }
    if with_sklearn:
        result["sklearn_cca_16"] = round(sklearn_cca_mrr(text, image, train, test), 4)
    return result


def _shuffled_mrr(text, image, train, shuffled, test, k, reg):
    """The CCA fitted on texts paired with the wrong icons: must score at chance."""
    mean_x, a, mean_y, b = regularised_cca(text[train], image[shuffled], k, reg)
    return mean_reciprocal_rank((text[test] - mean_x) @ a, (image[test] - mean_y) @ b)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn's (slow) CCA")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    texts, paths = debian_apps()
    order = np.random.default_rng(args.seed).permutation(len(texts))
    train, test = order[: int(0.8 * len(texts))], order[int(0.8 * len(texts)):]
    text = get_encoder(progress=False).encode(texts)
    results = {
        "apps": len(texts), "train": len(train), "test": len(test), "seed": args.seed,
        "random_mrr": round(float(np.sum(1 / np.arange(1, len(test) + 1)) / len(test)), 4),
        "variants": {},
    }
    for name, options in VARIANTS.items():
        results["variants"][name] = measure_variant(options, text, paths, train, test, args.seed, not args.no_sklearn)
        logger.info("%s: %s", name, results["variants"][name])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "image_features.json").write_text(json.dumps(results, indent=2) + "\n")
    logger.info("random MRR %.4f; wrote %s", results["random_mrr"], RESULTS / "image_features.json")


if __name__ == "__main__":
    main()
