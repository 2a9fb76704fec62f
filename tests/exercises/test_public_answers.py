"""The public answers ship as data and agree with the instructor's references."""

from __future__ import annotations

import json

from instructor.exercises.__main__ import stale_answers
from tlkit.exercises.registry import PUBLIC_EXPECTED_FILE, all_exercises


def test_every_public_case_has_a_shipped_answer_that_fits_the_reference():
    assert stale_answers() == []


def test_a_changed_public_input_is_reported_stale(monkeypatch):
    data = json.loads(PUBLIC_EXPECTED_FILE.read_text(encoding="utf-8"))
    exercise = all_exercises()[0]
    case_name = exercise.public_cases[0].name
    data[exercise.id][case_name]["inputs"] = "{}"
    monkeypatch.setattr("tlkit.exercises.registry._PUBLIC_ANSWERS", data)
    problems = stale_answers()
    assert len(problems) == 1 and case_name in problems[0]


def test_the_shipped_file_holds_no_hidden_case():
    data = json.loads(PUBLIC_EXPECTED_FILE.read_text(encoding="utf-8"))
    for exercise in all_exercises():
        assert sorted(data[exercise.id]) == sorted(case.name for case in exercise.public_cases)
