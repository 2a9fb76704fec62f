"""Study results on disk: one JSON file ``{"meta": {...}, "records": [...]}`` per study."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..atomic_write import write_atomically

#: Where the research scripts of ``studies/`` write their results (and the notebooks read them):
#: the ``results`` folder of the ``studies`` package, which sits next to ``tlkit`` in the
#: repository, in the student bundle and in an installed copy (``studies`` ships its results
#: as package data, see pyproject.toml).
STUDY_RESULTS: Path = Path(__file__).resolve().parents[2] / "studies" / "results"


def _plain(value):
    """JSON has no numpy types: convert numpy scalars and arrays to Python ones."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} to JSON: {value!r}")


def save_records(path, records: list[dict], meta: dict) -> None:
    """Write ``{"meta": meta, "records": records}`` atomically (a temporary file, then a rename)."""
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise TypeError(f"records must be a list of dicts; got {type(records).__name__}")
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict; got {type(meta).__name__}")
    text = json.dumps({"meta": meta, "records": records}, indent=1, default=_plain) + "\n"
    write_atomically(path, text)


def _load(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no study results at {path}; run the study that writes them first")
    payload = json.loads(path.read_text())
    if not isinstance(payload, dict) or "records" not in payload:
        raise ValueError(f"{path} is not a study result file (expected keys 'meta' and 'records')")
    return payload


def load_records(path) -> list[dict]:
    """The list of records saved by :func:`save_records`."""
    return _load(path)["records"]


def load_meta(path) -> dict:
    """The meta dict saved by :func:`save_records` (empty when there is none)."""
    return _load(path).get("meta") or {}
