"""Shared fixtures: small real data from shared/data/debian (copied into tests/data),
a private vector cache per test session, and sentence embeddings computed once."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

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
