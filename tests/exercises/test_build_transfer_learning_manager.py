"""Exercise 04.2, the student's TransferLearningManager: the contract suite passes right answers
and names each typical mistake (the mistakes are one- or two-line edits of the reference)."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import numpy as np
import pytest

from instructor import exercises as answer_key
from tests.exercises.test_notebook_exercises import exercise_cells
from tlkit.exercises import check, get_exercise, run_cases

EXERCISE = get_exercise("04.2")
SOURCE = answer_key.reference_source("04.2")
HIDDEN_SEEDS = (0, 1, 2)


def mutant(*edits: tuple[str, str]):
    source = SOURCE
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new, 1)
    ns = {"__name__": "__main__", "np": np, "math": math, "time": time, "SimpleNamespace": SimpleNamespace}
    exec(compile(source, "<mutant>", "exec"), ns)
    return ns["TransferLearningManager"]


def kinds(cls) -> list[str]:
    result = check("04.2", cls, verbose=False)
    assert result.status == "failed", result.messages
    return [kind for kind in result.kinds if kind]


def score(cls, seed: int):
    cases = EXERCISE.public_cases + answer_key.hidden_cases("04.2", seed)
    return answer_key.score("04.2", cases, run_cases(EXERCISE, cls, cases))


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_the_reference_passes_public_and_hidden_cases(seed):
    result = score(answer_key.reference("04.2"), seed)
    assert result.status == "passed", result.messages


def test_there_are_enough_cases_for_both_methods():
    hidden = answer_key.hidden_cases("04.2", 0)
    assert len(EXERCISE.public_cases) >= 5 and len(hidden) >= 5
    for cases in (EXERCISE.public_cases, hidden):
        assert {case.inputs["mode"] for case in cases} == {"recommend", "compare"}


def test_the_reference_recommends_what_the_course_rule_says():
    from tlkit.strategy_rule import choose_strategy, fraction_to_freeze

    manager = answer_key.reference("04.2")
    for size in (1, 999, 1_000, 9_999, 10_000, 10**6):
        for similarity in ("high", "medium", "low"):
            rec = manager.recommend_strategy(size, similarity)
            assert rec.strategy == choose_strategy(size, similarity)
            frozen = 0 if rec.strategy == "from_scratch" else round(4 * fraction_to_freeze(size, similarity))
            assert rec.layers_to_freeze == [f"layer{i}" for i in range(1, frozen + 1)]


def test_the_solution_notebook_class_passes_with_no_tlkit_manager_behind_it(monkeypatch):
    import tlkit.manager
    import tlkit.strategy_rule

    def refuse(*args, **kwargs):
        raise AssertionError("the student's manager must not call tlkit's")

    monkeypatch.setattr(tlkit.manager.TransferLearningManager, "recommend_strategy", refuse)
    monkeypatch.setattr(tlkit.manager.TransferLearningManager, "compare_strategies", refuse)
    monkeypatch.setattr(tlkit.strategy_rule, "choose_strategy", refuse)
    ns = {"__name__": "__main__"}
    exec(compile(exercise_cells("solutions")["04.2"][1], "<exercise cell>", "exec"), ns)
    for seed in HIDDEN_SEEDS:
        result = score(ns["TransferLearningManager"], seed)
        assert result.status == "passed", result.messages


def test_the_stub_is_not_done():
    ns = {"__name__": "__main__"}
    exec(compile(exercise_cells("notebooks")["04.2"][1], "<stub cell>", "exec"), ns)
    assert check("04.2", ns["TransferLearningManager"], verbose=False).status == "not_done"


START = "            start = time.perf_counter()\n"
STOP = "            seconds = time.perf_counter() - start\n"
MISTAKES = {
    # issue 18: one timer started before the loop, so each arm's time includes the earlier arms
    "timing_shared": [("        results = {}\n", "        results = {}\n" + START.replace("    ", "", 1)),
                      (START, "")],
    # the timer also counts the scoring
    "timing_overshoot": [(STOP, ""), ("            results[name] =", STOP + "            results[name] =")],
    # the timer leaves out building the model
    "timing_short": [(START, ""), ("            model.train(", START + "            model.train(")],
    # 1,000 examples counted as small
    "boundary": [("if dataset_size < 1_000:", "if dataset_size <= 1_000:")],
    # large and medium similarity sent from scratch
    "similarity": [('("large", "medium"): ("fine_tuning", 0)', '("large", "medium"): ("from_scratch", 0)')],
    # the blocks to freeze counted from the top
    "layers_to_freeze": [("cls.LAYERS[:frozen]", "cls.LAYERS[len(cls.LAYERS) - frozen:]")],
    # no held-out split: scored on the training examples
    "no_holdout": [("test, train = order[:n_test], order[n_test:]", "test, train = order, order")],
    # the whole result as a dict instead of attributes
    "result_shape": [("return SimpleNamespace(**results)", "return results")],
    # the classes from max(y) only
    "num_classes": [("num_classes = max(2, int(y.max()) + 1)", "num_classes = int(y.max()) + 1")],
}


@pytest.mark.parametrize("kind", sorted(MISTAKES))
def test_each_mistake_gets_its_own_kind_and_hint(kind, capsys):
    cls = mutant(*MISTAKES[kind])
    assert kinds(cls)[0] == kind
    check("04.2", cls)
    assert f"Hint: {EXERCISE.hints[kind]}" in capsys.readouterr().out


def test_floor_division_of_the_steps_gets_the_budget_and_the_zero_division_hints():
    found = kinds(mutant(("steps = math.ceil(len(train) / batch_size)", "steps = len(train) // batch_size")))
    assert found[0] == "budget" and "zero_division" in found


def test_the_zero_division_hint_is_about_the_arms_budget_and_the_split():
    hint = EXERCISE.hints["zero_division"]
    assert "ZeroDivisionError" in hint and "math.ceil(len(X_train) / batch_size)" in hint


def test_the_hints_are_distinct():
    texts = list(EXERCISE.hints.values())
    assert len(set(texts)) == len(texts)


def _library_reasons(source: str | None = None) -> list[str]:
    from pathlib import Path

    from instructor.grading.submissions import Cell, extract_exercises, library_use, parse_notebook

    path = Path(__file__).resolve().parents[2] / "solutions" / "04_choosing_a_strategy.ipynb"
    cells, _ = parse_notebook(path)
    if source is not None:
        cells = [Cell(c.notebook, c.index, source, c.tags) if c is not None and
                 c.source.startswith(f"### EXERCISE {EXERCISE.id}") else c for c in cells]
    found, _ = extract_exercises(cells, [EXERCISE.id])
    return library_use(found[EXERCISE.id], EXERCISE.name, tuple(EXERCISE.library_names))


def test_the_solution_is_not_flagged_and_a_wrapper_of_tlkits_manager_is():
    assert _library_reasons() == []
    for source in ("### EXERCISE 04.2\nfrom tlkit.manager import TransferLearningManager as Theirs\n\n\n"
                   "class TransferLearningManager(Theirs):\n    pass\n",
                   "### EXERCISE 04.2\nfrom tlkit import strategy_rule\n\n\nclass TransferLearningManager:\n"
                   "    @staticmethod\n    def recommend_strategy(n, s):\n"
                   "        return strategy_rule.choose_strategy(n, s)\n"):
        assert _library_reasons(source), source
