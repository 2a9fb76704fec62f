"""Exercise 02.2 (build Part 2): the student's own ``FeatureExtractor``.

The student writes the course's class on tlkit's engine: ``FeatureExtractor(base,
num_classes)`` freezes every block of the pretrained ``base`` when it is built;
``train(X, y, config)`` computes the frozen base's features of ``X`` **once**, trains a new
head (:func:`tlkit.parts.new_head`, a tlkit loss and optimizer, seeded minibatches) on them
and returns a :class:`tlkit.TrainingHistory` (loss and accuracy per epoch, ``train_time``);
``predict`` gives an int for one sample and (N,) ints for a batch, ``predict_proba`` rows
that sum to 1. The base's weights stay the same to the bit. ``config`` is a
:class:`tlkit.TrainingConfig` or a dict with the same keys.

``apply`` builds the base with tlkit's own :class:`tlkit.PretrainedModel` (the exercise is
checked on its own, never on the student's Part 1 class), counts the samples that go
through the base's first block while ``train`` runs (features computed once: N samples,
not N per epoch), trains, predicts, and returns what it observed. Training results are
compared with margins (accuracy thresholds on separable data, a falling loss), never with
the reference's float digits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tlkit.config import TrainingConfig
from tlkit.exercises.compare import fmt, type_name
from tlkit.exercises.registry import COURSE_CLASSES_LIBRARY, Case, CheckFailure, Exercise
from tlkit.history import TrainingHistory
from tlkit.pretrained import PretrainedModel

# --- apply: runs in the student's process ------------------------------------------------


class _RowCounter:
    """Counts the samples that enter the base's first block, on every path (a training
    forward, and the inference path of Network.infer and of frozen blocks), by wrapping that
    block's methods on the instance: ``forward`` and ``infer``, or, on the fast engine, whose
    inference runs a block's ``inference_plan()`` (``infer`` included), ``forward`` and the
    plans it hands out."""

    def __init__(self, base: PretrainedModel) -> None:
        self.rows = 0
        block = base.network.blocks[0]
        block.forward = self._counted(block.forward)
        if hasattr(block, "inference_plan"):
            plan = block.inference_plan
            block.inference_plan = lambda: self._counted(plan())
        else:
            block.infer = self._counted(block.infer)

    def _counted(self, method: Any) -> Any:
        def counted(x, *args, **kwargs):
            self.rows += len(x)
            return method(x, *args, **kwargs)

        return counted


def _numbers(value: Any) -> list | str:
    """A list/tuple/1-D array of real numbers as a list of floats, else a description."""
    if type(value) is np.ndarray and value.ndim == 1:
        value = value.tolist()
    if type(value) not in (list, tuple):
        return type_name(value)
    out = []
    for item in value:
        if type(item) in (int, float) or (isinstance(item, np.generic) and item.dtype.kind in "iuf"):
            out.append(float(item))
        else:
            return f"a {type(value).__name__} holding {type_name(item)}"
    return out


def _history(history: Any) -> dict[str, Any]:
    if history is None:
        return {"type": "None"}
    train_time = getattr(history, "train_time", None)
    epochs = getattr(history, "epochs", None)
    return {
        "type": "TrainingHistory" if isinstance(history, TrainingHistory) else type_name(history),
        "loss": _numbers(getattr(history, "loss", None)),
        "accuracy": _numbers(getattr(history, "accuracy", None)),
        "epochs": int(epochs) if isinstance(epochs, int | np.integer) and not isinstance(
            epochs, bool) else type_name(epochs),
        "train_time": float(train_time) if isinstance(train_time, int | float | np.floating) and not
        isinstance(train_time, bool) else type_name(train_time),
    }


def _base(inputs: dict[str, Any]) -> PretrainedModel:
    return PretrainedModel(inputs["architecture"], inputs["input_shape"])


def _config(inputs: dict[str, Any]) -> Any:
    config = dict(inputs["config"])
    return TrainingConfig(**config) if inputs["config_kind"] == "TrainingConfig" else config


def _train_once(cls: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    base = _base(inputs)
    before = base.state_dict()
    counter = _RowCounter(base)
    model = cls(base, inputs["num_classes"])
    frozen = [bool(base.is_frozen(name)) for name in base.get_layer_names()]
    X, y = inputs["X"], inputs["y"]
    if inputs["as_lists"]:
        X, y = X.tolist(), y.tolist()
    rows = counter.rows
    try:
        history = model.train(X, y, _config(inputs))
    except AttributeError as exc:
        if inputs["config_kind"] == "dict" and "'dict' object has no attribute" in str(exc):
            return {"dict_config": str(exc)[:200]}
        raise
    rows = counter.rows - rows
    after = base.state_dict()
    changed = sorted(key for key in before if not np.array_equal(before[key], after[key]))
    return {"model": model, "frozen_at_construction": frozen, "base_rows_in_train": rows,
            "base_changed": changed, "history": _history(history)}


def apply(cls: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    run = _train_once(cls, inputs)
    if "dict_config" in run:
        return run
    model = run.pop("model")
    X_test = inputs["X_test"]
    run["proba"] = model.predict_proba(X_test)
    run["predict"] = model.predict(X_test)
    run["proba_one"] = model.predict_proba(X_test[0])
    run["predict_one"] = model.predict(X_test[0])
    if inputs["twice"]:
        again = _train_once(cls, inputs)
        run["history_again"] = again["history"] if "history" in again else {"type": "None"}
    return run


# --- compare: runs in the checking process -------------------------------------------------

def _check_history(case: Case, history: dict, what: str = "train's history") -> None:
    epochs = case.inputs["config"]["epochs"]
    if history["type"] != "TrainingHistory":
        raise CheckFailure("no_return" if history["type"] == "None" else "history_type",
                           f"train returned {history['type']}; expected a tlkit.TrainingHistory")
    for key in ("loss", "accuracy"):
        values = history[key]
        if type(values) is str:
            raise CheckFailure("history_values", f"{what}.{key} is {values}; expected a list of "
                                                 f"{epochs} numbers (one per epoch)")
        if len(values) != epochs:
            raise CheckFailure("history_length", f"{what}.{key} holds {len(values)} numbers for "
                                                 f"{epochs} epochs; expected one per epoch")
        if not all(math.isfinite(v) for v in values):
            raise CheckFailure("not_finite", f"{what}.{key} is {fmt(values)}")
    if not all(0.0 <= a <= 1.0 for a in history["accuracy"]):
        raise CheckFailure("accuracy_range", f"{what}.accuracy is {fmt(history['accuracy'])}; "
                                             f"expected fractions between 0 and 1")
    if history["epochs"] != epochs:
        raise CheckFailure("history_length", f"{what}.epochs is {fmt(history['epochs'])}, "
                                             f"expected {epochs}")
    train_time = history["train_time"]
    if type(train_time) is not float or not train_time > 0 or not math.isfinite(train_time):
        raise CheckFailure("train_time", f"{what}.train_time is {fmt(train_time)}; expected the "
                                         f"seconds train took (> 0)")


def _check_proba(proba: Any, shape: tuple[int, ...], what: str) -> None:
    if proba is None:
        raise CheckFailure("no_return", f"{what} returned None (did you forget `return`?)")
    if type(proba) is not np.ndarray or proba.dtype.kind != "f":
        raise CheckFailure("proba_type", f"{what} returned {type_name(proba)}; expected a float "
                                         f"array of shape {shape}")
    if proba.shape != shape:
        kind = "proba_single" if len(shape) == 1 else "proba_shape"
        raise CheckFailure(kind, f"{what} has shape {proba.shape}, expected {shape}")
    if not np.all(np.isfinite(proba)):
        raise CheckFailure("not_finite", f"{what} contains NaN or inf")
    sums = proba.sum(axis=-1)
    if np.any(proba < 0) or not np.allclose(sums, 1.0, atol=1e-4):
        raise CheckFailure("proba_not_normalised", f"{what}: the rows sum to {fmt(sums)} (smallest "
                                                   f"entry {float(proba.min()):.3g}); expected "
                                                   f"probabilities, each row summing to 1")


def _check_predict(got: dict, n: int) -> np.ndarray:
    pred = got["predict"]
    if type(pred) is not np.ndarray or pred.dtype.kind not in "iu":
        raise CheckFailure("no_return" if pred is None else "predict_type",
                           f"predict of a batch returned {type_name(pred)}"
                           f"{' of ' + str(pred.dtype) if type(pred) is np.ndarray else ''}; "
                           f"expected an int array of shape ({n},)")
    if pred.shape != (n,):
        raise CheckFailure("predict_type", f"predict of a batch has shape {pred.shape}, "
                                           f"expected ({n},)")
    if not np.array_equal(pred, np.argmax(got["proba"], axis=1)):
        raise CheckFailure("predict_not_argmax", f"predict gave {fmt(pred)}, but the most "
                                                 f"probable classes of predict_proba are "
                                                 f"{fmt(np.argmax(got['proba'], axis=1))}")
    one = got["predict_one"]
    if type(one) is not int and not (isinstance(one, np.generic) and one.dtype.kind in "iu"):
        raise CheckFailure("predict_single", f"predict of one sample returned {fmt(one)} "
                                             f"({type_name(one)}); expected one int")
    if int(one) != int(np.argmax(got["proba_one"])):
        raise CheckFailure("predict_not_argmax", f"predict of one sample gave {int(one)}, but "
                                                 f"predict_proba's most probable class is "
                                                 f"{int(np.argmax(got['proba_one']))}")
    return pred


def compare(case: Case, expected: dict, got: dict) -> None:
    inputs = case.inputs
    n, c = len(inputs["X"]), inputs["num_classes"]
    if "dict_config" in got:
        raise CheckFailure("dict_config", f"train(X, y, config) with config a dict raised "
                                          f"AttributeError: {got['dict_config']}")
    if not all(got["frozen_at_construction"]):
        raise CheckFailure("base_not_frozen", f"after FeatureExtractor(base, {c}) the base's "
                                              f"frozen flags are {got['frozen_at_construction']}; "
                                              f"expected every block frozen")
    _check_history(case, got["history"])
    if got["base_changed"]:
        raise CheckFailure("base_changed", f"train changed the base's "
                                           f"{', '.join(got['base_changed'][:4])}; a frozen "
                                           f"base stays the same to the bit")
    rows, epochs = got["base_rows_in_train"], inputs["config"]["epochs"]
    if rows > n + 2:
        raise CheckFailure("features_recomputed",
                           f"during train({n} samples, {epochs} epochs) the base processed "
                           f"{rows} samples; computing the features once takes {n}")
    if rows == 0:
        raise CheckFailure("features_missing", "train never ran the base: the head must learn "
                                               "from the base's features of X")
    n_test = len(inputs["X_test"])
    _check_proba(got["proba"], (n_test, c), "predict_proba of a batch")
    _check_proba(got["proba_one"], (c,), "predict_proba of one sample")
    pred = _check_predict(got, n_test)
    if inputs["twice"]:
        again = got["history_again"]
        _check_history(case, again, "the second train's history")
        first, second = got["history"]["loss"], again["loss"]
        if not np.allclose(first, second, rtol=1e-5, atol=1e-7):
            raise CheckFailure("not_deterministic", f"two trainings with the same config (seed "
                                                    f"{inputs['config']['seed']}) gave the losses "
                                                    f"{fmt(first)} and {fmt(second)}")
    loss = got["history"]["loss"]
    if epochs >= 3 and not loss[-1] < loss[0]:
        raise CheckFailure("not_learning", f"the loss went from {loss[0]:.4g} (first epoch) to "
                                           f"{loss[-1]:.4g} (last): the head does not learn")
    accuracy = float(np.mean(pred == inputs["y_test"]))
    if accuracy < inputs["min_accuracy"]:
        raise CheckFailure("not_learning", f"the trained model's accuracy on held-out samples "
                                           f"is {accuracy:.0%}; the reference reaches "
                                           f"{float(np.mean(expected['predict'] == inputs['y_test'])):.0%} "
                                           f"and at least {inputs['min_accuracy']:.0%} is expected")


# --- cases --------------------------------------------------------------------------------

def _blobs(rng: np.random.Generator, prototypes: np.ndarray, n: int, noise: float,
           images: bool) -> tuple[np.ndarray, np.ndarray]:
    c = len(prototypes)
    y = rng.permutation(np.arange(n) % c)
    X = prototypes[y] + noise * rng.standard_normal((n, *prototypes.shape[1:]))
    if images:
        X = np.clip(X, 0.0, 1.0)
    return X.astype(np.float32), y.astype(np.int64)


def _case(name: str, *, seed: int, architecture: str = "simple", input_shape=None,
          num_classes: int = 3, n: int = 24, n_test: int = 30, epochs: int = 10,
          learning_rate: float = 0.05, batch_size: int = 8, config_kind: str = "dict",
          as_lists: bool = False, twice: bool = False, min_accuracy: float = 0.8,
          labels_seen: int | None = None, hidden: bool = False) -> Case:
    rng = np.random.default_rng(seed)
    images = input_shape is None
    shape = (8, 8) if images else (input_shape,)
    seen = num_classes if labels_seen is None else labels_seen
    if images:
        prototypes = (rng.random((seen, *shape)) > 0.6).astype(np.float32)
        noise = 0.15
    else:
        prototypes = 3.0 * rng.standard_normal((seen, *shape))
        noise = 0.3
    X, y = _blobs(rng, prototypes, n, noise, images)
    X_test, y_test = _blobs(rng, prototypes, n_test, noise, images)
    config = {"epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size,
              "seed": int(rng.integers(0, 100))}
    return Case(name, {"architecture": architecture, "input_shape": input_shape,
                       "num_classes": num_classes, "X": X, "y": y, "X_test": X_test,
                       "y_test": y_test, "config": config, "config_kind": config_kind,
                       "as_lists": as_lists, "twice": twice, "min_accuracy": min_accuracy},
                hidden)


PUBLIC_CASES = (
    _case("images, 3 classes, a TrainingConfig; the same seed gives the same losses", seed=0,
          config_kind="TrainingConfig", twice=True),
    _case("images, 5 classes, config given as a dict", seed=1, num_classes=5, n=40, n_test=40),
    _case("vectors (input_shape=6), 2 classes, minibatches of 4", seed=2, input_shape=6,
          num_classes=2, n=16, batch_size=4, epochs=8),
    _case("X and y as nested lists", seed=3, as_lists=True, n=12, n_test=12),
    _case("4 classes but only 2 in the data: predict_proba still has 4 columns", seed=4,
          num_classes=4, labels_seen=2, n=16, epochs=8),
    _case("a single training example", seed=5, n=1, n_test=1, epochs=10, num_classes=3,
          labels_seen=1, min_accuracy=1.0),
)


EXERCISE = Exercise(
    id="02.2",
    part=2,
    title="Build Part 2: FeatureExtractor",
    name="FeatureExtractor",
    points=10.0,
    description=(
        "class FeatureExtractor(base, num_classes): freeze every block of base at "
        "construction; train(X, y, config) computes the base's features of X once, trains a "
        "new head (tlkit.parts.new_head, tlkit.nn losses and optimizer, seeded minibatches) "
        "and returns a tlkit.TrainingHistory (loss and accuracy per epoch, train_time > 0); "
        "predict(x) (an int for one sample, (N,) ints for a batch) and predict_proba(x) "
        "(rows sum to 1). config is a TrainingConfig or a dict; the base's weights never "
        "change."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "Freeze the base in __init__ (`base.freeze()`), build the head with "
        "`new_head(base.get_feature_size(), num_classes)`, and in train compute "
        "`features = self.base.extract_features(X)` once, before the epoch loop.",
        "dict_config": "config may be a plain dict: start train with `if isinstance(config, "
        "dict): config = TrainingConfig(**config)`.",
        "base_not_frozen": "Freeze every block of the base in __init__: `base.freeze()`.",
        "history_type": "Return a tlkit.TrainingHistory: `TrainingHistory(loss=losses, "
        "accuracy=accuracies, train_time=seconds)` (from tlkit import TrainingHistory).",
        "history_values": "history.loss and history.accuracy are lists of floats, one per epoch.",
        "history_length": "Append one loss and one accuracy per epoch (the epoch's mean over "
        "its minibatches), not one per minibatch.",
        "accuracy_range": "Accuracy is a fraction between 0 and 1 (correct / total), not a "
        "percentage.",
        "train_time": "Measure the wall time of train with `time.perf_counter()` (end minus "
        "start) and store it in the history's train_time.",
        "base_changed": "Only the head learns: keep every base block frozen, and give the "
        "optimizer the head's parameters only.",
        "features_recomputed": "The base is frozen, so its features of X never change: compute "
        "`features = self.base.extract_features(X)` once, before the epoch loop, and train "
        "(and measure the accuracy) on those features.",
        "features_missing": "The head learns from the base's features: "
        "`self.base.extract_features(X)`.",
        "proba_type": "predict_proba returns a float array: the softmax of the head's outputs "
        "(`tlkit.nn.losses.softmax`).",
        "proba_shape": "predict_proba of a batch is (N, num_classes): the head has num_classes "
        "outputs, whatever labels the training data held.",
        "proba_single": "For one sample, return a 1-D array of num_classes probabilities "
        "(row 0 of the batch result), not a (1, num_classes) array.",
        "proba_not_normalised": "Apply softmax to the head's outputs (`softmax(logits)` from "
        "tlkit.nn.losses), so that every row is a probability distribution.",
        "predict_type": "predict of a batch returns an int array of shape (N,): "
        "`np.argmax(proba, axis=1)`.",
        "predict_single": "predict of one sample returns one int: `int(np.argmax(proba))`.",
        "predict_not_argmax": "predict is the most probable class of predict_proba.",
        "not_deterministic": "Draw every random choice (the minibatch order) from "
        "`np.random.default_rng(config.seed)`, created at the start of train.",
        "not_learning": "Each minibatch: `logits = head.forward(F_batch, training=True)`, "
        "`loss, grad = softmax_cross_entropy(logits, y_batch)`, `head.backward(grad)`, "
        "`optimizer.step(head.param_groups())`, with `Adam(lr=config.learning_rate)` "
        "created once per train.",
        "not_finite": "The loss became NaN or inf: use tlkit.nn.losses.softmax_cross_entropy "
        "and the config's learning rate.",
        "exception": "Read the error message. `self.base.extract_features(X)` gives (N, F) "
        "features; the head is a Network([new_head(F, num_classes)]); config may be a dict.",
    },
    # tlkit's own classes, and its training loop (the loop over minibatches is the exercise)
    library_names=COURSE_CLASSES_LIBRARY + ("tlkit.training.Trainer",),
    fallback="tlkit.FeatureExtractor",
)
