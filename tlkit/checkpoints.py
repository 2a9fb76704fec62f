"""Checkpoints on disk: atomic ``.npz`` writes, sha256-verified loads, the shipped manifest."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .nn.network import Block, Network
from .validation import FLOAT32_MAX, shape_text

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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **{key: np.asarray(value) for key, value in arrays.items()})
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return path


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


def check_state_dict(state, network: Network, strict: bool = True,
                     name: str = "state_dict") -> dict[str, np.ndarray]:
    """Every entry of ``state`` checked against ``network`` *before* anything is assigned.

    Returns the entries as float32 arrays of the network's shapes (with ``strict=False``
    only the keys the network has); raises a ValueError
    (a TypeError for a state that is not a mapping) naming the first bad key, so a failed
    load changes nothing. Checked: keys (all present and none unexpected, when
    ``strict``), shapes, dtypes (real numbers; integers and float64 convert when exact
    enough for float32), finite values within float32's range, and BatchNorm's
    ``running_var >= 0`` (the variance it divides by is ``running_var + eps``).
    """
    if not hasattr(state, "keys") or not hasattr(state, "__getitem__"):
        raise TypeError(
            f"{name} must be a dict of arrays keyed like model.state_dict() ('layer1.conv.W', ...); "
            f"got {type(state).__name__}"
        )
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False; got {strict!r}")
    own = {f"{block.name}.{key}": value for block in network.blocks for key, value in block.named_arrays()}
    odd = [key for key in state.keys() if not isinstance(key, str)]
    if odd:
        raise ValueError(f"{name} keys must be str like 'layer1.conv.W'; got {odd[:5]}")
    unexpected = sorted(set(state.keys()) - set(own))
    missing = sorted(set(own) - set(state.keys()))
    if strict and (unexpected or missing):
        raise ValueError(
            f"{name} does not match the network: missing keys {missing[:5]}"
            f"{' ...' if len(missing) > 5 else ''}, unexpected keys {unexpected[:5]}"
            f"{' ...' if len(unexpected) > 5 else ''}; the network's keys are like {sorted(own)[:3]}"
            + "; strict=False loads the keys that match and ignores the rest"
        )
    checked = {}
    for key in own:
        if key not in state:
            continue
        target, value = own[key], state[key]
        entry = f"{name}[{key!r}]"
        if value is None:
            raise ValueError(f"{entry} is None; expected an array of shape {shape_text(target.shape)}")
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{entry} cannot be read as an array ({exc})") from exc
        if arr.dtype.kind not in "biuf" or arr.dtype.kind == "b":
            raise ValueError(
                f"{entry} has dtype {arr.dtype}; expected real numbers (float32, float64 or integers)"
            )
        if arr.shape != target.shape:
            raise ValueError(
                f"{entry} has shape {shape_text(arr.shape)}; the network expects {shape_text(target.shape)}"
            )
        wide = arr.astype(np.float64, copy=False)
        if not np.all(np.isfinite(wide)):
            bad = int(arr.size - np.count_nonzero(np.isfinite(wide)))
            raise ValueError(f"{entry} contains {bad} NaN or infinite value(s); every value must be finite")
        if arr.size and float(np.max(np.abs(wide))) > FLOAT32_MAX:
            raise ValueError(
                f"{entry} holds values up to {float(np.max(np.abs(wide))):.3g}, beyond float32's range "
                f"(+-{FLOAT32_MAX:.3g})"
            )
        if key.endswith("running_var") and arr.size and float(wide.min()) < 0:
            raise ValueError(
                f"{entry} contains {float(wide.min()):g}; a variance must be >= 0 "
                "(BatchNorm divides by sqrt(running_var + eps))"
            )
        checked[key] = arr.astype(np.float32)
    return checked


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
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def checkpoint_name(architecture: str, input_shape: tuple[int, ...]) -> str:
    return f"{architecture}_{'x'.join(map(str, input_shape))}.npz"


def shipped_entry(architecture: str, input_shape: tuple[int, ...]) -> dict | None:
    """The manifest entry of the shipped checkpoint for this model, or None."""
    return read_manifest()["checkpoints"].get(checkpoint_name(architecture, input_shape))
