"""The real UCI optical-recognition handwritten digits, shipped inside the package.

1797 images of 8x8 pixels, labels 0-9: the copy scikit-learn distributes
(the test part of the UCI set, written by 13 people). Each pixel counts the
"on" pixels of a 4x4 block of a 32x32 bitmap, so values are integers 0..16;
``load_digits`` divides by 16. Provenance and licence: ``data/README.md``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..checkpoints import sha256_of

DATA_DIR = Path(__file__).resolve().parent / "data"
DIGITS_FILE = DATA_DIR / "digits.npz"
#: sha256 of ``data/digits.npz``, checked on every (first) load.
DIGITS_SHA256 = "a7e90fa73760e8f2b1dedf547e10a262714d3855f807565302a081a95da5177c"

N_DIGITS = 1797
DIGIT_CLASS_NAMES = tuple(str(d) for d in range(10))


def _read_digits(path: Path, expected_sha256: str) -> tuple[np.ndarray, np.ndarray]:
    """Read and verify the shipped file; raise a clear error naming it if anything is off."""
    if not path.is_file():
        raise FileNotFoundError(f"digits data file is missing: {path}")
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise ValueError(
            f"digits data file {path} failed its checksum (sha256 {actual}, expected "
            f"{expected_sha256}); the file is corrupt or was modified"
        )
    with np.load(path, allow_pickle=False) as f:
        images, target = f["images"], f["target"]
    if images.shape != (N_DIGITS, 8, 8) or target.shape != (N_DIGITS,):
        raise ValueError(f"digits data file {path} has unexpected shapes")
    return images, target


@lru_cache(maxsize=1)
def _digits_uint8() -> tuple[np.ndarray, np.ndarray]:
    images, target = _read_digits(DIGITS_FILE, DIGITS_SHA256)
    images.setflags(write=False)
    target.setflags(write=False)
    return images, target


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return the real handwritten digits ``(X, y)``.

    ``X``: float32, shape (1797, 8, 8), values k/16 for k in 0..16.
    ``y``: int64, shape (1797,), labels 0-9 (174 to 183 images per digit).
    The file's sha256 is verified; no network access. Fresh arrays on each call.
    """
    images, target = _digits_uint8()
    X = images.astype(np.float32) / np.float32(16.0)
    return X, target.astype(np.int64)
