"""Encoding on a local Ray cluster (polytopic[ray]): the same vectors as in-process, into
the same cache, a killed worker retried without losing or repeating rows, and a clear
error without the extra."""

import os
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from polytopic.cli import main
from polytopic.encoders import get_encoder
from polytopic.encoders.cache import text_key
from polytopic.engine import RayEngine
from polytopic.errors import DependencyError

ray = pytest.importorskip("ray")

DATA = os.path.join(os.path.dirname(__file__), "data", "debian-aligned-400.jsonl.gz")


@pytest.fixture(scope="module")
def cluster():
    """A local two-CPU Ray for this module (what `ray start --head` is on one machine)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow  # MiniLM loaded by each Ray worker: over a minute on 2 cores
def test_ray_vectors_equal_in_process_ones_and_land_in_the_cache(cluster, english_corpus, tmp_path):
    texts = english_corpus.texts()[:120]
    local = get_encoder(progress=False, cache_dir=False).encode(texts)
    encoder = get_encoder(progress=False, cache_dir=tmp_path)
    on_ray = encoder.encode(texts, engine=RayEngine(workers=2))
    # the same weights on the same texts in another process: float32 rounding at most
    np.testing.assert_allclose(on_ray, local, rtol=0, atol=1e-5)
    # every vector is in the cache: a second encode computes nothing
    vectors, found = encoder.cache.get([text_key(t) for t in texts])
    assert found.all()
    np.testing.assert_array_equal(vectors, on_ray)


def test_a_killed_worker_is_retried_without_losing_or_repeating_rows(cluster, hash_encoder_cls, tmp_path):
    class DiesOnce(hash_encoder_cls):
        """Kills its own worker process at its first batch, once per test (a marker file)."""

        marker = str(tmp_path / "died")

        def _encode_batch(self, texts):
            if not os.path.exists(self.marker):
                open(self.marker, "w").close()
                os._exit(1)
            return super()._encode_batch(texts)

    texts = [f"text number {i}" for i in range(3000)]
    expected = hash_encoder_cls(cache_dir=False, progress=False).encode(texts)
    vectors = DiesOnce(cache_dir=tmp_path, progress=False).encode(texts, engine=RayEngine(workers=2))
    assert os.path.exists(DiesOnce.marker)  # a worker did die
    np.testing.assert_array_equal(vectors, expected)


@pytest.mark.slow  # MiniLM loaded by each Ray worker: over a minute on 2 cores
def test_encode_command_on_ray_writes_what_the_local_one_does(cluster, tmp_path):
    runner = CliRunner()
    outputs = {}
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.npy"
        result = runner.invoke(main, ["-q", "encode", DATA, "--language", "it", "--output", str(out),
                                      "--engine", engine, "--workers", "2"], env={"POLYTOPIC_CACHE_DIR":
                                                                                   str(tmp_path / engine)})
        assert result.exit_code == 0, result.output
        outputs[engine] = np.load(out)
    assert outputs["ray"].shape == (400, 384)
    np.testing.assert_allclose(outputs["ray"], outputs["local"], atol=1e-5)


def test_without_the_extra_the_engine_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails
    with pytest.raises(DependencyError, match=r'pip install "polytopic\[ray\]"'):
        get_encoder(progress=False, cache_dir=tmp_path).encode(["a text"], engine=RayEngine())
    result = CliRunner().invoke(main, ["encode", DATA, "--engine", "ray"])
    assert result.exit_code != 0
    assert 'pip install "polytopic[ray]"' in result.output and "Traceback" not in result.output


@pytest.mark.slow  # MiniLM loaded by each Ray worker: over a minute on 2 cores
def test_fit_on_ray_encodes_there_then_fits_from_the_cache(cluster, tmp_path):
    import json

    runner = CliRunner()
    env = {"POLYTOPIC_CACHE_DIR": str(tmp_path / "cache")}
    args = ["-q", "fit", DATA, "--model", "clustering", "--topics", "5", "--language", "de"]
    on_ray = runner.invoke(main, [*args, "--out", str(tmp_path / "ray"), "--engine", "ray", "--workers", "2"],
                           env=env)
    assert on_ray.exit_code == 0, on_ray.output
    stages = json.loads((tmp_path / "ray" / "run.json").read_text())["stages"]
    assert stages["encode on the engine"]["items"] == 400
    local = runner.invoke(main, [*args, "--out", str(tmp_path / "local")],
                          env={"POLYTOPIC_CACHE_DIR": str(tmp_path / "other")})
    assert local.exit_code == 0, local.output
    assert (tmp_path / "ray" / "topics.txt").read_text() == (tmp_path / "local" / "topics.txt").read_text()
