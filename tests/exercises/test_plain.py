"""Plain data: encode accepts exact built-in types only, decode rebuilds exact types."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tlkit.exercises.plain import MAX_DEPTH, PlainDataError, decode, encode


class EvilStr(str):
    def __eq__(self, other):  # a rigged comparison: "equal" to everything
        return True

    __hash__ = str.__hash__


class EvilInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


def roundtrip(obj):
    return decode(encode(obj))


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**70, 1.5, -0.0, "text", "", [1, "a", None], (1, 2.0),
    {"a": [1, (2, 3)], "b": {"c": None}}, [], (), {},
])
def test_builtins_round_trip_with_exact_types(value):
    back = roundtrip(value)
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, dict):
        assert [type(v) for v in back.values()] == [type(v) for v in value.values()]


def test_tuple_and_list_stay_distinct_and_bool_is_not_int():
    back = roundtrip([(1, True), [1, 1]])
    assert type(back[0]) is tuple and type(back[1]) is list
    assert type(back[0][1]) is bool and type(back[0][0]) is int


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_round_trip(value):
    back = roundtrip(value)
    assert type(back) is float and (math.isnan(back) if math.isnan(value) else back == value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int8, np.uint16,
                                   np.bool_, np.complex64])
def test_arrays_round_trip_bit_for_bit(dtype):
    arr = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    back = roundtrip(arr)
    assert type(back) is np.ndarray and back.dtype == arr.dtype and back.shape == (3, 4)
    assert back.tobytes() == arr.tobytes()
    assert back.flags.writeable


def test_non_contiguous_and_empty_arrays():
    arr = np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2]
    assert np.array_equal(roundtrip(arr), arr)
    empty = roundtrip(np.zeros((0, 3), dtype=np.float32))
    assert empty.shape == (0, 3) and empty.dtype == np.float32


def test_numpy_scalars_keep_their_type():
    for value in (np.float32(1.25), np.int64(-3), np.bool_(True), np.float64(2.5)):
        back = roundtrip(value)
        assert type(back) is type(value) and back == value


def test_a_str_subclass_is_refused_with_path_and_type():
    with pytest.raises(PlainDataError) as info:
        encode(["a", "b", EvilStr("fine_tuning")])
    assert str(info.value) == "output[2]: a str subclass 'EvilStr' is not a str"


@pytest.mark.parametrize("value, fragment", [
    ({"k": EvilInt(3)}, "output['k']: a int subclass 'EvilInt' is not a int"),
    ({1: "a"}, "dict keys must be str"),
    ({EvilStr("k"): 1}, "dict keys must be str"),
    ([object()], "output[0]: an object of type 'object' is not plain data"),
    ({1, 2}, "an object of type 'set'"),
    (np.array(["a"]), "is not numeric"),
    (np.array([1], dtype=object), "is not numeric"),
    (np.ma.masked_array([1.0]), "an ndarray subclass 'MaskedArray'"),
    (lambda: 1, "an object of type 'function'"),
    (np.str_("x"), "is not numeric"),
])
def test_everything_else_is_refused(value, fragment):
    with pytest.raises(PlainDataError) as info:
        encode(value)
    assert fragment in str(info.value)


def test_an_int_too_long_for_text_is_refused():
    with pytest.raises(PlainDataError, match="output"):
        encode([10**5000])


def test_cycles_and_deep_nesting_are_refused():
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(PlainDataError, match="nested more than"):
        encode(cycle)
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(PlainDataError):
        decode(deep)
    nested = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    with pytest.raises(PlainDataError, match="nested"):
        decode(nested)


@pytest.mark.parametrize("text", [
    "NaN", "[Infinity]", "-Infinity", '{"a": 1}', '{"__dict__": {"a": 1}, "x": 2}',
    '{"__tuple__": 3}', '{"__float__": "zero"}',
    '{"__dict__": {"a": 1, "a": 2}}',
    '{"__ndarray__": "|O", "shape": [1], "data": ""}',
    '{"__ndarray__": "<f4", "shape": [2], "data": "AAAA"}',
    '{"__ndarray__": "<f4", "shape": [-1], "data": ""}',
    '{"__ndarray__": "<f4", "shape": [1], "data": "!!!!"}',
    '{"__ndarray__": "float32", "shape": [0], "data": ""}',
    "1" * 5000, "not json", "",
])
def test_decode_refuses_what_encode_never_writes(text):
    with pytest.raises(PlainDataError):
        decode(text)


def test_decode_refuses_non_text_and_too_large_input():
    with pytest.raises(PlainDataError, match="as a str"):
        decode(b"[1]")
    with pytest.raises(PlainDataError, match="more than 10"):
        decode(json.dumps(list(range(100))), max_bytes=10)
