"""Shared fixtures: small real data from shared/data/debian (copied into tests/data),
a private vector cache per test session, sentence embeddings computed once, small corpora
with planted topics, and a count of model loads and corpus reads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from polytopic import Corpus

DATA = Path(__file__).parent / "data"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every test session writes vectors to its own cache, never to the user's."""
    path = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("POLYTOPIC_CACHE_DIR")
    os.environ["POLYTOPIC_CACHE_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("POLYTOPIC_CACHE_DIR", None)
    else:
        os.environ["POLYTOPIC_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def aligned_corpus():
    """400 Debian package descriptions present in en, de, fr and it, with labels."""
    from polytopic.datasets import read_jsonl

    return read_jsonl(DATA / "debian-aligned-400.jsonl.gz")


@pytest.fixture(scope="session")
def english_corpus(aligned_corpus):
    from polytopic import Corpus

    return Corpus(aligned_corpus.texts("en"), language="en", ids=aligned_corpus.ids,
                  labels={"section": aligned_corpus.labels["section"]})


@pytest.fixture(scope="session")
def minilm_embeddings(english_corpus):
    """The packaged MiniLM's vectors of the 400 English texts (cached for the session)."""
    from polytopic.encoders import get_encoder

    return get_encoder(progress=False).encode(english_corpus.texts())


@pytest.fixture(scope="session")
def use_vectors(aligned_corpus):
    """Multilingual USE vectors of 200 aligned English and German descriptions."""
    from polytopic.encoders import MultilingualUSEEncoder

    encoder = MultilingualUSEEncoder(progress=False)
    sub = aligned_corpus.subset(np.arange(200))
    return sub, encoder.encode(sub.texts("en")), encoder.encode(sub.texts("de"))


@pytest.fixture
def hash_encoder_cls():
    from polytopic.encoders import Encoder

    class _HashEncoder(Encoder):
        """Deterministic vectors from a text's bytes; records every batch it sees."""

        name = "hash-test"
        dimension = 8

        def __init__(self, **options):
            super().__init__(**options)
            self.batches: list[list[str]] = []

        @property
        def identity(self):
            return "hash-test:v1"

        def _encode_batch(self, texts):
            self.batches.append(list(texts))
            rows = [np.frombuffer((t * 8).encode()[:8].ljust(8, b"\0"), dtype=np.uint8) for t in texts]
            return np.stack(rows).astype(np.float32) / 255.0

    return _HashEncoder


@pytest.fixture(scope="session")
def chromium():
    """The headless Chromium that tests/chromium.py drives. Tests needing it (e.g. through
    ``pytest.mark.usefixtures("chromium")``) skip without one, but fail when
    POLYTOPIC_REQUIRE_BROWSER=1, so that CI cannot pass by skipping them."""
    from chromium import find_chromium

    path = find_chromium()
    if path is None:
        reason = "no Chromium on PATH (Debian: apt-get install chromium)"
        if os.environ.get("POLYTOPIC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and POLYTOPIC_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    return path


@dataclass(frozen=True)
class Planted:
    """A corpus whose topics are known: ``topics`` are the planted word lists and
    ``labels[d]`` the topic document d was drawn from (None where documents mix topics)."""

    corpus: Corpus
    topics: list[list[str]]
    labels: np.ndarray | None

    def vectors(self, dimension: int = 8, distance: float = 5.0, noise: float = 0.3, seed: int = 0) -> np.ndarray:
        """Embeddings that separate the planted topics: topic k's documents lie around
        ``distance`` times the k-th unit vector, with Gaussian noise of sd ``noise``."""
        rng = np.random.default_rng(seed)
        return np.eye(dimension)[self.labels] * distance + rng.normal(0, noise, (len(self.labels), dimension))


def make_planted(topics, n_docs: int, *, doc_length: int | None = None, mode: str = "draw",
                 seed: int = 0) -> Planted:
    """``n_docs`` documents over the disjoint word lists ``topics`` (K of them).

    - ``mode="draw"``: document d draws ``doc_length`` words, with replacement, from
      ``topics[d % K]`` alone;
    - ``mode="whole"``: document d is ``topics[d % K]``, every word once, in order;
    - ``mode="groups"``: each topic joins a document with probability 0.5 and each of its
      words then with probability 0.9, and every document ends in "filler text": the words
      of one topic occur together, the topics independently of each other (no labels).
    """
    from polytopic import Corpus

    rng = np.random.default_rng(seed)
    topics = [list(words) for words in topics]
    labels = np.arange(n_docs) % len(topics)
    if mode == "draw":
        texts = [" ".join(rng.choice(topics[k], size=doc_length)) for k in labels]
    elif mode == "whole":
        texts = [" ".join(topics[k]) for k in labels]
    elif mode == "groups":
        texts = [" ".join([w for g in topics if rng.random() < 0.5 for w in g if rng.random() < 0.9]
                          + ["filler", "text"]) for _ in range(n_docs)]
        labels = None
    else:
        raise ValueError(f"unknown mode {mode!r}")
    return Planted(Corpus(texts, language="en"), topics, labels)


@pytest.fixture(scope="session")
def planted():
    """:func:`make_planted`: ``planted(topics, n_docs, doc_length=..., mode=..., seed=...)``
    gives a :class:`Planted` corpus (session-scoped, so module fixtures can use it)."""
    return make_planted


@pytest.fixture
def load_counts(monkeypatch):
    """From the moment the test asks for it, how many times a model's arrays are loaded
    (``files.read_arrays``) and a corpus file is read (``datasets._build``):
    ``{"loads": n, "reads": n}``, updated as the test runs."""
    from polytopic import datasets
    from polytopic.models import files

    counts = {"loads": 0, "reads": 0}

    def counted(name, real):
        def call(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(files, "read_arrays", counted("loads", files.read_arrays))
    monkeypatch.setattr(datasets, "_build", counted("reads", datasets._build))
    return counts
