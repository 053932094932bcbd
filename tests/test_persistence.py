import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from polytopic import ModelFileError, ProdLDA, load_model
from polytopic.persistence import atomic_directory


def test_failed_block_leaves_nothing_behind(tmp_path):
    target = tmp_path / "run"
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as tmp:
            (tmp / "half.json").write_text("{}")
            raise RuntimeError("fit failed")
    assert list(tmp_path.iterdir()) == []


def test_existing_directory_needs_overwrite(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(ModelFileError, match="already exists"):
        with atomic_directory(tmp_path / "run"):
            pass
    with atomic_directory(tmp_path / "run", overwrite=True) as tmp:
        (tmp / "new").write_text("x")
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["new"]


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _temporary(parent: Path, name: str, pid: int, host: str | None = None, kind: str = "tmp") -> Path:
    host = host or re.sub(r"[^A-Za-z0-9-]+", "-", socket.gethostname())
    path = parent / f".{name}.{host}-{pid}.abc_123x.{kind}"
    path.mkdir()
    (path / "half.json").write_text("{}")
    return path


def test_stale_temporaries_of_the_run_are_swept_when_it_is_next_written(tmp_path):
    """Left by kill -9: only this run's, from this host, whose process is gone, go."""
    dead = _dead_pid()
    stale = [_temporary(tmp_path, "run", dead), _temporary(tmp_path, "run", dead, kind="old")]
    kept = [
        _temporary(tmp_path, "run", os.getpid()),  # a live writer (this process)
        _temporary(tmp_path, "run", dead, host="another-node"),  # a shared disk: cannot tell
        _temporary(tmp_path, "run.1", dead),  # another run
        _temporary(tmp_path, "other", dead),
    ]
    with atomic_directory(tmp_path / "run") as tmp:
        assert tmp.name.startswith(".run.") and f"-{os.getpid()}." in tmp.name
        (tmp / "done").write_text("x")
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept)
    assert (tmp_path / "run" / "done").is_file()


def test_a_killed_writer_leaves_a_temporary_the_next_write_removes(tmp_path):
    """A real kill -9 (nothing can clean up then), then the next write of the same run."""
    script = ("import sys, time\n"
              "from polytopic.persistence import atomic_directory\n"
              "with atomic_directory(sys.argv[1]):\n"
              "    print('ready', flush=True)\n"
              "    time.sleep(60)\n")
    writer = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "run")], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "ready\n"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert len(list(tmp_path.glob(".run.*.tmp"))) == 1
    with atomic_directory(tmp_path / "run"):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory, english_corpus):
    path = tmp_path_factory.mktemp("saved") / "model"
    ProdLDA(n_topics=3, epochs=2, progress=False).fit(english_corpus).save(path)
    return path


def copy_of(saved, tmp_path):
    import shutil

    return shutil.copytree(saved, tmp_path / "copy")


def test_missing_directory_and_files(tmp_path, saved):
    with pytest.raises(ModelFileError, match="no such model directory"):
        load_model(tmp_path / "nothing")
    broken = copy_of(saved, tmp_path)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ModelFileError, match="missing"):
        load_model(broken)


@pytest.mark.parametrize("damage", [
    lambda d: (d / "config.json").write_text("{not json"),
    lambda d: (d / "model.safetensors").write_bytes(b"\x00" * 40),
    lambda d: (d / "vocabulary.json").write_text(json.dumps({"en": {"words": ["a"]}})),
    lambda d: (d / "config.json").write_text(
        (d / "config.json").read_text().replace('"model": "prodlda"', '"model": "nope"')),
])
def test_corrupted_files_are_model_file_errors(tmp_path, saved, damage):
    broken = copy_of(saved, tmp_path)
    damage(broken)
    with pytest.raises(ModelFileError):
        load_model(broken)


def test_newer_format_is_refused(tmp_path, saved):
    broken = copy_of(saved, tmp_path)
    config = json.loads((broken / "config.json").read_text())
    config["format_version"] = 99
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="newer polytopic"):
        load_model(broken)


def test_files_are_plain_json_and_safetensors(saved):
    config = json.loads((saved / "config.json").read_text())
    assert config["model"] == "prodlda" and config["params"]["n_topics"] == 3
    from safetensors.numpy import load_file

    arrays = load_file(str(saved / "model.safetensors"))
    assert arrays["decoder.beta"].shape == (3, len(json.loads((saved / "vocabulary.json").read_text())["en"]["words"]))
    assert np.isfinite(arrays["decoder.beta"]).all()


def test_directories_and_arrays_follow_the_umask(tmp_path):
    """Mkdtemp makes 0700 and safetensors 0600: a saved directory is made as readable as
    any file the user writes, so a group can share runs."""
    import os

    from polytopic.persistence import atomic_directory, write_arrays

    previous = os.umask(0o022)
    try:
        with atomic_directory(tmp_path / "shared") as tmp:
            write_arrays(tmp / "a.safetensors", {"x": np.zeros(3)})
    finally:
        os.umask(previous)
    assert (tmp_path / "shared").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "shared" / "a.safetensors").stat().st_mode & 0o777 == 0o644
