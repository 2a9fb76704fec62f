"""Memorising the public answers earns at most a quarter of an exercise.

The public cases' answers ship with tlkit (a student sees them in the notebook), so an
answer can be a lookup table. The hidden cases carry 75% of the points when the grader
scores them together with the public ones.
"""

from __future__ import annotations

import pytest

from instructor import exercises as answer_key
from instructor.grading.grade import hidden_cases
from tlkit.exercises.plain import encode
from tlkit.exercises.registry import Case, all_exercises, get_exercise
from tlkit.exercises.scoring import HIDDEN_SHARE, case_weights


def _lookup_table_outcomes(exercise, cases):
    """What a table of the public answers returns: right on public cases, garbage otherwise."""
    public = {case.name for case in exercise.public_cases}
    return [{"case": case.name, "status": "ok",
             "output": encode(exercise.public_expected(case) if case.name in public
                              else {"garbage": [0]})} for case in cases]


@pytest.mark.parametrize("exercise_id", [e.id for e in all_exercises()])
@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
def test_a_table_of_the_public_answers_earns_a_quarter(exercise_id, seed):
    exercise = get_exercise(exercise_id)
    cases = [*exercise.public_cases, *hidden_cases(exercise_id, seed)]
    result = answer_key.score(exercise_id, cases, _lookup_table_outcomes(exercise, cases))
    assert result.n_passed == len(exercise.public_cases)  # every public case passes
    assert result.points == pytest.approx((1 - HIDDEN_SHARE) * exercise.points)
    assert result.points <= 0.25 * exercise.points + 1e-9
    assert "hidden 0/" in result.summary and "75% of the points" in result.summary


def test_weights_hidden_cases_carry_three_quarters():
    public = [Case(f"p{i}", {}) for i in range(7)]
    hidden = [Case(f"h{i}", {}, hidden=True) for i in range(5)]
    weights = case_weights(public + hidden)
    assert sum(weights) == pytest.approx(1.0)
    assert sum(weights[7:]) == pytest.approx(0.75) and sum(weights[:7]) == pytest.approx(0.25)
    # a notebook's check scores the public cases alone: equal shares, as before
    assert case_weights(public) == pytest.approx([1 / 7] * 7)
    assert case_weights([]) == []


def test_one_hidden_case_weighs_more_than_all_public_ones_together():
    exercise = get_exercise("04.1")
    cases = [*exercise.public_cases, *hidden_cases("04.1", 7)]
    reference = answer_key.reference("04.1")
    outcomes = []
    for index, case in enumerate(cases):
        answer = exercise.apply(reference, case.fresh_inputs())
        right = case.hidden and index == len(cases) - 1  # the last hidden case only
        outcomes.append({"case": case.name, "status": "ok",
                         "output": encode(answer if right else {"garbage": [0]})})
    result = answer_key.score("04.1", cases, outcomes)
    assert result.points == pytest.approx(10 * 0.75 / 5)


def test_the_grader_marks_its_hidden_cases_hidden(monkeypatch):
    # whatever a generator says, the grader's hidden cases are weighted as hidden
    unmarked = (Case("drawn", {"sizes": [5], "similarities": ["high"]}),)
    monkeypatch.setattr(answer_key, "hidden_cases", lambda exercise_id, seed: unmarked)
    assert [c.hidden for c in hidden_cases("04.1", 0)] == [True]
