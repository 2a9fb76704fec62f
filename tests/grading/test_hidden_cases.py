"""Grades must not depend on the luck of the per-run seed: the reference answer of every
exercise passes every public and hidden case for many seeds (a right answer never loses
points to a case the checker misjudges), and a stub scores 0."""

from __future__ import annotations

import pytest

from instructor import exercises as answer_key
from tlkit.exercises.registry import all_exercises
from tlkit.exercises.running import run_cases

SEEDS = range(40)


@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.id)
def test_reference_passes_every_hidden_case_for_many_seeds(exercise):
    failures = []
    for seed in SEEDS:
        cases = [*exercise.public_cases, *answer_key.hidden_cases(exercise.id, seed)]
        assert any(case.name not in {c.name for c in exercise.public_cases} for case in cases)
        result = answer_key.score(exercise.id, cases, run_cases(exercise, answer_key.reference(exercise.id), cases))
        if result.n_passed != result.n_total:
            failures.append((seed, [m for m in result.messages if "PASS" not in m][:2]))
    assert failures == []


@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.id)
def test_hidden_cases_change_with_the_seed(exercise):
    draws = {tuple(repr(c.inputs) for c in answer_key.hidden_cases(exercise.id, seed)) for seed in range(5)}
    assert len(draws) > 1
