"""Study results on disk: one JSON file ``{"meta": {...}, "records": [...]}`` per study."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np

from ..atomic_write import write_atomically

#: The package whose ``results`` folder holds the study results (package data, see pyproject.toml).
RESULTS_PACKAGE = "studies"


def study_results() -> Path:
    """The folder where the research scripts of ``studies/`` write their results and the notebooks read them.

    It is the ``results`` data folder of the ``studies`` package, found through
    :mod:`importlib.resources`: the same code finds it in the repository, in an editable install
    and in an installed wheel (where ``studies`` ships its results as package data), wherever
    ``tlkit`` itself lies. ``tlkit.protocol.STUDY_RESULTS`` is this folder, resolved on first use,
    so ``import tlkit`` does not import ``studies`` (the grader's sandbox holds ``tlkit`` only).
    """
    try:
        folder = resources.files(RESULTS_PACKAGE) / "results"
    except ModuleNotFoundError:
        raise FileNotFoundError(
            f"the study results ship with the {RESULTS_PACKAGE!r} package, which is not installed here; "
            "install tlkit from its wheel or repository (pip install .) to get them"
        ) from None
    # A wheel installs into a folder, so the resource is a real path (zip imports are not supported).
    return Path(str(folder))


def __getattr__(name: str):
    if name == "STUDY_RESULTS":
        return study_results()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
