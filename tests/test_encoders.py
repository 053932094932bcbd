import numpy as np
import pytest

from polytopic import EncoderError
from polytopic.encoders import MultilingualUSEEncoder, VectorCache, check_embeddings, get_encoder
from polytopic.encoders.cache import text_key


def test_vector_cache_round_trip_and_identity_check(tmp_path):
    cache = VectorCache(tmp_path, "enc:a", 3)
    keys = [text_key("x"), text_key("y")]
    cache.put(keys, np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))
    vectors, found = cache.get([text_key("y"), text_key("z"), text_key("x")])
    np.testing.assert_array_equal(found, [True, False, True])
    np.testing.assert_array_equal(vectors, [[4, 5, 6], [0, 0, 0], [1, 2, 3]])
    assert len(VectorCache(tmp_path, "enc:a", 3)) == 2  # persists across instances
    with pytest.raises(EncoderError):
        cache.put(keys, np.zeros((2, 4)))
    other = VectorCache(tmp_path, "enc:b", 3)  # another identity never sees these vectors
    assert other.path != cache.path and not other.get(keys)[1].any()
    with pytest.raises(EncoderError, match="belongs to another encoder"):
        VectorCache(tmp_path, "enc:a", 4)  # same file, other dimension: refused, not misread


def test_encode_dedupes_keeps_order_and_reads_back_from_cache(tmp_path, hash_encoder_cls):
    texts = ["bb", "a", "ccc", "a", "dddd"]
    first = hash_encoder_cls(batch_size=2, cache_dir=tmp_path, progress=False)
    out = first.encode(texts)
    assert out.shape == (5, 8) and out.dtype == np.float32
    np.testing.assert_array_equal(out[1], out[3])
    assert sum(len(b) for b in first.batches) == 4  # "a" encoded once
    # length-sorted batches: longest first
    assert first.batches[0] == ["dddd", "ccc"]
    second = hash_encoder_cls(batch_size=3, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(second.encode(texts), out)
    assert second.batches == []  # everything came from the cache
    third = hash_encoder_cls(batch_size=1, cache_dir=False, sort_by_length=False, progress=False)
    np.testing.assert_array_equal(third.encode(texts), out)  # batch size does not change vectors
    assert third.batches[0] == ["a"]


def test_encoder_rejects_nan_and_bad_input(tmp_path, hash_encoder_cls):
    class NaNEncoder(hash_encoder_cls):
        def _encode_batch(self, texts):
            return np.full((len(texts), 8), np.nan)

    with pytest.raises(EncoderError, match="NaN"):
        NaNEncoder(cache_dir=False, progress=False).encode(["x"])
    with pytest.raises(EncoderError, match="single string"):
        hash_encoder_cls(cache_dir=False).encode("x")
    with pytest.raises(EncoderError, match="NaN"):
        check_embeddings(np.array([[0.0, np.nan]]), 1)
    with pytest.raises(EncoderError, match="shape"):
        check_embeddings(np.zeros((2, 3)), 3)


def test_packaged_minilm_loads_offline_and_separates_meanings():
    encoder = get_encoder(progress=False)
    assert encoder.dimension == 384
    a, b, c = encoder.encode(["a cat sleeps on the sofa", "the kitten naps on a couch",
                              "compiler for the rust programming language"])
    cos = lambda x, y: float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))  # noqa: E731
    assert cos(a, b) > cos(a, c) + 0.3


def test_second_encode_never_touches_the_model(english_corpus, minilm_embeddings, monkeypatch):
    encoder = get_encoder(progress=False)
    monkeypatch.setattr(type(encoder), "_encode_batch", lambda self, texts: pytest.fail("re-encoded"))
    np.testing.assert_array_equal(encoder.encode(english_corpus.texts()), minilm_embeddings)


def test_unloadable_model_is_an_encoder_error(tmp_path):
    with pytest.raises(EncoderError, match="cannot load"):
        get_encoder(str(tmp_path / "no-such-model"), progress=False).encode(["x"])


def test_multilingual_use_aligns_translations():
    encoder = MultilingualUSEEncoder(progress=False)
    en, de, other = encoder.encode(["the cat sleeps", "die Katze schläft", "Steuererklärung für Firmen"])
    assert en @ de > 0.7 and en @ other < 0.4


def test_a_changed_weight_gives_a_new_identity_and_no_cached_vectors(tmp_path):
    """A fine-tuned copy (one weight changed, same file sizes) never reads its base
    model's cached vectors; an untouched copy elsewhere shares them."""
    import shutil

    from safetensors.numpy import load_file, save_file

    from polytopic.encoders.sentence import packaged_minilm_path

    base_dir = tmp_path / "base"
    shutil.copytree(packaged_minilm_path(), base_dir)
    same_dir = tmp_path / "moved" / "same"
    shutil.copytree(base_dir, same_dir)
    tuned_dir = tmp_path / "tuned"
    shutil.copytree(base_dir, tuned_dir)
    weights = tuned_dir / "model.safetensors"
    arrays = load_file(str(weights))
    name = next(k for k in arrays if k.endswith("word_embeddings.weight"))
    arrays[name][0, 0] += 1.0
    save_file(arrays, str(weights))

    cache = tmp_path / "cache"
    base = get_encoder(str(base_dir), cache_dir=cache, progress=False)
    vectors = base.encode(["a text about kernels"])
    same = get_encoder(str(same_dir), cache_dir=cache, progress=False)
    tuned = get_encoder(str(tuned_dir), cache_dir=cache, progress=False)
    assert same.identity == base.identity and tuned.identity != base.identity
    np.testing.assert_array_equal(same.encode(["a text about kernels"]), vectors)
    assert len(tuned.cache) == 0 and len(base.cache) == 1


def test_fingerprints_are_memoised(tmp_path, monkeypatch):
    from polytopic.encoders import identity

    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"0" * 1000)
    first = identity.directory_fingerprint(model, tmp_path)
    monkeypatch.setattr(identity, "file_digest", lambda path: pytest.fail("hashed again"))
    assert identity.directory_fingerprint(model, tmp_path) == first
    monkeypatch.undo()
    (model / "weights.bin").write_bytes(b"1" * 1000)  # same size, new content and mtime
    assert identity.directory_fingerprint(model, tmp_path) != first
