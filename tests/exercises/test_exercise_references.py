"""Every exercise's reference passes its own checks; the registry is well formed."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit.exercises import (
    CheckResult,
    all_exercises,
    check,
    exercise_ids,
    get_exercise,
    run_checks,
    score,
    solution_or_reference,
)
from tlkit.strategy_rule import SIMILARITIES, choose_strategy

IDS = ["01.1", "02.1", "03.1", "04.1"]


def test_ids_are_stable_and_in_course_order():
    assert exercise_ids() == IDS
    assert [e.id for e in all_exercises()] == IDS


def test_function_names():
    names = {e.id: e.function_name for e in all_exercises()}
    assert names == {
        "01.1": "extract_in_batches",
        "02.1": "softmax_cross_entropy",
        "03.1": "per_layer_sgd_update",
        "04.1": "recommend_strategy",
    }


@pytest.mark.parametrize("exercise_id", IDS)
def test_exercise_is_complete(exercise_id):
    exercise = get_exercise(exercise_id)
    assert 4 <= len(exercise.cases) <= 8
    assert exercise.points > 0
    assert exercise.title and exercise.hints["default"]
    assert exercise.reference.__name__ == exercise.function_name


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_passes_its_own_checks(exercise_id, capsys):
    exercise = get_exercise(exercise_id)

    def copy_of_reference(*args):  # the reference object itself is reported as "not done"
        return exercise.reference(*args)

    result = check(exercise_id, copy_of_reference)
    n = len(exercise.cases)
    assert isinstance(result, CheckResult)
    assert (result.passed, result.status, result.n_passed, result.n_total) == (True, "passed", n, n)
    assert capsys.readouterr().out == f"✅ Exercise {exercise_id} passed ({n}/{n} checks).\n"
    assert score(result) == exercise.points == result.points
    assert all(message.startswith("✔ ") for message in result.messages)


@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_or_reference_keeps_a_passing_function(exercise_id, capsys):
    exercise = get_exercise(exercise_id)

    def mine(*args):
        return exercise.reference(*args)

    mine.__name__ = exercise.function_name
    assert solution_or_reference(exercise_id, mine) is mine
    assert capsys.readouterr().out == (
        f"Using your `{exercise.function_name}` for the rest of this notebook.\n"
    )


def test_unknown_exercise_id_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"exercise_id must be one of '01.1'.*got '9.9'"):
        check("9.9", lambda: None)


def test_reference_04_agrees_with_the_rule_on_a_wide_grid():
    reference = get_exercise("04.1").reference
    sizes = [1, 2, 50, 998, 999, 1000, 1001, 5000, 9999, 10000, 10001, 99999, 100000,
             100001, 10**6, 10**9]
    for size in sizes:
        for similarity in SIMILARITIES:
            assert reference(size, similarity) == choose_strategy(size, similarity)


def test_reference_01_matches_all_at_once_and_is_float32():
    reference = get_exercise("01.1").reference
    X = np.arange(30, dtype=np.float64).reshape(10, 3)
    out = reference(lambda b: b * 2.0, X, 3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, X * 2.0)


def test_run_checks_prints_nothing(capsys):
    result = run_checks("02.1", lambda *args: get_exercise("02.1").reference(*args))
    assert result.passed
    assert capsys.readouterr().out == ""
