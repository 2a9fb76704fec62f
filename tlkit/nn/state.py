"""State dicts: every entry checked against a network before anything is assigned."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tlkit.argcheck import FLOAT32_MAX, shape_text

if TYPE_CHECKING:
    from .network import Network


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
    own = network.named_arrays()
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
