"""The exercise framework: run_cases (student side) and score_outcomes (instructor side).

The instructor's verdict depends only on the decoded plain data: forged outcome lists,
rigged types and a monkeypatched NumPy in the student's process cannot buy a point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from instructor import exercises as answer_key
from tlkit.exercises import (
    Case,
    all_exercises,
    check,
    encode,
    exercise_ids,
    get_exercise,
    run_cases,
    solution_or_fallback,
)

ROOT = Path(__file__).resolve().parents[2]


class EvilStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


def _stub_body():
    raise NotImplementedError("Exercise: replace this line with your code")


def test_registry_ids_parts_and_unique_names():
    ids = exercise_ids()
    assert ids == sorted(ids)
    for exercise in all_exercises():
        assert exercise.part == int(exercise.id[:2])
        assert get_exercise(exercise.id) is exercise
        assert exercise.library_names and "default" in exercise.hints
    with pytest.raises(ValueError, match="exercise_id must be one of '01.1'"):
        get_exercise("9.9")


def test_case_inputs_must_be_plain_data():
    with pytest.raises(ValueError, match="a str subclass 'EvilStr'"):
        Case("bad", {"x": EvilStr("a")})
    with pytest.raises(TypeError, match="inputs must be a dict"):
        Case("bad", [1, 2])


def test_hidden_cases_depend_on_the_seed_only():
    for exercise in all_exercises():
        a, b, c = (answer_key.hidden_cases(exercise.id, seed) for seed in (1, 1, 2))
        assert a and all(case.hidden for case in a)
        assert [encode(x.inputs) for x in a] == [encode(x.inputs) for x in b]
        assert [encode(x.inputs) for x in a] != [encode(x.inputs) for x in c]
        public_names = {case.name for case in exercise.public_cases}
        assert not public_names & {case.name for case in a}


# --- the instructor's side with forged outcomes ---------------------------------------


def forged_ok(exercise, case, output):
    return {"case": case.name, "status": "ok", "output": encode(output)}


def test_a_str_subclass_cannot_pass_04_1():
    exercise = get_exercise("04.1")

    def evil(size, similarity):
        return EvilStr("anything")

    result = check("04.1", evil, verbose=False)
    assert result.status == "failed" and result.points == 0
    assert set(result.kinds) == {"wrong_type"}
    assert "a str subclass 'EvilStr' is not a str" in result.messages[0]
    # forged outcomes can only carry plain data: the wrong answer stays wrong
    cases = exercise.public_cases
    outcomes = [forged_ok(exercise, case, {"answers": [["fine_tuning"] * 3] *
                                           len(case.inputs["sizes"])}) for case in cases]
    result = answer_key.score(exercise.id, cases, outcomes)
    assert 0 < result.n_passed < result.n_total  # only the cases whose answer is fine_tuning
    assert result.points == pytest.approx(10 * result.n_passed / result.n_total)


@pytest.mark.parametrize("mutate, problem", [
    (lambda o: o[:-1], "6 outcomes for 7 cases"),
    (lambda o: o + [o[0]], "8 outcomes for 7 cases"),
    (lambda o: o[:-1] + [o[0]], "a case appears more than once"),
    (lambda o: o[:-1] + [{**o[-1], "case": "made up"}], "do not name the cases"),
    (lambda o: o[:-1] + [{**o[-1], "case": 3}], "does not name its case"),
    (lambda o: {"outcomes": o}, "not a list"),
])
def test_outcomes_must_match_the_cases_one_to_one(mutate, problem):
    exercise = get_exercise("04.1")
    cases = exercise.public_cases
    good = run_cases(exercise, answer_key.reference(exercise.id), cases)
    assert answer_key.score(exercise.id, cases, good).points == 10
    result = answer_key.score(exercise.id, cases, mutate(good))
    assert result.points == 0 and result.n_passed == 0 and result.status == "failed"
    assert all(problem in line for line in result.messages)


@pytest.mark.parametrize("outcome", [
    {"status": "passed"},
    {"status": "ok", "output": 5},
    {"status": "ok", "output": "NaN"},
    {"status": "ok", "output": '{"points": 1000}'},
    {"status": "ok", "output": '{"__dict__": {"answers": 1}}'},
    {"status": "ok"},
    {"status": "error", "error": 7},
    {"status": 1},
])
def test_malformed_or_forged_outcomes_fail_that_case_and_points_stay_capped(outcome):
    exercise = get_exercise("04.1")
    cases = exercise.public_cases
    outcomes = run_cases(exercise, answer_key.reference(exercise.id), cases)
    outcomes[0] = {"case": cases[0].name, "points": 1000, "result": {"points": 1000}, **outcome}
    result = answer_key.score(exercise.id, cases, outcomes)
    assert result.n_passed == len(cases) - 1
    assert result.points == pytest.approx(10 * (len(cases) - 1) / len(cases))
    assert result.messages[0].startswith(f"{cases[0].name}: ")
    assert "PASS" not in result.messages[0]


def test_a_monkeypatched_numpy_in_the_student_process_changes_nothing(tmp_path):
    """Student code patches np.allclose & co. in its own process; the verdict is computed here."""
    script = tmp_path / "student.py"
    script.write_text(
        "import json, sys\n"
        "import numpy as np\n"
        "from tlkit.exercises import get_exercise, run_cases\n"
        "np.allclose = np.isclose = np.array_equal = lambda *a, **k: True\n"
        "def softmax_cross_entropy(logits, labels):\n"
        "    return 0.0, np.zeros_like(logits)\n"
        "ex = get_exercise('02.1')\n"
        "json.dump(run_cases(ex, softmax_cross_entropy, ex.public_cases), sys.stdout)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    outcomes = json.loads(done.stdout)
    assert [o["status"] for o in outcomes] == ["ok"] * 6
    exercise = get_exercise("02.1")
    result = answer_key.score(exercise.id, exercise.public_cases, outcomes)
    assert result.n_passed == 0 and result.points == 0 and result.status == "failed"
    # and the same answer patched in *this* process is caught by the strict decode+compare
    # (np.allclose is only patched in the child above)
    assert np.allclose.__module__.startswith("numpy")


# --- not done, crash and wrong answer are told apart ------------------------------------


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_untouched_stub_is_not_done(exercise_id, capsys):
    exercise = get_exercise(exercise_id)
    result = check(exercise_id, stub)
    assert result.status == "not_done" and result.n_passed == 0 and result.points == 0
    assert capsys.readouterr().out == (
        f"Exercise {exercise_id} ({exercise.title}): NOT DONE: write your code in the exercise "
        "cell, run that cell, then run this check cell again.\n"
    )
    fallback = exercise.fallback_object()
    assert solution_or_fallback(exercise_id, stub) is (stub if fallback is None else fallback)
    assert capsys.readouterr().out == (
        f"Using tlkit's `{exercise.fallback}` for the rest of this notebook (the exercise is not done yet).\n"
        if fallback is not None else
        f"Keeping your `{exercise.name}` (the exercise is not done yet): later cells that use it may fail "
        "until it passes.\n"
    )


class _AnyMethod:
    """Stands for a student's function, or for a class whose every method does the same
    (04.2's manager is never instantiated: its static methods are called on the class)."""

    def __init__(self, body):
        self.body = body

    def __call__(self, *args, **kwargs):
        return self.body()

    def __getattr__(self, name):
        return self


def _crash_body():
    return {}["missing"]


crash = _AnyMethod(_crash_body)
stub = _AnyMethod(_stub_body)


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_a_crash_is_an_error_with_the_exception_and_its_line(exercise_id, capsys):
    result = check(exercise_id, crash)
    out = capsys.readouterr().out
    assert result.status == "error" and result.points == 0
    line = _crash_body.__code__.co_firstlineno + 1
    assert f"ERROR: your code raised KeyError: 'missing' (line {line} of your cell)" in out
    assert out.splitlines()[0].endswith("(your code raised an exception)")
    assert out.splitlines()[-1].startswith("Hint: ")


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_the_reference_passes_public_and_hidden_cases(exercise_id):
    exercise = get_exercise(exercise_id)
    hidden = [answer_key.hidden_cases(exercise.id, seed) for seed in (0, 99)]
    for cases in (exercise.public_cases, *hidden):
        outcomes = run_cases(exercise, answer_key.reference(exercise.id), cases)
        result = answer_key.score(exercise.id, cases, outcomes)
        assert result.status == "passed", result.messages
        assert result.points == exercise.points


def test_checking_the_fallback_says_not_done(capsys):
    exercise = get_exercise("02.1")
    result = check("02.1", exercise.fallback_object())
    assert result.status == "not_done"
    assert "is tlkit's version (the fallback)" in capsys.readouterr().out


def test_a_value_instead_of_a_function_is_reported(capsys):
    result = check("04.1", "fine_tuning")
    assert result.status == "error"
    assert "should be a function or class you define, got a str" in capsys.readouterr().out


def test_inputs_are_fresh_for_every_case():
    exercise = get_exercise("03.1")
    seen = []

    def vandal(weights, grads, base_lr, multipliers, frozen):
        seen.append(float(next(iter(weights.values())).ravel()[0]))
        for w in weights.values():
            w[...] = 1e9
        return weights

    run_cases(exercise, vandal, exercise.public_cases)
    run_cases(exercise, vandal, exercise.public_cases)
    assert seen[: len(seen) // 2] == seen[len(seen) // 2:]
    assert 1e9 not in seen


def test_a_half_written_class_is_failed_with_the_not_done_cases_counted(capsys):
    reference = answer_key.reference("01.2")

    class NoFreezeYet(reference):
        def freeze(self, layer_names=None):
            raise NotImplementedError("Exercise: replace this line with your code")

    result = check("01.2", NoFreezeYet)
    out = capsys.readouterr().out
    assert result.status == "failed" and result.n_passed == 6 and result.n_total == 10
    assert out.splitlines()[0].endswith("FAIL, 6/10 cases (4 not done yet)")
    assert "one name given as a str: NOT DONE" in out
    assert result.points == pytest.approx(10 * 6 / 10)
