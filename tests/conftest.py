"""Fixtures shared by the whole suite (one definition each; subfolders add their own)."""

from __future__ import annotations

import pytest
from blob_data import make_blobs


@pytest.fixture
def blobs():
    """The blob maker itself: ``X, y = blobs(n=60)`` (see :func:`make_blobs`)."""
    return make_blobs
