"""Checkpoints: atomic writes, pickle-free loads, sha256 verification, the shipped manifest."""

import shutil

import numpy as np
import pytest

from tlkit import PretrainedModel, checkpoints
from tlkit.checkpoints import CheckpointError

MANIFEST = checkpoints.read_manifest()["checkpoints"]


def test_save_arrays_is_atomic_and_round_trips(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array("text")}
    path = checkpoints.save_arrays(tmp_path / "x.npz", arrays)
    loaded = checkpoints.load_arrays(path)
    np.testing.assert_array_equal(loaded["a"], arrays["a"])
    assert str(loaded["b"]) == "text"
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]


def test_a_tampered_file_fails_verification_naming_the_file(tmp_path):
    path = checkpoints.save_arrays(tmp_path / "w.npz", {"w": np.ones(4, np.float32)})
    digest = checkpoints.sha256_of(path)
    checkpoints.save_arrays(path, {"w": np.full(4, 2, np.float32)})
    with pytest.raises(CheckpointError, match="w.npz"):
        checkpoints.load_arrays(path, expected_sha256=digest)


def test_a_corrupt_file_is_reported_naming_the_file(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointError, match="broken.npz"):
        checkpoints.load_arrays(path)


def test_a_pickled_object_array_is_refused(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, evil=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="pickled.npz"):
        checkpoints.load_arrays(path)["evil"]


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="nowhere.npz"):
        checkpoints.load_arrays(tmp_path / "nowhere.npz")


def test_load_of_a_file_without_metadata_is_explained(tmp_path):
    path = checkpoints.save_arrays(tmp_path / "plain.npz", {"layer1.conv.W": np.zeros(3, np.float32)})
    with pytest.raises(CheckpointError, match="plain.npz"):
        PretrainedModel.load(path)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_every_shipped_checkpoint_matches_its_manifest(name):
    entry = MANIFEST[name]
    path = checkpoints.WEIGHTS_DIR / entry["file"]
    assert checkpoints.sha256_of(path) == entry["sha256"]
    assert path.stat().st_size < 1_000_000
    for field in ("source", "recipe", "source_test_accuracy", "fingerprint", "command"):
        assert field in entry, field
    assert entry["source"]["contains_real_digits"] is False
    model = PretrainedModel(entry["architecture"], tuple(entry["input_shape"]))
    assert model.source["kind"] == "shipped checkpoint" and model.source["file"] == entry["file"]


def test_the_default_models_load_shipped_checkpoints():
    assert {"simple_8x8.npz", "medium_8x8.npz", "deep_8x8.npz"} <= set(MANIFEST)


def test_a_tampered_shipped_checkpoint_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "weights"
    shutil.copytree(checkpoints.WEIGHTS_DIR, copy)
    with open(copy / "simple_8x8.npz", "r+b") as handle:
        handle.seek(200)
        byte = handle.read(1)
        handle.seek(200)
        handle.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setattr(checkpoints, "WEIGHTS_DIR", copy)
    with pytest.raises(CheckpointError, match="simple_8x8.npz"):
        PretrainedModel("simple")
