"""Plain data: the only thing a student's code hands back to the instructor.

``encode`` turns an object into JSON text and accepts only objects whose type is *exactly*
one of ``bool``, ``int``, ``float``, ``str``, ``None``, ``list``, ``tuple``, ``dict`` (with
``str`` keys), a numeric or boolean ``np.ndarray`` or a NumPy scalar. Anything else, a
``str`` subclass with a rigged ``__eq__`` included, is refused with the path and the type::

    PlainDataError: output[2]: a str subclass 'EvilStr' is not a str

``decode`` rebuilds the object with those exact types, so the instructor's comparison only
ever sees built-in values and fresh arrays. Everything that is not a JSON number, string,
boolean, null or list is tagged, and the decoder accepts only these tags::

    {"__tuple__": [...]}                                  a tuple
    {"__dict__": {"key": ...}}                            a dict
    {"__ndarray__": "<f4", "shape": [2, 3], "data": "<base64>"}   an array
    {"__npscalar__": "<i8", "data": "<base64>"}           a NumPy scalar
    {"__float__": "nan" | "inf" | "-inf"}                 a non-finite float
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np

__all__ = ["PlainDataError", "encode", "decode", "MAX_BYTES", "MAX_DEPTH"]

MAX_BYTES = 16 * 1024 * 1024  # refuse to decode more than this (JSON text, in characters)
MAX_DEPTH = 64  # nesting of lists, tuples and dicts
_ARRAY_KINDS = "biufc"  # bool, signed, unsigned, float, complex
_FLOAT_TAGS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_TYPE_NAMES = {bool: "bool", int: "int", float: "float", str: "str", list: "list",
               tuple: "tuple", dict: "dict"}


class PlainDataError(ValueError):
    """An object is not plain data (encode), or a text is not what encode writes (decode)."""


# --------------------------------------------------------------------------------------
# encode
# --------------------------------------------------------------------------------------


def encode(obj: Any, *, root: str = "output") -> str:
    """``obj`` as JSON text; PlainDataError (with the path and the type) for anything else."""
    tree = _to_json(obj, root, 0)
    try:
        return json.dumps(tree, allow_nan=False, separators=(",", ":"))
    except ValueError as exc:  # e.g. an int too long to write as text
        raise PlainDataError(f"{root}: {' '.join(str(exc).split())[:200]}") from None


def _describe_subclass(obj: Any) -> str | None:
    for base, name in _TYPE_NAMES.items():
        if isinstance(obj, base) and type(obj) is not base:
            return f"a {name} subclass {type(obj).__name__!r} is not a {name}"
    if isinstance(obj, np.ndarray) and type(obj) is not np.ndarray:
        return f"an ndarray subclass {type(obj).__name__!r} is not an np.ndarray"
    return None


def _to_json(obj: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise PlainDataError(f"{path}: nested more than {MAX_DEPTH} levels deep")
    kind = type(obj)
    if obj is None or kind is bool or kind is int or kind is str:
        return obj
    if kind is float:
        if math.isfinite(obj):
            return obj
        return {"__float__": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
    if kind is list:
        return [_to_json(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(obj)]
    if kind is tuple:
        return {"__tuple__": [_to_json(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(obj)]}
    if kind is dict:
        out = {}
        for key, value in obj.items():
            if type(key) is not str:
                raise PlainDataError(
                    f"{path}: dict keys must be str, got a key of type {type(key).__name__!r}"
                )
            out[key] = _to_json(value, f"{path}[{key!r}]", depth + 1)
        return {"__dict__": out}
    if kind is np.ndarray:
        if obj.dtype.kind not in _ARRAY_KINDS:
            raise PlainDataError(
                f"{path}: an array of dtype {obj.dtype} is not numeric (use numbers or bools)"
            )
        arr = np.ascontiguousarray(obj)
        return {"__ndarray__": arr.dtype.str, "shape": list(arr.shape),
                "data": base64.b64encode(arr.tobytes()).decode("ascii")}
    if isinstance(obj, np.generic) and kind.__module__ == "numpy":
        dtype = np.dtype(kind)
        if dtype.kind not in _ARRAY_KINDS:
            raise PlainDataError(f"{path}: a NumPy scalar of dtype {dtype} is not numeric")
        return {"__npscalar__": dtype.str,
                "data": base64.b64encode(np.asarray(obj, dtype=dtype).tobytes()).decode("ascii")}
    why = _describe_subclass(obj)
    if why is None:
        why = (f"an object of type {kind.__name__!r} is not plain data (use bool, int, float, "
               f"str, None, list, tuple, dict with str keys, or a NumPy array)")
    raise PlainDataError(f"{path}: {why}")


# --------------------------------------------------------------------------------------
# decode
# --------------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise PlainDataError(f"the JSON constant {name} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise PlainDataError(f"duplicate key {key!r} in a JSON object")
        out[key] = value
    return out


def decode(text: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """The object ``encode`` wrote, with exact types; PlainDataError for anything else."""
    if type(text) is not str:
        raise PlainDataError(f"decode needs the JSON text as a str, got {type(text).__name__!r}")
    if len(text) > max_bytes:
        raise PlainDataError(f"the text is {len(text)} characters long, more than {max_bytes}")
    try:
        raw = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise PlainDataError("the text is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise PlainDataError(f"not valid JSON: {exc}") from None
    except ValueError as exc:  # e.g. an int literal longer than Python converts
        raise PlainDataError(f"not plain data: {' '.join(str(exc).split())[:200]}") from None
    return _from_json(raw, "output", 0)


def _from_json(raw: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise PlainDataError(f"{path}: nested more than {MAX_DEPTH} levels deep")
    kind = type(raw)
    if raw is None or kind in (bool, int, float, str):
        return raw
    if kind is list:
        return [_from_json(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(raw)]
    if kind is not dict or len(raw) == 0:
        raise PlainDataError(f"{path}: unexpected JSON value of type {kind.__name__}")
    if "__tuple__" in raw and len(raw) == 1 and type(raw["__tuple__"]) is list:
        return tuple(_from_json(v, f"{path}[{i}]", depth + 1)
                     for i, v in enumerate(raw["__tuple__"]))
    if "__dict__" in raw and len(raw) == 1 and type(raw["__dict__"]) is dict:
        return {key: _from_json(value, f"{path}[{key!r}]", depth + 1)
                for key, value in raw["__dict__"].items()}
    if "__float__" in raw and len(raw) == 1 and raw["__float__"] in _FLOAT_TAGS:
        return _FLOAT_TAGS[raw["__float__"]]
    if "__ndarray__" in raw and set(raw) == {"__ndarray__", "shape", "data"}:
        return _array(raw, path)
    if "__npscalar__" in raw and set(raw) == {"__npscalar__", "data"}:
        arr = _array({"__ndarray__": raw["__npscalar__"], "shape": [], "data": raw["data"]}, path)
        return arr[()]
    raise PlainDataError(f"{path}: a JSON object that encode does not write (keys {sorted(raw)[:4]})")


def _array(raw: dict, path: str) -> np.ndarray:
    dtype_text, shape, data = raw["__ndarray__"], raw["shape"], raw["data"]
    if type(dtype_text) is not str or type(data) is not str or type(shape) is not list:
        raise PlainDataError(f"{path}: a malformed array record")
    try:
        dtype = np.dtype(dtype_text)
    except TypeError:
        raise PlainDataError(f"{path}: unknown dtype {dtype_text!r}") from None
    if dtype.kind not in _ARRAY_KINDS or dtype.str != dtype_text or dtype.fields is not None:
        raise PlainDataError(f"{path}: dtype {dtype_text!r} is not a plain numeric dtype")
    if len(shape) > 32 or not all(type(s) is int and s >= 0 for s in shape):
        raise PlainDataError(f"{path}: a malformed array shape {shape[:8]}")
    try:
        buffer = base64.b64decode(data.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise PlainDataError(f"{path}: the array data is not valid base64") from None
    size = math.prod(shape)
    if size * dtype.itemsize != len(buffer):
        raise PlainDataError(
            f"{path}: {len(buffer)} bytes of data do not fit shape {shape} and dtype {dtype}"
        )
    return np.frombuffer(buffer, dtype=dtype).reshape(shape).copy()
