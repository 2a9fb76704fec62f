"""Checks on user input: every error names the argument, what was given and what is valid.

This is the one layer of argument checks at tlkit's public boundary. Arrays, labels, numbers,
layer names and choices are checked here; configs (``tlkit.config``) and state dicts
(``tlkit.nn.state``) build on these checks. The limits a check enforces are stated
as constants so a message (and a student) can name them:

* values must fit float32 (the engine computes in float32): ``FLOAT32_MAX``;
* at most ``MAX_CLASSES`` classes (a label of 10**9 asks for a head with 10**9 outputs);
* a wrong *kind* of argument (``None`` where a layer name belongs) is a ``TypeError``,
  a wrong *value* (an unknown learning-rate schedule, a negative count) a ``ValueError``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable

import numpy as np

FLOAT32_MAX = float(np.finfo(np.float32).max)  # about 3.4e38
MAX_CLASSES = 10_000


def shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def value_text(value) -> str:
    """A number as a reader expects it: 1000000000 for an int, 1e+20 for a float."""
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return f"{float(value):g}"


def _as_real_array(x, name: str) -> np.ndarray:
    """``x`` as a real (bool, integer or floating) NumPy array, or a ValueError naming ``name``."""
    if x is None:
        raise ValueError(f"{name} is None; give a numeric array-like (an array or nested lists of numbers)")
    if isinstance(x, str | bytes | dict) or (hasattr(x, "__next__") and not hasattr(x, "__len__")):
        raise ValueError(
            f"{name} must be a numeric array-like (an array or nested lists of numbers); "
            f"got {type(x).__name__}"
        )
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise ValueError(
            f"{name} must be a numeric array-like with one shape (nested lists of equal length); "
            f"could not read it as an array ({exc})"
        ) from exc
    if arr.dtype.kind == "c":
        raise ValueError(
            f"{name} holds complex numbers (dtype {arr.dtype}); tlkit computes with real float32 "
            f"values: pass {name}.real if the imaginary part means nothing"
        )
    if arr.dtype.kind in "USV":
        raise ValueError(
            f"{name} must hold numbers; got dtype {arr.dtype} (text): convert it to numbers first"
            + (" (class names to 0, 1, 2, ...)" if name.startswith("y") else "")
        )
    if arr.dtype.kind not in "biuf":
        try:  # an object array of Python numbers (Fraction, Decimal, ...) is fine
            arr = np.asarray(arr, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must hold numbers; got dtype {arr.dtype} that does not convert ({exc})"
            ) from exc
    return arr


def as_float_array(x, name: str = "x") -> np.ndarray:
    """An array-like (nested lists work) as a finite float32 array.

    Refused, with the reason: complex numbers, non-numbers, an empty array, NaN or infinite
    values, and values beyond float32's range (about 3.4e38), which would become infinite.
    """
    arr = _as_real_array(x, name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {shape_text(arr.shape)}); give at least one sample")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all():
            n_nan = int(np.count_nonzero(np.isnan(arr)))
            n_inf = int(arr.size - np.count_nonzero(finite)) - n_nan
            raise ValueError(
                f"{name} contains {n_nan + n_inf} NaN or infinite value(s) ({n_nan} NaN, {n_inf} infinite); "
                "all values must be finite"
            )
    if arr.dtype != np.float32 and arr.dtype.kind in "iuf":
        largest = float(np.max(np.abs(arr.astype(np.float64, copy=False))))
        if largest > FLOAT32_MAX:
            raise ValueError(
                f"{name} holds values up to {largest:.3g}, beyond float32's range (+-{FLOAT32_MAX:.3g}): "
                f"tlkit computes in float32, where they become infinite. Rescale {name} "
                "(e.g. standardise it to mean 0 and standard deviation 1)"
            )
    return arr.astype(np.float32, copy=False)


def check_finite_output(out: np.ndarray, x: np.ndarray, name: str = "x", what: str = "features") -> np.ndarray:
    """Refuse a non-finite network output: the input ``x`` overflowed float32 inside the engine."""
    if not np.all(np.isfinite(out)):
        largest = float(np.max(np.abs(x))) if x.size else 0.0
        raise ValueError(
            f"{name} overflows float32 inside the network: with input values up to {largest:.3g} the "
            f"{what} became infinite or NaN (float32 ends at {FLOAT32_MAX:.3g}). Rescale {name} "
            "(e.g. standardise it to mean 0 and standard deviation 1)"
        )
    return out


def as_batch(x, sample_shape: tuple[int, ...], name: str = "x") -> tuple[np.ndarray, bool]:
    """Return ``(batch, was_single)``: one sample of ``sample_shape`` or a batch of them."""
    arr = as_float_array(x, name)
    if arr.shape == tuple(sample_shape):
        return arr[None, ...], True
    if arr.ndim == len(sample_shape) + 1 and arr.shape[1:] == tuple(sample_shape):
        return arr, False
    expected = f"{shape_text(tuple(sample_shape))} for one sample or (N, {', '.join(map(str, sample_shape))})"
    raise ValueError(
        f"{name} has shape {shape_text(arr.shape)}; expected {expected} for a batch"
    )


def as_labels(y, n_samples: int, num_classes: int | None = None, name: str = "y") -> np.ndarray:
    """Integer class labels as int64, one per sample, within 0..num_classes-1.

    Without ``num_classes`` a label must still be a class index below ``MAX_CLASSES``.
    Integral floats (2.0) and booleans are accepted; fractions, NaN, complex numbers,
    strings and one-hot rows are refused.
    """
    if y is None:
        raise ValueError(f"{name} is None; give one integer class label per sample")
    arr = _as_real_array(y, name)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        hint = f" (one-hot rows? pass {name}.argmax(axis=1))" if arr.ndim == 2 else ""
        raise ValueError(
            f"{name} must be one label per sample (1-D); got shape {shape_text(arr.shape)}{hint}"
        )
    if len(arr) != n_samples:
        raise ValueError(
            f"X and {name} have different lengths: X has {n_samples} samples, {name} has {len(arr)} labels"
        )
    if arr.size and arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise ValueError(
                f"{name} must hold integer class labels 0, 1, 2, ...; got {value_text(arr[bad][0])} "
                f"(dtype {arr.dtype})"
            )
    limit = MAX_CLASSES if num_classes is None else num_classes
    if arr.size:
        low, high = arr.min(), arr.max()
        if low < 0 or high >= limit:
            offending = low if low < 0 else high
            valid = (f"valid labels are 0..{num_classes - 1} for num_classes={num_classes}"
                     if num_classes is not None else
                     f"labels are class indices 0, 1, 2, ... below {MAX_CLASSES:,} (tlkit's limit on classes)")
            raise ValueError(f"{name} contains label {value_text(offending)}; {valid}")
    return arr.astype(np.int64)


def infer_num_classes(labels: np.ndarray, num_classes: int | None = None, name: str = "y") -> int:
    """The number of classes: ``num_classes`` when given (labels checked against it), else
    ``max(label) + 1``, and at least 2 (a dataset whose labels are all 0 still trains)."""
    if num_classes is not None:
        num_classes = check_num_classes(num_classes)
        as_labels(labels, len(labels), num_classes, name)
        return num_classes
    labels = as_labels(labels, len(np.asarray(labels).reshape(-1)), None, name)
    return max(2, int(labels.max()) + 1 if labels.size else 2)


def warn_if_single_class(labels: np.ndarray, where: str = "compare_strategies", stacklevel: int = 3) -> bool:
    """Warn (and return True) when every label is the same: every strategy will score 1.0
    once it learns to predict that class, so a comparison on such data says nothing."""
    present = np.unique(np.asarray(labels))
    if present.size == 1:
        warnings.warn(
            f"{where}: every label is {int(present[0])}: one class is present, so every strategy "
            "will score 1.0 once it learns to always predict it (a short run may not have yet), "
            "and the comparison says nothing about transfer. Give examples of at least two classes.",
            UserWarning, stacklevel=stacklevel,
        )
        return True
    return False


def check_num_classes(num_classes, name: str = "num_classes") -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise ValueError(f"{name} must be an integer in 2..{MAX_CLASSES:,}; got {num_classes!r}")
    if num_classes < 2 or num_classes > MAX_CLASSES:
        raise ValueError(
            f"{name} must be an integer in 2..{MAX_CLASSES:,} (tlkit's limit on classes); got {num_classes}"
        )
    return int(num_classes)


def check_real(value, name: str, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float within the bounds (a Fraction or a NumPy number works too)."""
    bounds = _bounds_text(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite number {bounds}; got {value!r} ({type(value).__name__})")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{name} must be a finite number {bounds}; got {value!r}")
    if low is not None and (number < low or (low_open and number == low)):
        raise ValueError(f"{name} must be {bounds}; got {value_text(number)}")
    if high is not None and (number > high or (high_open and number == high)):
        raise ValueError(f"{name} must be {bounds}; got {value_text(number)}")
    return number


def _bounds_text(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def check_positive(value, name: str) -> float:
    """A finite number > 0, as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    if number <= 0:
        raise ValueError(f"{name} must be > 0; got {value_text(value)}")
    return number


def check_int(value, name: str, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int in ``[minimum, maximum]`` (numpy integers too; bools and floats refused)."""
    bounds = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum:,}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer {bounds}; got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {bounds}; got {value}")
    return int(value)


def check_batch_size(batch_size, name: str = "batch_size") -> int:
    """A minibatch size: an integer >= 1 (larger than the data is fine: one batch)."""
    return check_int(batch_size, name, 1)


def check_bool(value, name: str) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise ValueError(f"{name} must be True or False; got {value!r}")


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Demand an explicit ``np.random.Generator``: no global random state anywhere."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name} must be a numpy.random.Generator, e.g. np.random.default_rng(0); "
            f"got {type(rng).__name__}"
        )
    return rng


def check_choice(value, name: str, valid: Iterable[str]) -> str:
    valid = list(valid)
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}; got {value!r}")
    return value


# -- layer names -------------------------------------------------------------------------------
# One policy everywhere (PretrainedModel and the strategies):
# * a name must be a str: anything else is a TypeError naming the argument;
# * freeze/unfreeze with an unknown name warn, naming the valid names, and change nothing;
# * set_layer_learning_rate (and layers_to_unfreeze at construction) raise a ValueError;
# * is_frozen of an unknown name is False (the course's contract);
# * ``None`` means "every block" for freeze/unfreeze (and "no block" only where the
#   contract says so: FineTuner's layers_to_unfreeze).

def check_layer_name(name, valid: list[str] | None = None, arg: str = "name") -> str:
    """A single layer name: a str (TypeError otherwise); with ``valid``, one of them (ValueError)."""
    if not isinstance(name, str):
        raise TypeError(
            f"{arg} must be a layer name (a str such as 'layer1'); got {name!r} ({type(name).__name__})"
            + (f"; valid names are {valid}" if valid else "")
        )
    if valid is not None and name not in valid:
        raise ValueError(f"{arg} must be one of the layer names {valid}; got {name!r}")
    return name


def resolve_layer_names(layer_names, valid: list[str], action: str, arg: str = "layer_names",
                        unknown: str = "warn", stacklevel: int = 3) -> list[str]:
    """``layer_names`` (None: all of ``valid``; a str; or an iterable of str) as a list.

    An entry that is not a str is a TypeError. Unknown names warn (``unknown="warn"``: the
    result is empty, so nothing changes) or raise a ValueError (``unknown="raise"``).
    """
    if layer_names is None:
        return list(valid)
    if isinstance(layer_names, str):
        names = [layer_names]
    else:
        try:
            names = list(layer_names)
        except TypeError:
            raise TypeError(
                f"{arg} must be None, a layer name or a list of layer names from {valid}; "
                f"got {layer_names!r} ({type(layer_names).__name__})"
            ) from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"{arg} must hold layer names (str) from {valid}; got {name!r} ({type(name).__name__})"
            )
    missing = [n for n in names if n not in valid]
    if missing:
        if unknown == "raise":
            raise ValueError(f"{arg} contains unknown layer name(s) {missing}; valid names are {valid}")
        warnings.warn(
            f"{action}: unknown layer name(s) {missing}; valid names are {valid}. Nothing was changed.",
            UserWarning, stacklevel=stacklevel,
        )
        return []
    return names


def check_dropout(dropout, name: str = "dropout") -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
        raise ValueError(f"{name} must be a number in [0, 1); got {dropout!r}")
    return float(dropout)


def check_hidden_units(hidden_units) -> int | None:
    if hidden_units is None:
        return None
    return check_int(hidden_units, "hidden_units", 1)
