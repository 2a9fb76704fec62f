"""Checkpoints on disk: atomic ``.npz`` writes, sha256-verified loads, the shipped manifest."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .atomic_write import write_atomically
from .nn.network import Block, Network

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MANIFEST_PATH = WEIGHTS_DIR / "manifest.json"


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, tampered with, or does not fit the model."""


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_arrays(path: Path | str, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` as .npz atomically: a temp file in the same folder, then rename."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz")
    buffer = io.BytesIO()
    np.savez(buffer, **{key: np.asarray(value) for key, value in arrays.items()})
    return write_atomically(path, buffer.getvalue())


def load_arrays(path: Path | str, expected_sha256: str | None = None) -> dict[str, np.ndarray]:
    """Read an .npz without pickles; verify its sha256 first when one is expected."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file {path} does not exist")
    if expected_sha256 is not None:
        actual = sha256_of(path)
        if actual != expected_sha256:
            raise CheckpointError(
                f"checkpoint file {path} failed verification: sha256 {actual} does not match the "
                f"manifest's {expected_sha256}. The file is corrupt or was modified; restore it "
                f"(git checkout -- {path.name}) or retrain it with `python -m studies.pretrain`."
            )
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise CheckpointError(f"checkpoint file {path} cannot be read as .npz: {exc}") from exc


SOURCE_HEAD_PREFIX = "source_head."


def pack_model(base: Network, source_head: Block | None) -> dict[str, np.ndarray]:
    """The arrays of a checkpoint: the base's state, plus the source classifier's under ``source_head.``."""
    arrays = base.state_dict()
    if source_head is not None:
        arrays.update({SOURCE_HEAD_PREFIX + k: v for k, v in Network([source_head]).state_dict().items()})
    return arrays


def unpack_model(arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Split checkpoint arrays into (base state, source-head state)."""
    base = {k: v for k, v in arrays.items() if not k.startswith(SOURCE_HEAD_PREFIX)}
    head = {k[len(SOURCE_HEAD_PREFIX):]: v for k, v in arrays.items() if k.startswith(SOURCE_HEAD_PREFIX)}
    return base, head


def read_manifest(path: Path = MANIFEST_PATH) -> dict:
    if not path.is_file():
        return {"checkpoints": {}}
    return json.loads(path.read_text())


def write_manifest(manifest: dict, path: Path = MANIFEST_PATH) -> None:
    write_atomically(path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def checkpoint_name(architecture: str, input_shape: tuple[int, ...]) -> str:
    return f"{architecture}_{'x'.join(map(str, input_shape))}.npz"


def shipped_entry(architecture: str, input_shape: tuple[int, ...]) -> dict | None:
    """The manifest entry of the shipped checkpoint for this model, or None."""
    return read_manifest()["checkpoints"].get(checkpoint_name(architecture, input_shape))
