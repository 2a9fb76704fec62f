"""The catalogue of bad and edge inputs as a regression guard: no case may end silently wrong,
unclear or unbounded (on 4709b53, before the validation layer, 60 of 237 did)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("input_catalogue", Path(__file__).with_name("input_catalogue.py"))
catalogue_module = importlib.util.module_from_spec(_spec)
sys.modules["input_catalogue"] = catalogue_module  # its dataclasses look their module up
_spec.loader.exec_module(catalogue_module)

CASES = catalogue_module.catalogue()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}: {c.name}" for c in CASES])
def test_every_catalogued_input_gets_a_clear_error_or_a_sensible_result(case):
    outcome, detail = catalogue_module.run_case(case, timeout=20)
    assert outcome in ("clear error", "sensible result"), f"{outcome}: {detail}"


def test_the_classifier_tells_the_outcomes_apart():
    """A returned value for an invalid input is silently wrong; an error that names nothing is unclear."""
    Case, run = catalogue_module.Case, catalogue_module.run_case

    def unnamed():
        raise ValueError("something went wrong")

    assert run(Case("t", "returns", lambda: 1), 5)[0] == "silently wrong"
    assert run(Case("t", "unnamed", unnamed, names=("x",)), 5)[0] == "unclear"
    assert run(Case("t", "named", lambda: int("x"), names=("invalid literal",)), 5)[0] == "clear error"
    assert run(Case("t", "checked", lambda: 2, ok=lambda r: r == 2), 5)[0] == "sensible result"
    assert run(Case("t", "wrong", lambda: 3, ok=lambda r: r == 2), 5)[0] == "silently wrong"
