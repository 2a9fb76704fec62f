"""Study results round-trip through JSON, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tlkit
from tlkit.protocol import STUDY_RESULTS, load_meta, load_records, save_records


def test_round_trip_with_numpy_values(tmp_path):
    path = tmp_path / "sub" / "tips.json"
    records = [{"tip": "dropout", "diff_mean": np.float32(0.5), "wins": np.int64(4),
                "diff_ci95": np.array([0.25, 0.75])}]
    save_records(path, records, {"seeds": [0, 1]})
    assert load_records(path) == [{"tip": "dropout", "diff_mean": 0.5, "wins": 4, "diff_ci95": [0.25, 0.75]}]
    assert load_meta(path) == {"seeds": [0, 1]}
    assert json.loads(path.read_text())["meta"] == {"seeds": [0, 1]}
    assert [p.name for p in path.parent.iterdir()] == ["tips.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "r.json"
    save_records(path, [{"a": 1}], {})
    with pytest.raises(TypeError, match="object"):
        save_records(path, [{"a": object()}], {})
    assert load_records(path) == [{"a": 1}]


def test_errors_and_location(tmp_path):
    with pytest.raises(FileNotFoundError, match="no study results"):
        load_records(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a study result file"):
        load_records(tmp_path / "x.json")
    with pytest.raises(TypeError, match="records"):
        save_records(tmp_path / "y.json", {"a": 1}, {})
    assert STUDY_RESULTS == Path(tlkit.__file__).resolve().parents[1] / "studies" / "results"
