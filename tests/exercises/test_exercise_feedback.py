"""Wrong, unfinished and crashing student functions get clear, deterministic feedback."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit.exercises import check, get_exercise, run_checks, score, solution_or_reference

IDS = ["01.1", "02.1", "03.1", "04.1"]


def stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError("Exercise: replace this line with your code")


def crash(*args, **kwargs):
    return {}["missing"]


def failing_line(capsys, exercise_id, fn):
    result = check(exercise_id, fn)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith(f"❌ Exercise {exercise_id}: ")
    assert result.status == "failed" and not result.passed
    return result, out


@pytest.mark.parametrize("exercise_id", IDS)
def test_untouched_stub_is_not_done(exercise_id, capsys):
    name = get_exercise(exercise_id).function_name
    result = check(exercise_id, stub)
    assert result.status == "not_done" and result.n_passed == 0 and not result.passed
    assert capsys.readouterr().out == (
        f"⏳ Exercise {exercise_id} is not done yet: `{name}` still raises "
        "NotImplementedError. Replace the stub with your code and run this cell again.\n"
    )
    assert score(result) == 0.0


@pytest.mark.parametrize("exercise_id", IDS)
def test_stub_falls_back_to_the_reference(exercise_id, capsys):
    exercise = get_exercise(exercise_id)
    assert solution_or_reference(exercise_id, stub) is exercise.reference
    assert capsys.readouterr().out == (
        f"Using the reference `{exercise.function_name}` for the rest of this notebook "
        "(the exercise is not done yet).\n"
    )


@pytest.mark.parametrize("exercise_id", IDS)
def test_crashing_function_is_reported_not_raised(exercise_id, capsys):
    result, out = failing_line(capsys, exercise_id, crash)
    assert "your function raised KeyError: 'missing'" in out
    line = crash.__code__.co_firstlineno + 1  # the line of `{}["missing"]`
    assert f"(line {line} of the cell defining `crash`)" in out
    assert "Hint: " in out
    assert result.n_passed == 0


@pytest.mark.parametrize("exercise_id", IDS)
def test_not_a_function_is_reported(exercise_id, capsys):
    result, out = failing_line(capsys, exercise_id, 42)
    assert "got int" in out and "Pass the function itself" in out


def test_output_is_deterministic_and_has_no_addresses(capsys):
    class Thing:
        pass

    def leaky(logits, labels):
        raise ValueError(f"bad {Thing()} and {leaky}")

    outs = []
    for _ in range(2):
        check("02.1", leaky)
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]
    assert "0x" not in outs[0]
    assert "your function raised ValueError: bad <" in outs[0]


def test_partial_stub_is_failed_not_not_done(capsys):
    def half(dataset_size, task_similarity):
        if dataset_size < 1000:
            raise NotImplementedError
        return get_exercise("04.1").reference(dataset_size, task_similarity)

    result, out = failing_line(capsys, "04.1", half)
    assert "still raises NotImplementedError" in out
    assert 0 < result.n_passed < result.n_total


# --- 01.1 --------------------------------------------------------------------------------


def test_01_all_at_once_fails_the_spy(capsys):
    def greedy(extract_fn, X, batch_size):
        return np.asarray(extract_fn(X), dtype=np.float32)

    result, out = failing_line(capsys, "01.1", greedy)
    assert "First failure: extract_fn never sees more than batch_size rows" in out
    assert "Hint: Slice X as `X[start:start + batch_size]`" in out


def test_01_dropping_the_last_partial_batch(capsys):
    def drops(extract_fn, X, batch_size):
        parts = [extract_fn(X[i:i + batch_size]) for i in range(0, len(X) - batch_size + 1,
                                                                 batch_size)]
        return np.concatenate(parts).astype(np.float32)

    result, out = failing_line(capsys, "01.1", drops)
    assert "N not divisible by batch_size (images)" in out
    assert "last, shorter batch" in out


def test_01_forgetting_float32(capsys):
    def no_cast(extract_fn, X, batch_size):
        return np.concatenate([extract_fn(X[i:i + batch_size])
                               for i in range(0, len(X), batch_size)])

    result, out = failing_line(capsys, "01.1", no_cast)
    assert result.n_passed == result.n_total - 1
    assert "float32 output" in out and "has dtype float64, expected float32" in out
    assert "astype(np.float32)" in out


# --- 02.1 --------------------------------------------------------------------------------


def naive_softmax_ce(logits, labels, *, mean=True, divide=True, keep_dtype=True):
    logits = np.asarray(logits)
    n = len(labels)
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    losses = -np.log(p[np.arange(n), labels])
    grad = p.copy()
    grad[np.arange(n), labels] -= 1
    if divide:
        grad /= n
    if not keep_dtype:
        grad = grad.astype(np.float64)
    return (losses.mean() if mean else losses.sum()), grad


def test_02_overflow_gets_the_max_trick_hint(capsys):
    result, out = failing_line(capsys, "02.1", naive_softmax_ce)
    assert "First failure: huge logits (1e4) stay finite" in out
    assert "Subtract each row's maximum" in out
    assert result.n_passed == result.n_total - 1


def test_02_sum_instead_of_mean(capsys):
    def summed(logits, labels):
        loss, _ = naive_softmax_ce(logits, labels, mean=False)
        return loss, get_exercise("02.1").reference(logits, labels)[1]

    _, out = failing_line(capsys, "02.1", summed)
    assert "a small hand-computed example: the loss is 2.07944, expected 1.03972" in out
    assert "not `.sum()`" in out


def test_02_gradient_not_divided_by_n(capsys):
    def undivided(logits, labels):
        ref = get_exercise("02.1").reference
        loss, grad = ref(logits, labels)
        return loss, grad * len(labels)

    _, out = failing_line(capsys, "02.1", undivided)
    assert "grad_logits is" in out and "divide by N" in out


def test_02_float64_gradient_for_float32_logits(capsys):
    def widening(logits, labels):
        loss, grad = get_exercise("02.1").reference(np.asarray(logits, np.float64), labels)
        return loss, grad

    result, out = failing_line(capsys, "02.1", widening)
    assert "float32 logits give a float32 gradient" in out and "grad.astype" in out
    assert result.n_passed == result.n_total - 1


# --- 03.1 --------------------------------------------------------------------------------


def test_03_in_place_update_mutates_the_inputs(capsys):
    def in_place(weights, grads, base_lr, multipliers, frozen):
        for name, w in weights.items():
            if name not in frozen:
                w -= base_lr * multipliers.get(name, 1.0) * grads[name]
        return weights

    _, out = failing_line(capsys, "03.1", in_place)
    assert "the inputs are not modified" in out and "`w -= step`" in out


def test_03_ignoring_frozen(capsys):
    def ignores_frozen(weights, grads, base_lr, multipliers, frozen):
        return {n: w - base_lr * multipliers.get(n, 1.0) * grads[n] for n, w in weights.items()}

    _, out = failing_line(capsys, "03.1", ignores_frozen)
    assert "a frozen layer: `layer1` is frozen but changed" in out
    assert "not a single bit changes" in out


def test_03_missing_multiplier_key_error(capsys):
    def strict(weights, grads, base_lr, multipliers, frozen):
        return {n: (w.copy() if n in frozen else w - base_lr * multipliers[n] * grads[n])
                for n, w in weights.items()}

    _, out = failing_line(capsys, "03.1", strict)
    assert "a missing multiplier means 1.0: your function raised KeyError" in out
    assert "multipliers.get(name, 1.0)" in out


# --- 04.1 --------------------------------------------------------------------------------


def test_04_off_by_one_at_a_boundary(capsys):
    def off_by_one(dataset_size, task_similarity):
        if dataset_size <= 1000:
            return "feature_extraction" if task_similarity == "high" else "fine_tuning"
        if dataset_size < 100_000:
            return "fine_tuning"
        return "from_scratch" if task_similarity == "low" else "fine_tuning"

    result, out = failing_line(capsys, "04.1", off_by_one)
    assert ("the boundary 999 / 1,000: recommend_strategy(1000, 'high') returned "
            "'feature_extraction', expected 'fine_tuning'") in out
    assert "1,000 examples already count as medium" in out
    assert result.n_passed == result.n_total - 1
    assert score(result) == round(10 * (result.n_total - 1) / result.n_total, 2)


def test_04_misspelled_strategy(capsys):
    _, out = failing_line(capsys, "04.1", lambda size, sim: "fine-tuning")
    assert "returned 'fine-tuning', expected one of" in out and "underscores" in out


def test_messages_list_every_case():
    result = run_checks("04.1", lambda size, sim: "fine_tuning")
    assert len(result.messages) == result.n_total
    assert sum(m.startswith("✔ ") for m in result.messages) == result.n_passed


@pytest.mark.parametrize("exercise_id", IDS)
def test_checking_the_reference_itself_is_not_a_pass(exercise_id, capsys):
    # after `f = solution_or_reference(...)`, re-running only the check cell checks the reference
    exercise = get_exercise(exercise_id)
    result = check(exercise_id, exercise.reference)
    assert result.status == "not_done" and score(result) == 0.0
    assert capsys.readouterr().out == (
        f"⏳ Exercise {exercise_id} is not done yet: `{exercise.function_name}` is the "
        "reference implementation. Run the cell with your code again, then this cell.\n"
    )
