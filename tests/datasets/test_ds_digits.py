import numpy as np
import pytest

from tlkit.datasets import digits as digits_mod
from tlkit.datasets import load_digits


def test_shapes_dtypes_and_range():
    X, y = load_digits()
    assert X.shape == (1797, 8, 8) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(X * 16, np.round(X * 16))  # levels k/16


def test_per_class_counts_match_uci():
    _, y = load_digits()
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_known_first_image():
    # first row of sklearn's digits.csv.gz: a zero
    X, y = load_digits()
    assert y[0] == 0
    assert (X[0, 0] * 16).astype(int).tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_fresh_arrays_each_call():
    X1, y1 = load_digits()
    X1[0, 0, 0] = 0.5
    y1[0] = 9
    X2, y2 = load_digits()
    assert X2[0, 0, 0] == 0.0 and y2[0] == 0


def test_shipped_file_matches_recorded_sha256():
    assert digits_mod.sha256_of(digits_mod.DIGITS_FILE) == digits_mod.DIGITS_SHA256


def test_tampered_file_is_rejected_naming_the_file(tmp_path):
    bad = tmp_path / "digits.npz"
    data = bytearray(digits_mod.DIGITS_FILE.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="digits.npz.*checksum"):
        digits_mod._read_digits(bad, digits_mod.DIGITS_SHA256)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        digits_mod._read_digits(tmp_path / "nope.npz", digits_mod.DIGITS_SHA256)
