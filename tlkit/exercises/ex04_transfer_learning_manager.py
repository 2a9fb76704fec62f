"""Exercise 04.2: build the course's ``TransferLearningManager`` (Part 4).

The student writes two class-level methods (static or class methods)::

    rec = TransferLearningManager.recommend_strategy(dataset_size, task_similarity)
    rec.strategy, rec.layers_to_freeze, rec.recommended_lr, rec.reasoning

    cmp = TransferLearningManager.compare_strategies(dataset, arms, updates=300, batch_size=32,
                                                     seed=0, test_fraction=0.25)
    cmp.feature_extraction.accuracy, cmp.feature_extraction.time   # likewise the two others

``recommend_strategy`` follows the course's size x similarity rule (the table of
``tlkit.strategy_rule``) for the four blocks of the ``medium`` base. ``compare_strategies``
holds out a seeded ``test_fraction`` of ``dataset`` (``{"X", "y"}`` or ``(X, y)``), and for
each ``name -> make_model`` of ``arms``: times building (``make_model(num_classes)``) and
training (``model.train(X_train, y_train, config)``) that arm alone, with the same number
of minibatch updates for every arm, then scores ``model.predict`` on the held-out part.

The cases pass spy arms: each records when it was built, trained and asked to predict
(``time.perf_counter`` stamps), what it was given, sleeps a known time and predicts
labels whose accuracy the check knows. So the timing is checked against what really
happened between the calls: a timer started once before the loop, one that leaves out
the building, or one that also counts the scoring, each fails with its own hint.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from tlkit.exercises.compare import fmt, type_name
from tlkit.exercises.ex04_recommend_strategy import SIMILARITIES, STRATEGIES, mistake_kind
from tlkit.exercises.registry import COURSE_CLASSES_LIBRARY, Case, CheckFailure, Exercise

ARMS = STRATEGIES  # the course's three strategies, the attributes of the comparison
EPS = 5e-4  # seconds: clock reads of the student's timer and of the spies, a little apart
MIN_REASONING_WORDS = 6


# --- running the student's class ----------------------------------------------------------

def _recommendation(rec: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"missing": [a for a in ("strategy", "layers_to_freeze", "recommended_lr",
                                                   "reasoning") if not hasattr(rec, a)],
                           "type": type_name(rec)}
    strategy = getattr(rec, "strategy", None)
    out["strategy"] = strategy if type(strategy) is str else None
    out["strategy_type"] = type_name(strategy)
    layers = getattr(rec, "layers_to_freeze", None)
    out["layers_to_freeze"] = (list(layers) if isinstance(layers, list) and
                               all(type(n) is str for n in layers) else None)
    out["layers_type"] = type_name(layers)
    lr = getattr(rec, "recommended_lr", None)
    real = isinstance(lr, int | float | np.integer | np.floating) and not isinstance(lr, bool | np.bool_)
    out["recommended_lr"] = float(lr) if real else None
    out["lr_type"] = type_name(lr)
    reasoning = getattr(rec, "reasoning", None)
    out["reasoning"] = reasoning if isinstance(reasoning, str) else None
    return out


def make_data(n: int, k: int, labels: str) -> tuple[np.ndarray, np.ndarray]:
    """X[i, 0] is the row's index i (how a spy knows which rows it was given)."""
    rng = np.random.default_rng(n * 31 + k)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    X[:, 0] = np.arange(n)
    y = np.zeros(n, dtype=np.int64) if labels == "zeros" else np.arange(n, dtype=np.int64) % k
    return X, y


def _rows(X: Any) -> list[int] | None:
    try:
        arr = np.asarray(X, dtype=np.float64)
        return [int(i) for i in np.rint(arr[:, 0])] if arr.ndim == 2 else None
    except (TypeError, ValueError, IndexError):
        return None


def _setting(config: Any, key: str) -> Any:
    value = config.get(key) if isinstance(config, dict) else getattr(config, key, None)
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    return None


class _Spy:
    """A stand-in model: records its calls with time stamps, sleeps, predicts known labels."""

    def __init__(self, arm: str, index: int, spec: dict, log: list, clock, y: np.ndarray,
                 num_classes: int) -> None:
        self.arm, self.index, self.spec, self.log, self.clock = arm, index, spec, log, clock
        self.y, self.num_classes = y, num_classes

    def train(self, X, y, config=None):
        enter = self.clock()
        rows = _rows(X)
        labels = np.asarray(y).ravel()
        aligned = rows is not None and len(labels) == len(rows) and all(
            0 <= r < len(self.y) for r in rows) and bool(np.array_equal(labels, self.y[rows]))
        time.sleep(self.spec["train"])
        self.log.append({"arm": self.arm, "event": "train", "enter": enter, "exit": self.clock(),
                         "rows": rows, "aligned": aligned,
                         "config": {key: _setting(config, key) for key in
                                    ("epochs", "batch_size", "learning_rate", "seed")}})

    def predict(self, X):
        enter = self.clock()
        rows = _rows(X) or []
        rows = [r for r in rows if 0 <= r < len(self.y)]
        truth = self.y[rows]
        hit = ((np.asarray(rows, dtype=np.int64) * 7919 + self.index * 104729) % 997) / 997 < \
            self.spec["accuracy"]
        predictions = np.where(hit, truth, (truth + 1) % max(self.num_classes, 2)).astype(np.int64)
        time.sleep(self.spec["predict"])
        self.log.append({"arm": self.arm, "event": "predict", "enter": enter, "exit": self.clock(),
                         "rows": rows, "accuracy": float(np.mean(hit)) if rows else None})
        return predictions


def _factory(arm: str, index: int, spec: dict, log: list, clock, y: np.ndarray):
    def make_model(num_classes):
        enter = clock()
        time.sleep(spec["build"])
        given = int(num_classes) if isinstance(num_classes, int | np.integer) else None
        log.append({"arm": arm, "event": "build", "enter": enter, "exit": clock(),
                    "num_classes": given})
        return _Spy(arm, index, spec, log, clock, y, given or 2)

    return make_model


def _number(value: Any) -> float | None:
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_):
        return float(value)
    return None


def apply(cls: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    if inputs["mode"] == "recommend":
        return {"answers": [[_recommendation(cls.recommend_strategy(size, similarity))
                             for similarity in inputs["similarities"]] for size in inputs["sizes"]]}
    X, y = make_data(inputs["n"], inputs["k"], inputs["labels"])
    log: list[dict] = []
    start = time.perf_counter()

    def clock() -> float:
        return time.perf_counter() - start

    arms = {arm: _factory(arm, index, spec, log, clock, y)
            for index, (arm, spec) in enumerate(inputs["arms"].items())}
    dataset = {"X": X, "y": y} if inputs["dataset"] == "dict" else (X, y)
    try:
        result = cls.compare_strategies(dataset, arms=arms, updates=inputs["updates"],
                                        batch_size=inputs["batch_size"], seed=inputs["seed"])
    except ZeroDivisionError as exc:
        return {"zero_division": f"ZeroDivisionError: {exc}", "events": log}
    end = clock()
    observed: dict[str, Any] = {"zero_division": None, "events": log, "end": end, "result": {}}
    for arm in inputs["arms"]:
        entry = getattr(result, arm, None)
        observed["result"][arm] = {
            "present": entry is not None,
            "accuracy": _number(getattr(entry, "accuracy", None)),
            "time": _number(getattr(entry, "time", None)),
            "types": [type_name(getattr(entry, "accuracy", None)), type_name(getattr(entry, "time", None))],
        }
    observed["result_type"] = type_name(result)
    return observed


# --- checking ---------------------------------------------------------------------------------

def _check_recommend(case: Case, expected: dict, got: dict) -> None:
    sizes, similarities = case.inputs["sizes"], case.inputs["similarities"]
    for i, size in enumerate(sizes):
        strategies = [cell["strategy"] for cell in got["answers"][i]]
        for j, similarity in enumerate(similarities):
            rec, want = got["answers"][i][j], expected["answers"][i][j]
            call = f"recommend_strategy({size}, {similarity!r})"
            if rec["missing"]:
                raise CheckFailure("recommendation_shape", f"{call} returned {rec['type']} without "
                                   f"the attribute(s) {', '.join(rec['missing'])}")
            if rec["strategy"] not in STRATEGIES:
                valid = ", ".join(repr(s) for s in STRATEGIES)
                raise CheckFailure("unknown_strategy", f"{call}.strategy is {rec['strategy_type']} "
                                   f"{fmt(rec['strategy'])}, expected one of {valid}")
            if rec["strategy"] != want["strategy"]:
                raise CheckFailure(mistake_kind(size, similarities, strategies, j),
                                   f"{call}.strategy is {rec['strategy']!r}, expected {want['strategy']!r}")
            if rec["layers_to_freeze"] != want["layers_to_freeze"]:
                shown = rec["layers_to_freeze"] if rec["layers_to_freeze"] is not None else rec["layers_type"]
                raise CheckFailure("layers_to_freeze", f"{call}.layers_to_freeze is {fmt(shown)}, "
                                   f"expected {want['layers_to_freeze']}")
            lr = rec["recommended_lr"]
            if lr is None or not math.isfinite(lr) or not 0 < lr <= 1:
                raise CheckFailure("learning_rate", f"{call}.recommended_lr is {rec['lr_type']} "
                                   f"{fmt(lr)}, expected a float in (0, 1]")
            reasoning = rec["reasoning"]
            if reasoning is None or len(reasoning.split()) < MIN_REASONING_WORDS:
                raise CheckFailure("reasoning", f"{call}.reasoning is {fmt(reasoning)}, expected a "
                                   f"sentence (a str of {MIN_REASONING_WORDS} words or more)")


def _events(got: dict, arm: str, event: str) -> list[dict]:
    return [e for e in got["events"] if e["arm"] == arm and e["event"] == event]


def _check_compare(case: Case, got: dict) -> None:
    inputs = case.inputs
    if got["zero_division"] is not None:
        raise CheckFailure("zero_division", f"compare_strategies raised {got['zero_division']}")
    arms, n = list(inputs["arms"]), inputs["n"]
    for arm in ARMS:
        entry = got["result"].get(arm)
        if entry is None or not entry["present"] or entry["accuracy"] is None or entry["time"] is None:
            shown = "nothing" if entry is None or not entry["present"] else \
                f"accuracy {entry['types'][0]} and time {entry['types'][1]}"
            raise CheckFailure("result_shape", f"the comparison ({got['result_type']}) should have "
                               f"`.{arm}.accuracy` and `.{arm}.time` (numbers); `.{arm}` has {shown}")
    num_classes = max(2, int(make_data(n, inputs["k"], inputs["labels"])[1].max()) + 1)
    for arm in arms:
        builds, trains = _events(got, arm, "build"), _events(got, arm, "train")
        if len(builds) != 1 or len(trains) != 1:
            raise CheckFailure("arms_ran", f"arm {arm!r} was built {len(builds)} and trained "
                               f"{len(trains)} time(s), expected once each: model = make_model("
                               f"num_classes), then model.train(X_train, y_train, config)")
        if builds[0]["num_classes"] != num_classes:
            raise CheckFailure("num_classes", f"arm {arm!r} was built with num_classes="
                               f"{fmt(builds[0]['num_classes'])}, expected {num_classes} (max(y) + 1, "
                               f"at least 2)")
        if not trains[0]["aligned"]:
            raise CheckFailure("labels", f"arm {arm!r} was trained on labels that are not those of its "
                               f"examples (index X and y with the same rows)")
    train_rows = {arm: sorted(_events(got, arm, "train")[0]["rows"]) for arm in arms}
    first = train_rows[arms[0]]
    if any(rows != first for rows in train_rows.values()):
        raise CheckFailure("same_split", "the arms were trained on different examples; split once, "
                           "before the loop, and give every arm the same training part")
    if not first:
        raise CheckFailure("same_split", "the arms were trained on no example at all")
    held_out = {}
    for arm in arms:
        predicts = _events(got, arm, "predict")
        fair = [p for p in predicts if p["rows"] and (n < 4 or not set(p["rows"]) & set(first))]
        if not fair:
            raise CheckFailure("no_holdout", f"arm {arm!r} was never asked to predict on held-out "
                               f"examples (examples it was not trained on)")
        held_out[arm] = fair
    tests = [sorted(held_out[arm][0]["rows"]) for arm in arms]
    if any(rows != tests[0] for rows in tests):
        raise CheckFailure("same_split", "the arms were scored on different held-out examples")
    _check_budget(inputs, arms, got, len(first))
    for arm in arms:
        accuracy = got["result"][arm]["accuracy"]
        truths = [p["accuracy"] for p in held_out[arm]]
        if not any(abs(accuracy - t) <= 1e-9 for t in truths):
            raise CheckFailure("accuracy", f"{arm}.accuracy is {fmt(accuracy)}, but its model's "
                               f"predictions on the held-out examples are right for a fraction "
                               f"{fmt(truths[0])}")
    _check_timing(arms, got)


def _check_budget(inputs: dict, arms: list[str], got: dict, n_train: int) -> None:
    configs = {arm: _events(got, arm, "train")[0]["config"] for arm in arms}
    for arm, config in configs.items():
        if config["batch_size"] != inputs["batch_size"]:
            raise CheckFailure("batch_size", f"arm {arm!r} got batch_size {fmt(config['batch_size'])}, "
                               f"expected the comparison's {inputs['batch_size']}")
        if config["seed"] != inputs["seed"]:
            raise CheckFailure("seed", f"arm {arm!r} got seed {fmt(config['seed'])}, expected the "
                               f"comparison's {inputs['seed']} (the same seed for every arm)")
        rate = config["learning_rate"]
        if rate is None or not math.isfinite(rate) or rate <= 0:
            raise CheckFailure("config", f"arm {arm!r} got learning_rate {fmt(rate)}, expected a "
                               f"float > 0")
        steps = math.ceil(n_train / inputs["batch_size"])
        epochs = max(1, math.ceil(inputs["updates"] / steps))
        if config["epochs"] != epochs:
            raise CheckFailure("budget", f"arm {arm!r} got epochs={fmt(config['epochs'])}: with "
                               f"{n_train} training examples, batch_size {inputs['batch_size']} and a "
                               f"budget of {inputs['updates']} updates, every arm trains {epochs} "
                               f"epoch(s) ({steps} update(s) per epoch)")


def _check_timing(arms: list[str], got: dict) -> None:
    events = sorted(got["events"], key=lambda e: e["enter"])
    for index, arm in enumerate(arms):
        build, train = _events(got, arm, "build")[0], _events(got, arm, "train")[0]
        seconds = got["result"][arm]["time"]
        least = train["exit"] - build["enter"]
        if seconds < least - EPS:
            raise CheckFailure("timing_short", f"{arm}.time is {seconds:.4f} s, but building and "
                               f"training it took {least:.4f} s")
        before = [e["exit"] for e in events if e["exit"] <= build["enter"]]
        after = [e["enter"] for e in events if e["enter"] >= train["exit"] and e is not train]
        window = (min(after) if after else got["end"]) - (max(before) if before else 0.0)
        if seconds > window + EPS:
            earlier = [_events(got, a, "build")[0]["enter"] for a in arms[:index]]
            if earlier and seconds >= train["exit"] - max(earlier) - EPS:
                raise CheckFailure("timing_shared", f"{arm}.time is {seconds:.4f} s, which includes "
                                   f"the arms timed before it (it took {least:.4f} s to build and train)")
            raise CheckFailure("timing_overshoot", f"{arm}.time is {seconds:.4f} s, more than the "
                               f"{window:.4f} s between the end of the previous call to an arm and the "
                               f"next one after its training (building and training took {least:.4f} s)")


def compare(case: Case, expected: dict, got: dict) -> None:
    if case.inputs["mode"] == "recommend":
        _check_recommend(case, expected, got)
    else:
        _check_compare(case, got)


# --- cases ------------------------------------------------------------------------------------

def recommend_case(name: str, sizes: list[int], hidden: bool = False) -> Case:
    return Case(name, {"mode": "recommend", "sizes": [int(s) for s in sizes],
                       "similarities": list(SIMILARITIES)}, hidden)


def compare_case(name: str, n: int, k: int, updates: int, batch_size: int, seed: int,
                 arms: dict[str, tuple[float, float, float, float]], *, labels: str = "cycle",
                 dataset: str = "dict", hidden: bool = False) -> Case:
    """``arms``: name -> (build, train, predict) sleeps in seconds and the accuracy it scores."""
    specs = {arm: {"build": b, "train": t, "predict": p, "accuracy": a}
             for arm, (b, t, p, a) in arms.items()}
    return Case(name, {"mode": "compare", "n": n, "k": k, "labels": labels, "dataset": dataset,
                       "updates": updates, "batch_size": batch_size, "seed": seed, "arms": specs},
                hidden)


PUBLIC_CASES = (
    recommend_case("recommend: small datasets (1 and 100 examples)", [1, 100]),
    recommend_case("recommend: the boundaries 999 / 1,000 and 9,999 / 10,000", [999, 1_000, 9_999, 10_000]),
    recommend_case("recommend: medium and large datasets", [5_000, 50_000, 1_000_000]),
    compare_case("compare: three arms, 40 examples, a dict", 40, 3, 20, 8, 0,
                 {"feature_extraction": (0.002, 0.004, 0.006, 0.75),
                  "fine_tuning": (0.002, 0.012, 0.006, 0.875),
                  "from_scratch": (0.002, 0.008, 0.006, 0.5)}),
    compare_case("compare: a pair (X, y), a budget below one epoch", 30, 2, 2, 4, 3,
                 {"feature_extraction": (0.003, 0.006, 0.005, 0.5),
                  "fine_tuning": (0.003, 0.003, 0.005, 0.9),
                  "from_scratch": (0.003, 0.009, 0.005, 0.25)}, dataset="pair"),
    compare_case("compare: two examples, every label 0", 2, 1, 5, 32, 1,
                 {"feature_extraction": (0.002, 0.004, 0.005, 1.0),
                  "fine_tuning": (0.002, 0.004, 0.005, 0.5),
                  "from_scratch": (0.002, 0.004, 0.005, 0.0)}, labels="zeros"),
)


EXERCISE = Exercise(
    id="04.2",
    part=4,
    title="Build the TransferLearningManager",
    name="TransferLearningManager",
    points=20.0,
    description=(
        "class TransferLearningManager: recommend_strategy(dataset_size, task_similarity) -> an "
        "object with strategy, layers_to_freeze, recommended_lr, reasoning (the course's rule, for "
        "the medium base's four blocks); compare_strategies(dataset, arms, updates=300, "
        "batch_size=32, seed=0, test_fraction=0.25) -> an object with .feature_extraction, "
        ".fine_tuning, .from_scratch, each with .accuracy (held out) and .time (that arm's own "
        "building and training), every arm with the same number of updates."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "recommend_strategy: size category, then the table of the statement. "
        "compare_strategies: split once, compute epochs once, then for each arm: start = "
        "time.perf_counter(); model = make_model(num_classes); model.train(X_train, y_train, "
        "config); seconds = time.perf_counter() - start; then score model.predict(X_test).",
        "recommendation_shape": "Return an object with the attributes strategy, layers_to_freeze, "
        "recommended_lr and reasoning (a small class, a dataclass or types.SimpleNamespace).",
        "unknown_strategy": "strategy is exactly one of the strings 'feature_extraction', "
        "'fine_tuning' or 'from_scratch' (mind the underscores).",
        "wrong_strategy": "Small and similar: feature extraction; small and different: "
        "fine-tuning; medium: fine-tuning; large and different ('low'): from scratch; large and "
        "similar: fine-tuning.",
        "boundary": "Check `<` against `<=`: 1,000 examples already count as medium and 10,000 as "
        "large.",
        "size_category": "Your answers at this size are those of another size category: small is "
        "below 1,000 examples, medium 1,000 to 9,999, large 10,000 or more.",
        "similarity": "The size category is right, the similarity is not: only 'high' similarity "
        "makes a small dataset feature extraction, and only 'low' similarity makes a large one from "
        "scratch.",
        "layers_to_freeze": "layers_to_freeze lists the frozen blocks of the medium base, from the "
        "input: all four for feature extraction, the table's number of blocks for fine-tuning "
        "(['layer1', 'layer2'] for a half), an empty list for from scratch.",
        "learning_rate": "recommended_lr is a float > 0: the table's rate for the strategy "
        "(0.01, 0.003 or 0.01).",
        "reasoning": "reasoning is a sentence a student can learn from: say which size category, "
        "which similarity, and why that strategy.",
        "zero_division": "A ZeroDivisionError: something you divide by is 0. With few examples, "
        "nothing may be held out (score on the training examples then), and an arm's updates per "
        "epoch are math.ceil(len(X_train) / batch_size), never len(X_train) // batch_size, which is 0 "
        "when there are fewer examples than a batch.",
        "result_shape": "Return an object whose attributes feature_extraction, fine_tuning and "
        "from_scratch each have .accuracy and .time (e.g. types.SimpleNamespace(accuracy=..., "
        "time=...)).",
        "arms_ran": "For each name, make_model in arms.items(): build it once (model = "
        "make_model(num_classes)) and train it once.",
        "num_classes": "num_classes is max(y) + 1, and at least 2 (a dataset whose labels are all 0 "
        "still has two classes).",
        "labels": "Split X and y with the same index array: X[train], y[train].",
        "same_split": "Split once, before the loop over the arms: every arm trains on the same "
        "examples and is scored on the same held-out ones.",
        "no_holdout": "Hold out part of the data: shuffle the indices with "
        "np.random.default_rng(seed).permutation(len(X)), keep int(test_fraction * len(X)) of them "
        "for scoring and train on the rest.",
        "batch_size": "Pass the comparison's batch_size in every arm's config.",
        "seed": "Pass the comparison's seed in every arm's config: the same seed for every arm.",
        "config": "Each arm's config is a dict with epochs, learning_rate (a float > 0, e.g. the "
        "rate you recommend for that strategy), batch_size and seed.",
        "budget": "The same budget for every arm: an epoch is math.ceil(len(X_train) / batch_size) "
        "updates, and each arm trains epochs = max(1, math.ceil(updates / that)) epochs.",
        "accuracy": "accuracy = np.mean(model.predict(X_test) == y_test), on the held-out examples.",
        "timing_short": "An arm's time covers building AND training it: start = time.perf_counter() "
        "just before make_model(...), stop right after model.train(...) returns.",
        "timing_shared": "Start the timer inside the loop, once per arm: a timer started before "
        "the loop adds the earlier arms' time to the later ones.",
        "timing_overshoot": "Stop the timer right after model.train(...) returns, before scoring "
        "the model: the time is building and training, not predicting.",
        "exception": "Read the error message. arms maps each strategy's name to a function "
        "make_model(num_classes) that returns a model with train(X, y, config) and predict(X).",
    },
    # tlkit's classes and rule, and the protocol's budget and recipes
    library_names=COURSE_CLASSES_LIBRARY + ("tlkit.protocol",),
    fallback="tlkit.TransferLearningManager",
)
