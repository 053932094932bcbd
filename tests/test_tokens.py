import logging

import numpy as np
import pytest

from polytopic import EncoderError
from polytopic.encoders.tokens import TokenEncoder


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return TokenEncoder(progress=False, cache_dir=tmp_path_factory.mktemp("tokens"))


def test_word_pieces_merge_into_lowercased_words(encoder):
    [chunk] = encoder.iter_encode(["Thunderbird reads e-mail.", "short"])
    assert chunk.words[0] == ["thunderbird", "reads", "e", "-", "mail", "."]
    assert chunk.vectors[0].shape == (6, encoder.dimension) and chunk.vectors[0].dtype == np.float16
    np.testing.assert_array_equal(chunk.positions, [0, 1])


def test_cache_returns_the_same_vectors_without_encoding(encoder, monkeypatch):
    first = next(encoder.iter_encode(["a cached text about kernels"]))
    monkeypatch.setattr(type(encoder), "_encode", lambda self, pieces: pytest.fail("re-encoded"))
    second = next(encoder.iter_encode(["a cached text about kernels"]))
    np.testing.assert_array_equal(first.vectors[0], second.vectors[0])
    fresh = TokenEncoder(progress=False, cache_dir=encoder.cache_dir)  # another instance, same store
    np.testing.assert_array_equal(next(fresh.iter_encode(["a cached text about kernels"])).vectors[0],
                                  first.vectors[0])


def test_long_texts_are_split_into_windows_with_a_warning(encoder, caplog):
    text = "the kernel loads a driver module " * 80  # > 256 word pieces
    small = TokenEncoder(progress=False, cache_dir=False, window=16)
    with caplog.at_level(logging.WARNING):
        chunk, _, _ = small.iter_encode([text, "a short one", text.upper()], chunk_size=1)
    # one warning for the call, counting both long texts, not one per chunk
    [record] = [r for r in caplog.records if "split into windows" in r.getMessage()]
    assert record.getMessage().startswith("2 of 3 texts")
    assert len(chunk.words[0]) == len(text.split()) and np.isfinite(chunk.vectors[0]).all()
    # windows are cut between words: in a window of 16, each word keeps its own context
    word_of = np.repeat(np.arange(16), [2, 3] * 8)  # 40 pieces, words of 2 and 3 pieces
    cuts = small._windows(word_of)
    assert cuts[0] == (0, 12)  # 2+3+2+3+2 = 12: the next word would pass 14
    assert all(b - a <= 14 and (b == 40 or word_of[b] != word_of[b - 1]) for a, b in cuts)


def test_bad_window_and_missing_model():
    with pytest.raises(EncoderError, match="window"):
        _ = TokenEncoder(window=10_000, cache_dir=False).window
    with pytest.raises(EncoderError, match="cannot load"):
        _ = TokenEncoder("/no/such/model", cache_dir=False).tokenizer
