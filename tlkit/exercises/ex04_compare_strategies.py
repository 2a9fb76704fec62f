"""Exercise 04.2: compare strategies with an equal update budget, and time them (Part 4).

``compare_strategies(arms, X, y, update_budget)``: ``arms`` maps a strategy's name to a
pair ``(train_fn, batch_size)``; ``train_fn(X, y, epochs, batch_size)`` trains that
strategy and returns its accuracy. Every arm gets the same budget of minibatch updates::

    steps  = ceil(len(X) / batch_size)           # updates per epoch
    epochs = max(1, ceil(update_budget / steps))  # whole epochs, at least the budget
    updates = epochs * steps

(the rule of ``tlkit.protocol.epochs_for_updates``), and each call is timed
(``time.perf_counter()`` around the ``train_fn`` call). Returns
``{name: {"epochs", "updates", "seconds", "accuracy"}}`` with one entry per arm, in the
order of ``arms``.

The cases check plain outputs, never accuracies of real training: ``apply`` passes spies
that record every call (which arms ran, with which epochs and batch size), sleep a known
time and return a known accuracy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tlkit.exercises.compare import fmt, type_name
from tlkit.exercises.registry import Case, CheckFailure, Exercise

MAX_SECONDS = 30.0  # a timing above this is not a wall time of the call


def apply(fn: Callable, inputs: dict[str, Any]) -> dict[str, Any]:
    n = inputs["n"]
    X = np.zeros((n, 3), dtype=np.float32)
    y = np.arange(n, dtype=np.int64) % 2
    calls: list[list] = []

    def spy(name: str, accuracy: float, sleep: float) -> Callable:
        def train_fn(X_arm, y_arm, epochs, batch_size):
            calls.append([name, epochs, batch_size, int(len(X_arm)), int(len(y_arm))])
            time.sleep(sleep)
            return accuracy

        return train_fn

    arms = {name: (spy(name, arm["accuracy"], arm["sleep"]), arm["batch_size"])
            for name, arm in inputs["arms"].items()}
    result = fn(arms, X, y, inputs["update_budget"])
    return {"result": result, "calls": calls}


def _number(value: Any) -> float | None:
    if type(value) in (int, float) or (isinstance(value, np.generic) and value.dtype.kind in "iuf"):
        return float(value)
    return None


def _int(value: Any) -> int | None:
    if type(value) is int or (isinstance(value, np.generic) and value.dtype.kind in "iu"):
        return int(value)
    return None


def compare(case: Case, expected: dict, got: dict) -> None:
    arms, n = case.inputs["arms"], case.inputs["n"]
    result, want = got["result"], expected["result"]
    if type(result) is not dict:
        raise CheckFailure("no_return" if result is None else "wrong_type",
                           f"compare_strategies returned {type_name(result)}, expected a dict "
                           f"name -> results")
    ran = [call[0] for call in got["calls"]]
    if sorted(ran) != sorted(arms) or len(set(ran)) != len(ran):
        raise CheckFailure("arms_ran", f"the train functions called were {ran}, expected each "
                                       f"of {list(arms)} exactly once")
    for call in got["calls"]:
        if call[3] != n or call[4] != n:
            raise CheckFailure("arms_ran", f"{call[0]}'s train_fn got {call[3]} examples, "
                                           f"expected all {n}")
    if list(result) != list(want):
        raise CheckFailure("keys", f"the result has the keys {list(result)}, expected "
                                   f"{list(want)} (one per arm, in order)")
    for name, entry in result.items():
        target = want[name]
        if type(entry) is not dict or sorted(entry) != sorted(target):
            keys = sorted(entry) if type(entry) is dict else type_name(entry)
            raise CheckFailure("entry_keys", f"result[{name!r}] has {keys}, expected a dict with "
                                             f"the keys {sorted(target)}")
        call = next(c for c in got["calls"] if c[0] == name)
        if call[2] != arms[name]["batch_size"]:
            raise CheckFailure("batch_size", f"{name} was trained with batch_size {call[2]}, "
                                             f"expected its own {arms[name]['batch_size']}")
        epochs = _int(entry["epochs"])
        if epochs is None or epochs != target["epochs"] or call[1] != target["epochs"]:
            raise CheckFailure("budget", f"{name}: {call[1]} epochs passed to train_fn and "
                                         f"{fmt(entry['epochs'])} reported, expected "
                                         f"{target['epochs']} (budget {case.inputs['update_budget']}"
                                         f", batch_size {arms[name]['batch_size']}, N={n})")
        updates = _int(entry["updates"])
        if updates is None or updates != target["updates"]:
            raise CheckFailure("updates", f"{name}: updates is {fmt(entry['updates'])}, expected "
                                          f"{target['updates']}")
        accuracy = _number(entry["accuracy"])
        if accuracy is None or accuracy != target["accuracy"]:
            raise CheckFailure("accuracy", f"{name}: accuracy is {fmt(entry['accuracy'])}, "
                                           f"expected {fmt(target['accuracy'])}, what its "
                                           f"train_fn returned")
        seconds = _number(entry["seconds"])
        slept = arms[name]["sleep"]
        if seconds is None or not (slept <= seconds < MAX_SECONDS):
            raise CheckFailure("timing", f"{name}: seconds is {fmt(entry['seconds'])}, but its "
                                         f"train_fn alone took at least {slept:g} s")


def _case(name: str, n: int, budget: int, arms: list[tuple[str, int, float]],
          hidden: bool = False) -> Case:
    return Case(name, {"n": n, "update_budget": budget, "arms": {
        arm: {"batch_size": bs, "accuracy": acc, "sleep": 0.002 + 0.001 * i}
        for i, (arm, bs, acc) in enumerate(arms)}}, hidden)


_THREE = [("feature_extraction", 32, 0.75), ("fine_tuning", 32, 0.875), ("from_scratch", 32, 0.5)]
PUBLIC_CASES = (
    _case("three strategies, the same batch size", 100, 40, _THREE),
    _case("different batch sizes get different epochs", 100, 40,
          [("feature_extraction", 64, 0.75), ("fine_tuning", 16, 0.875),
           ("from_scratch", 8, 0.5)]),
    _case("a budget smaller than one epoch trains one whole epoch", 100, 2,
          [("feature_extraction", 10, 0.625), ("fine_tuning", 10, 0.75)]),
    _case("a single example", 1, 5, [("fine_tuning", 32, 1.0), ("from_scratch", 32, 0.0)]),
    _case("one arm", 50, 30, [("from_scratch", 7, 0.25)]),
)


EXERCISE = Exercise(
    id="04.2",
    part=4,
    title="Compare strategies on an equal budget",
    name="compare_strategies",
    points=10.0,
    description=(
        "compare_strategies(arms, X, y, update_budget): for each name -> (train_fn, batch_size) "
        "in arms, epochs = max(1, ceil(update_budget / ceil(len(X) / batch_size))); time "
        "train_fn(X, y, epochs, batch_size) with time.perf_counter(); return {name: {'epochs', "
        "'updates', 'seconds', 'accuracy'}} in the order of arms."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "For each arm: steps = math.ceil(len(X) / batch_size); epochs = max(1, "
        "math.ceil(update_budget / steps)); time the call train_fn(X, y, epochs, batch_size).",
        "arms_ran": "Call every arm's train_fn exactly once, on all of X and y.",
        "keys": "Return one entry per arm, keyed by its name, in the order of `arms` (a dict "
        "keeps the order you insert in).",
        "entry_keys": "Each entry is a dict with exactly the keys 'epochs', 'updates', "
        "'seconds' and 'accuracy'.",
        "batch_size": "Train each arm with its own batch size (the second item of its pair).",
        "budget": "The same budget for everyone: an epoch is ceil(len(X) / batch_size) "
        "updates (the last minibatch is shorter), and each arm trains the fewest whole epochs "
        "that reach the budget: epochs = max(1, math.ceil(update_budget / steps)).",
        "updates": "updates = epochs * ceil(len(X) / batch_size): the minibatch steps the arm "
        "really took.",
        "accuracy": "Report the accuracy the arm's train_fn returned, unchanged.",
        "timing": "Time each call on its own: start = time.perf_counter() just before "
        "train_fn(...), seconds = time.perf_counter() - start just after.",
        "wrong_type": "Return a dict: name -> {'epochs': int, 'updates': int, 'seconds': "
        "float, 'accuracy': float}.",
        "exception": "Read the error message; each value of `arms` is a pair (train_fn, "
        "batch_size): `for name, (train_fn, batch_size) in arms.items():`.",
    },
    library_names=(
        "tlkit.manager.TransferLearningManager",
        "tlkit.manager.StrategyComparison",
        "tlkit.protocol.recipes.epochs_for_updates",
    ),
)
