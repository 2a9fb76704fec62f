"""Exercise 03.2: build the course's ``FineTuner`` (Part 3).

The student writes the class on tlkit's engine (``base.network``'s blocks, a head from
``tlkit.parts.new_head``, the Network forward/backward, ``tlkit.TrainingHistory``)::

    ft = FineTuner(base, num_classes, layers_to_unfreeze=None)  # None: no block; "all"; or names
    ft.set_layer_learning_rate(name, lr)  # the block trains at lr; allowed while frozen;
                                          # an unknown name: ValueError naming the valid ones
    history = ft.train(X, y, config)      # dict or FineTuningConfig: epochs, learning_rate,
                                          # batch_size, seed, warmup_epochs
    ft.predict(x); ft.predict_proba(x)

``train`` runs plain SGD, ``w <- w - rate * grad`` per block (``rate``: the block's own
rate, else ``learning_rate``), on the blocks that are unfrozen when it is called; the
first ``warmup_epochs`` epochs (None: 10% of the epochs, at least 1, never the whole
run) train the head only. Frozen blocks do not change by a single bit, BatchNorm
statistics included.

A case builds a tiny pretrained base of vectors (``tlkit.PretrainedModel(arch, d)``, never
the student's Part 1 class), runs a script on the student's class and returns what it
observed: the frozen flags, which weights changed, the weight updates, the history, the
predictions. The checks need no exact float: an update rule is checked by running the
same single step twice with different rates (the updates must scale with the rates).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tlkit.exercises.compare import fmt, type_name
from tlkit.exercises.registry import COURSE_CLASSES_LIBRARY, Case, CheckFailure, Exercise

ARCHITECTURES = ("simple", "medium")
MODES = ("train", "rates", "warmup_split")
MIN_ACCURACY = 0.8  # training accuracy a "learns" case asks for, on well separated blobs
UPDATE_RTOL = 0.02  # relative tolerance of an update compared with another run's (float32 rounding
# of a small step on O(1) weights reaches a few 1e-3; the mistakes it catches differ by 2x or more)


# --- running the student's class ----------------------------------------------------------

def make_data(n: int, d: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` vectors of ``d`` numbers in ``k`` well separated blobs; labels 0, 1, ..., k-1, 0, ..."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):  # centers at least 3 apart (ten times the spread of a blob)
        centers = rng.normal(0.0, 2.0, size=(k, d))
        gaps = np.linalg.norm(centers[:, None] - centers[None], axis=-1) + 9.0 * np.eye(k)
        if gaps.min() >= 3.0:
            break
    y = np.arange(n, dtype=np.int64) % k
    X = centers[y] + rng.normal(0.0, 0.3, size=(n, d))
    return X.astype(np.float32), y


def make_base(arch: str, d: int):
    from tlkit.pretrained import PretrainedModel

    return PretrainedModel(arch, d)


def _config(values: dict[str, Any], kind: str):
    if kind == "object":
        from tlkit.config import FineTuningConfig

        return FineTuningConfig(**values)
    return dict(values)


def _params(block) -> np.ndarray:
    arrays = [np.asarray(p, dtype=np.float64).ravel() for _, layer in block.layers
              for p in layer.params.values()]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def _sample(update: np.ndarray, size: int = 48) -> np.ndarray:
    """``size`` entries spread over a block's update: a linear relation between two updates
    holds on them too, and the observation stays small."""
    if update.size <= size:
        return update
    return update[np.unique(np.linspace(0, update.size - 1, size).astype(np.int64))]


def _buffers(block) -> list[np.ndarray]:
    return [np.array(b, copy=True) for _, layer in block.layers for b in layer.buffers.values()]


def _frozen(base, names: list[str]) -> list[bool]:
    return [not base.network[name].trainable for name in names]


def _history(history: Any, names: list[str]) -> dict[str, Any]:
    from tlkit.history import TrainingHistory

    observed: dict[str, Any] = {"type": type(history).__name__,
                                "is_history": isinstance(history, TrainingHistory)}
    if not observed["is_history"]:
        return observed
    observed["epochs"] = len(history.loss) if isinstance(history.loss, list) else None
    rates = history.learning_rates
    observed["rates"] = None
    if isinstance(rates, dict):
        observed["rates"] = {}
        for name in names + ["head"]:
            values = rates.get(name)
            try:
                observed["rates"][name] = [float(v) for v in values]
            except (TypeError, ValueError):
                observed["rates"][name] = None
    return observed


def _predictions(ft: Any, X: np.ndarray, y: np.ndarray, k: int) -> dict[str, Any]:
    one = ft.predict(X[0])
    batch = ft.predict(X)
    proba_one = np.asarray(ft.predict_proba(X[0]), dtype=np.float64)
    proba = np.asarray(ft.predict_proba(X), dtype=np.float64)
    observed: dict[str, Any] = {
        "one_type": type_name(one),
        "one_is_int": isinstance(one, int | np.integer) and not isinstance(one, bool | np.bool_),
        "batch_type": type_name(batch),
        "batch_shape": list(np.shape(batch)),
        "batch_is_int": isinstance(batch, np.ndarray) and batch.dtype.kind in "iu",
        "proba_one_shape": list(proba_one.shape),
        "proba_shape": list(proba.shape),
        "proba_rows_sum": [float(s) for s in proba.sum(axis=-1).ravel()] if proba.ndim == 2 else None,
        "proba_nonnegative": bool(np.all(proba >= 0)) if proba.size else True,
        "accuracy": None,
        "agrees": None,
    }
    if observed["batch_is_int"] and batch.shape == (len(X),):
        observed["accuracy"] = float(np.mean(batch == y))
        if proba.shape == (len(X), k):
            observed["agrees"] = bool(np.array_equal(batch, np.argmax(proba, axis=1)))
    return observed


def _run(cls: Any, inputs: dict[str, Any], config: dict[str, Any], rates: dict[str, float],
         X: np.ndarray, y: np.ndarray) -> tuple[Any, Any, dict[str, np.ndarray]]:
    """Construct on a fresh base, set the rates, train once: (base, history, updates per block)."""
    base = make_base(inputs["arch"], inputs["d"])
    ft = cls(base, inputs["k"], inputs["unfreeze"])
    for name, lr in rates.items():
        ft.set_layer_learning_rate(name, lr)
    before = {block.name: _params(block) for block in base.network.blocks}
    history = ft.train(X, y, _config(config, inputs["config_type"]))
    return base, history, {block.name: _sample(_params(block) - before[block.name])
                           for block in base.network.blocks}


def apply(cls: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    X, y = make_data(inputs["n"], inputs["d"], inputs["k"], inputs["seed"])
    base = make_base(inputs["arch"], inputs["d"])
    names = base.get_layer_names()
    ft = cls(base, inputs["k"], inputs["unfreeze"])
    observed: dict[str, Any] = {"names": names, "frozen_at_start": _frozen(base, names),
                                "rate_errors": [], "unknown": None}
    for name, lr in inputs["rates"].items():
        try:
            ft.set_layer_learning_rate(name, lr)
            observed["rate_errors"].append(None)
        except Exception as exc:  # noqa: BLE001 - what the student raised is the observation
            observed["rate_errors"].append(f"{type(exc).__name__}: {exc}")
    if inputs["unknown"] is not None:
        try:
            ft.set_layer_learning_rate(inputs["unknown"], 0.01)
            observed["unknown"] = {"raised": None, "names_valid": False}
        except Exception as exc:  # noqa: BLE001
            text = str(exc)
            observed["unknown"] = {"raised": type(exc).__name__,
                                   "names_valid": all(name in text for name in names)}
    observed["frozen_before_train"] = _frozen(base, names)
    params = {block.name: _params(block) for block in base.network.blocks}
    buffers = {block.name: _buffers(block) for block in base.network.blocks}
    history = ft.train(X, y, _config(inputs["config"], inputs["config_type"]))
    observed["params_changed"] = [not np.array_equal(_params(base.network[n]), params[n]) for n in names]
    observed["buffers_changed"] = [
        any(not np.array_equal(a, b) for a, b in zip(_buffers(base.network[n]), buffers[n], strict=True))
        for n in names]
    observed["frozen_after_train"] = _frozen(base, names)
    observed["history"] = _history(history, names)
    observed["predictions"] = _predictions(ft, X, y, inputs["k"])
    if inputs["mode"] == "rates":  # the same single step twice, at two sets of rates
        second = inputs["second"]
        _, _, first = _run(cls, inputs, inputs["config"], inputs["rates"], X, y)
        _, _, other = _run(cls, inputs, {**inputs["config"], "learning_rate": second["learning_rate"]},
                           second["rates"], X, y)
        observed["updates"] = [first, other]
    elif inputs["mode"] == "warmup_split":  # 1 warm-up epoch + the rest, in one call and in two
        config = inputs["config"]
        _, _, whole = _run(cls, inputs, config, inputs["rates"], X, y)
        base_two = make_base(inputs["arch"], inputs["d"])
        ft_two = cls(base_two, inputs["k"], inputs["unfreeze"])
        for name, lr in inputs["rates"].items():
            ft_two.set_layer_learning_rate(name, lr)
        start = {block.name: _params(block) for block in base_two.network.blocks}
        warm = config["warmup_epochs"]
        ft_two.train(X, y, _config({**config, "epochs": warm, "warmup_epochs": warm}, inputs["config_type"]))
        ft_two.train(X, y, _config({**config, "epochs": config["epochs"] - warm, "warmup_epochs": 0},
                                   inputs["config_type"]))
        observed["updates"] = [whole, {block.name: _sample(_params(block) - start[block.name])
                                       for block in base_two.network.blocks}]
    return observed


# --- checking ---------------------------------------------------------------------------------

def _listed(names: list[str], flags: list[bool], value: bool) -> list[str]:
    return [name for name, flag in zip(names, flags, strict=True) if flag == value]


def compare(case: Case, expected: dict, got: dict) -> None:
    inputs = case.inputs
    names = expected["names"]
    call = f"FineTuner(base, {inputs['k']}, layers_to_unfreeze={inputs['unfreeze']!r})"
    if got["frozen_at_start"] != expected["frozen_at_start"]:
        raise CheckFailure("unfreeze_choice", f"after {call} the frozen blocks are "
                           f"{_listed(names, got['frozen_at_start'], True)}, expected "
                           f"{_listed(names, expected['frozen_at_start'], True)}")
    for (name, lr), error in zip(inputs["rates"].items(), got["rate_errors"], strict=True):
        if error is not None:
            raise CheckFailure("rate_on_frozen", f"set_layer_learning_rate({name!r}, {lr:g}) raised "
                                                 f"{error}")
    if got["frozen_before_train"] != expected["frozen_before_train"]:
        raise CheckFailure("rate_on_frozen", f"set_layer_learning_rate changed the frozen blocks to "
                           f"{_listed(names, got['frozen_before_train'], True)}, expected "
                           f"{_listed(names, expected['frozen_before_train'], True)}")
    if inputs["unknown"] is not None:
        unknown = got["unknown"]
        text = f"set_layer_learning_rate({inputs['unknown']!r}, 0.01)"
        if unknown["raised"] != "ValueError":
            raised = "raised nothing" if unknown["raised"] is None else f"raised {unknown['raised']}"
            raise CheckFailure("unknown_name", f"{text} {raised}, expected a ValueError")
        if not unknown["names_valid"]:
            raise CheckFailure("unknown_name_message", f"the ValueError of {text} does not name every "
                                                       f"valid block {names}")
    _check_history_shape(inputs, got["history"])
    _check_frozen(inputs, names, expected, got)
    if inputs["mode"] == "rates":
        _check_rates(inputs, names, expected, got)
    if inputs["mode"] == "warmup_split":
        _check_split(inputs, names, expected, got)
    _check_history_rates(names, expected["history"], got["history"])
    _check_predictions(inputs, got["predictions"])


def _check_history_shape(inputs: dict, history: dict) -> None:
    if not history["is_history"]:
        raise CheckFailure("no_return" if history["type"] == "None" else "history",
                           f"train returned {history['type']}, expected a tlkit.TrainingHistory")
    epochs = inputs["config"]["epochs"]
    if history["epochs"] != epochs:
        raise CheckFailure("history", f"history.loss has {history['epochs']} entries, expected one per "
                                      f"epoch ({epochs})")
    if history["rates"] is None:
        raise CheckFailure("history", "history.learning_rates should be a dict: block name -> one rate "
                                      "per epoch")


def _check_frozen(inputs: dict, names: list[str], expected: dict, got: dict) -> None:
    frozen = expected["frozen_before_train"]
    for name, is_frozen, params, buffers in zip(names, frozen, got["params_changed"],
                                                got["buffers_changed"], strict=True):
        if is_frozen and params:
            raise CheckFailure("frozen_changed", f"{name} is frozen, but train changed its weights")
        if is_frozen and buffers:
            raise CheckFailure("frozen_batchnorm", f"{name} is frozen, but train changed its BatchNorm "
                                                   f"running statistics")
    if got["frozen_after_train"] != frozen:
        raise CheckFailure("flags_not_restored", f"after train the frozen blocks are "
                           f"{_listed(names, got['frozen_after_train'], True)}, expected "
                           f"{_listed(names, frozen, True)} as before train")
    config = inputs["config"]
    trained = _listed(names, frozen, False)
    if config.get("warmup_epochs") == config["epochs"]:
        moved = [n for n, changed in zip(names, got["params_changed"], strict=True) if changed]
        if moved:
            raise CheckFailure("warmup_skipped", f"warmup_epochs={config['epochs']} of "
                               f"{config['epochs']} epochs: only the head should train, but the "
                               f"weights of {moved} changed")
        return
    still = [n for n in trained if not got["params_changed"][names.index(n)]]
    if still:
        if config["epochs"] == 1 and config.get("warmup_epochs") is None:
            raise CheckFailure("warmup_whole_run", f"train with epochs=1 and the default warm-up left "
                               f"the unfrozen {still} unchanged: the warm-up took the whole run")
        if config.get("warmup_epochs") == config["epochs"] - 1:
            raise CheckFailure("warmup_length", f"train(epochs={config['epochs']}, warmup_epochs="
                               f"{config['warmup_epochs']}) left the unfrozen {still} unchanged: "
                               f"they should train in the last epoch")
        raise CheckFailure("block_not_trained", f"the unfrozen {still} did not change in training")


def _relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), 1e-30)
    return float(np.linalg.norm(a - b)) / scale


def _effective(rates: dict, lr: float, name: str) -> float:
    return float(rates.get(name, lr))


def _check_rates(inputs: dict, names: list[str], expected: dict, got: dict) -> None:
    lr_a, lr_b = inputs["config"]["learning_rate"], inputs["second"]["learning_rate"]
    rates_a, rates_b = inputs["rates"], inputs["second"]["rates"]
    first, other = got["updates"]
    for name in _listed(names, expected["frozen_before_train"], False):
        rate_a, rate_b = _effective(rates_a, lr_a, name), _effective(rates_b, lr_b, name)
        want = rate_a / rate_b
        a, b = first[name], other[name]
        if _relative_gap(a, want * b) <= UPDATE_RTOL:
            continue
        norm_b = float(np.linalg.norm(b))
        ratio = float(np.linalg.norm(a)) / norm_b if norm_b else float("inf")
        message = (f"one SGD step with {name} at rate {rate_a:g} should move it {want:g} times as far "
                   f"as one step at rate {rate_b:g} (same start, same data); it moved {ratio:.4g} times "
                   f"as far")
        base_ratio = lr_a / lr_b
        kind = "rates_ignored" if abs(ratio - base_ratio) <= UPDATE_RTOL * base_ratio else "wrong_rate"
        raise CheckFailure(kind, message)


def _check_split(inputs: dict, names: list[str], expected: dict, got: dict) -> None:
    whole, split = got["updates"]
    config = inputs["config"]
    for name in _listed(names, expected["frozen_before_train"], False):
        if _relative_gap(whole[name], split[name]) > UPDATE_RTOL:
            raise CheckFailure("warmup_length", f"train(epochs={config['epochs']}, warmup_epochs="
                               f"{config['warmup_epochs']}) should move {name} as train(epochs="
                               f"{config['warmup_epochs']}, warmup_epochs={config['warmup_epochs']}) then "
                               f"train(epochs={config['epochs'] - config['warmup_epochs']}, "
                               f"warmup_epochs=0) does (the blocks train in the last "
                               f"{config['epochs'] - config['warmup_epochs']} epochs), but it did not")


def _check_history_rates(names: list[str], expected: dict, got: dict) -> None:
    for name in names + ["head"]:
        want, rates = expected["rates"][name], got["rates"].get(name)
        if rates is None or len(rates) != len(want) or not np.allclose(rates, want, rtol=1e-6, atol=0):
            message = f"history.learning_rates[{name!r}] is {fmt(rates)}, expected {fmt(want)}"
            raise CheckFailure(_rates_kind(want, rates), message)


def _rates_kind(want: list[float], rates: list[float] | None) -> str:
    """A warm-up mistake when the rates differ only in whether the block trained, epoch by epoch."""
    if rates is None or len(rates) != len(want) or not any(want):
        return "history_rates"
    trained_want = [w != 0 for w in want]
    trained_got = [r != 0 for r in rates]
    if trained_want == trained_got:
        return "history_rates"
    warmup = trained_want.index(True)
    if trained_want[warmup:] != [True] * (len(want) - warmup):
        return "history_rates"
    if warmup and all(trained_got):
        return "warmup_skipped"
    if True in trained_got and all(trained_got[trained_got.index(True):]) and (
            abs(trained_got.index(True) - warmup) == 1):
        return "warmup_length"
    return "history_rates"


def _check_predictions(inputs: dict, observed: dict) -> None:
    n, k = inputs["n"], inputs["k"]
    if not observed["one_is_int"]:
        raise CheckFailure("predict_type", f"predict(one sample) returned {observed['one_type']}, "
                                           f"expected an int")
    if not observed["batch_is_int"] or observed["batch_shape"] != [n]:
        raise CheckFailure("predict_type", f"predict(X) returned {observed['batch_type']}, expected an "
                                           f"array of {n} ints, shape ({n},)")
    if observed["proba_one_shape"] != [k] or observed["proba_shape"] != [n, k]:
        raise CheckFailure("proba_shape", f"predict_proba gave shapes {tuple(observed['proba_one_shape'])} "
                                          f"(one sample) and {tuple(observed['proba_shape'])} (a batch), "
                                          f"expected ({k},) and ({n}, {k})")
    sums = observed["proba_rows_sum"]
    if not observed["proba_nonnegative"] or not np.allclose(sums, 1.0, atol=1e-4):
        raise CheckFailure("proba_sum", f"predict_proba's rows should be probabilities summing to 1; "
                                        f"they sum to {fmt(np.asarray(sums))}")
    if not observed["agrees"]:
        raise CheckFailure("predict_type", "predict(X) should be the argmax of predict_proba(X), row "
                                           "by row")
    if inputs["learns"] and observed["accuracy"] < MIN_ACCURACY:
        raise CheckFailure("not_learning", f"after training, predict is right on "
                           f"{observed['accuracy']:.0%} of the training examples (well separated "
                           f"blobs); expected at least {MIN_ACCURACY:.0%}")


# --- cases ------------------------------------------------------------------------------------

def _case(name: str, arch: str, d: int, k: int, n: int, seed: int, unfreeze: Any, mode: str,
          config: dict[str, Any], *, rates: dict[str, float] | None = None, unknown: str | None = None,
          second: dict[str, Any] | None = None, config_type: str = "dict", learns: bool | None = None,
          hidden: bool = False) -> Case:
    if arch not in ARCHITECTURES or mode not in MODES:
        raise ValueError(f"arch must be in {ARCHITECTURES} and mode in {MODES}")
    config = {"seed": 0, **config}
    if n % config["batch_size"] == 1:  # a minibatch of one has no batch statistics
        n += 1
    return Case(name, {"arch": arch, "d": d, "k": k, "n": n, "seed": seed, "unfreeze": unfreeze,
                       "mode": mode, "config": config, "config_type": config_type,
                       "rates": dict(rates or {}), "unknown": unknown, "second": second,
                       "learns": bool(config["epochs"] >= 10) if learns is None else learns}, hidden)


PUBLIC_CASES = (
    _case("nothing unfrozen: only the head trains", "simple", 5, 3, 24, 1, None, "train",
          {"epochs": 12, "learning_rate": 0.1, "batch_size": 8}, unknown="layer3"),
    _case("the top block unfrozen, with a rate of its own set while frozen", "medium", 6, 3, 24, 2,
          ["layer4"], "train", {"epochs": 12, "learning_rate": 0.1, "batch_size": 8, "warmup_epochs": 2},
          rates={"layer3": 0.001, "layer4": 0.02}, config_type="object"),
    _case("per-block rates scale each block's update", "simple", 4, 2, 16, 3, "all", "rates",
          {"epochs": 1, "learning_rate": 0.05, "batch_size": 16, "warmup_epochs": 0},
          rates={"layer1": 0.005}, second={"learning_rate": 0.1, "rates": {"layer2": 0.01}}),
    _case("a warm-up as long as the run trains the head only", "simple", 5, 2, 20, 4, "all", "train",
          {"epochs": 2, "learning_rate": 0.05, "batch_size": 8, "warmup_epochs": 2}),
    _case("a 1-epoch warm-up, then the blocks", "medium", 5, 3, 18, 5, ["layer3", "layer4"],
          "warmup_split", {"epochs": 2, "learning_rate": 0.05, "batch_size": 18, "warmup_epochs": 1}),
    _case("one epoch with the default warm-up trains the blocks", "simple", 4, 2, 12, 6, "all", "train",
          {"epochs": 1, "learning_rate": 0.05, "batch_size": 12}, config_type="object"),
    _case("a frozen block above a trainable one stays frozen", "medium", 4, 2, 16, 7, ["layer2"], "train",
          {"epochs": 3, "learning_rate": 0.05, "batch_size": 8, "warmup_epochs": 1}, unknown="head2"),
)


EXERCISE = Exercise(
    id="03.2",
    part=3,
    title="Build the FineTuner",
    name="FineTuner",
    points=20.0,
    description=(
        "class FineTuner(base, num_classes, layers_to_unfreeze=None): freezes every base block, then "
        "unfreezes the named ones (None: none, 'all': all); set_layer_learning_rate(name, lr) "
        "(allowed on a frozen block; unknown name: ValueError naming the valid ones); train(X, y, "
        "config) with plain SGD w -= rate * grad per block, the head alone during the warm-up, "
        "frozen blocks unchanged, returning a TrainingHistory; predict and predict_proba."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "Build it in order: __init__ (base.freeze(), then base.unfreeze(the chosen names)), "
        "set_layer_learning_rate (a dict name -> rate), train (one epoch loop, one minibatch loop: "
        "forward, softmax_cross_entropy, backward, then w -= rate * grad for every trainable block), "
        "then predict_proba and predict.",
        "unfreeze_choice": "layers_to_unfreeze=None unfreezes no block (only the head will train), "
        "'all' unfreezes every block, a list unfreezes exactly those names: call base.freeze() "
        "first, then base.unfreeze(names).",
        "rate_on_frozen": "set_layer_learning_rate only records the rate (self.rates[name] = lr): it "
        "must accept a frozen block and must not unfreeze it; the rate applies once the block trains.",
        "unknown_name": "For a name that is not a block of the base (or 'head'), raise ValueError "
        "yourself: `raise ValueError(f\"unknown layer {name!r}; valid names are {valid}\")`.",
        "unknown_name_message": "Name the valid blocks in the ValueError's message "
        "(base.get_layer_names()), so the caller sees what to type instead.",
        "history": "train returns a tlkit.TrainingHistory: append one loss and one accuracy per "
        "epoch, and fill history.learning_rates[name] with one rate per epoch for every base block "
        "and 'head'.",
        "frozen_changed": "Update only the blocks whose `trainable` flag is True; the engine computes "
        "no gradient for a frozen block, and its weights must stay bit for bit the same.",
        "frozen_batchnorm": "Freeze with the block's flag (base.freeze / block.trainable = False), "
        "not by skipping its update: a block marked trainable runs BatchNorm in training mode and "
        "changes its running statistics. network.forward(x, training=True) keeps frozen blocks in "
        "inference mode.",
        "warmup_skipped": "During the first warmup_epochs epochs only the head trains: set "
        "block.trainable = False on the chosen blocks for those epochs (and back to True after).",
        "warmup_whole_run": "The default warm-up (warmup_epochs=None) is 10% of the epochs, at least "
        "1, but never the whole run: with epochs=1 there is no warm-up, or the blocks you asked to "
        "fine-tune would never train.",
        "block_not_trained": "The blocks unfrozen when train is called must train after the warm-up: "
        "collect them at the start of train ([b for b in base.network.blocks if b.trainable]) and "
        "update them with w -= rate * grad.",
        "flags_not_restored": "After train, put the frozen flags back as they were before it (the "
        "warm-up freezes the chosen blocks only for a while): use try/finally.",
        "rates_ignored": "Each block trains at its own rate: rate = self.rates.get(block.name, "
        "learning_rate), then param -= rate * grad, for every parameter of that block.",
        "wrong_rate": "The rate given to set_layer_learning_rate is the block's learning rate itself "
        "(not a multiplier of learning_rate), used as w -= rate * grad with plain SGD (no momentum, "
        "no Adam).",
        "warmup_length": "Epochs count from 0: the chosen blocks are frozen while epoch < "
        "warmup_epochs and train from epoch == warmup_epochs on. Use plain SGD (no state kept "
        "between train calls).",
        "history_rates": "history.learning_rates[name] holds, for every epoch, the rate the block "
        "trained at: 0.0 while it is frozen or warming up, else its own rate (or learning_rate); the "
        "head's is learning_rate (or its own rate).",
        "predict_type": "predict of one sample returns an int (int(np.argmax(p))); of a batch, an "
        "(N,) integer array, the argmax of each row of predict_proba.",
        "proba_shape": "predict_proba of one sample returns (num_classes,), of a batch (N, "
        "num_classes): base.extract_features(x) gives (F,) or (N, F); run the head on a 2-D batch "
        "and take row 0 for one sample.",
        "proba_sum": "Turn the head's logits into probabilities with softmax (tlkit.nn.losses."
        "softmax): every row is >= 0 and sums to 1.",
        "not_learning": "Check the sign (w -= rate * grad, against the gradient), that the loss is "
        "computed on the labels of the same rows as the minibatch, and that the head trains in "
        "every epoch.",
        "exception": "Read the error message. train gets a dict or a FineTuningConfig: read each "
        "setting with config[key] for a dict and getattr(config, key) otherwise.",
    },
    # tlkit's classes, and its training loop: the loop with its warm-up and rates is the exercise
    library_names=COURSE_CLASSES_LIBRARY + ("tlkit.training.Trainer",),
    fallback="tlkit.FineTuner",
)
