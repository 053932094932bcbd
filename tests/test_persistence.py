import json

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
