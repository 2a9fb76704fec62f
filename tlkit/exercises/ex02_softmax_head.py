"""Exercise 02.2: train a softmax head on features computed once (course Part 2).

The student writes ``fit``, ``predict_proba`` and ``predict`` of a linear softmax head
``Z = F W + b`` on cached features ``F``. ``fit`` runs minibatch gradient descent with the
loss function the head was given (in the notebook: the student's own
``softmax_cross_entropy`` of exercise 02.1)::

    for each epoch, for each minibatch F[s:s+B], y[s:s+B] in order (no shuffling):
        loss, dZ = loss_fn(Fb @ W + b, yb)
        W -= learning_rate * Fb.T @ dZ
        b -= learning_rate * dZ.sum(axis=0)
    return one number per epoch: the mean of that epoch's minibatch losses

``predict_proba`` is the softmax of ``F W + b`` ((C,) for one feature vector, (N, C) for
a batch); ``predict`` its argmax (an int for one vector, an (N,) int array for a batch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tlkit.exercises.compare import expect_array, fmt, type_name
from tlkit.exercises.registry import Case, CheckFailure, Exercise
from tlkit.nn.losses import softmax_cross_entropy


def apply(cls: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    X = inputs["features"]
    head = cls(X.shape[-1], inputs["num_classes"], softmax_cross_entropy, seed=inputs["seed"])
    method = inputs["method"]
    if method == "fit":
        losses = head.fit(X, inputs["labels"], epochs=inputs["epochs"],
                          learning_rate=inputs["learning_rate"], batch_size=inputs["batch_size"])
        return {"losses": losses, "W": head.W, "b": head.b}
    head.W, head.b = inputs["W"], inputs["b"]
    return {"result": getattr(head, method)(X)}


def _expect_losses(got: Any, want: list[float], epochs: int) -> None:
    if got is None:
        raise CheckFailure("no_return", "fit returned None; return the list of per-epoch losses")
    if type(got) is np.ndarray and got.ndim == 1:
        got = got.tolist()
    if type(got) not in (list, tuple) or len(got) != epochs:
        raise CheckFailure("losses_shape", f"fit returned {fmt(got)}, expected a list of "
                                           f"{epochs} numbers (one per epoch)")
    values = []
    for value in got:
        if type(value) in (int, float) or (isinstance(value, np.generic)
                                           and value.dtype.kind in "iuf"):
            values.append(float(value))
        else:
            raise CheckFailure("losses_shape", f"fit returned a list holding {type_name(value)}, "
                                               f"expected numbers")
    if not np.allclose(values, want, rtol=1e-4, atol=1e-6):
        raise CheckFailure("wrong_losses", f"the per-epoch losses are {fmt(values)}, expected "
                                           f"{fmt(want)}")


def compare(case: Case, expected: dict, got: dict) -> None:
    inputs = case.inputs
    method, single = inputs["method"], inputs["features"].ndim == 1
    if method == "fit":
        expect_array(got["W"], expected["W"], "W after fit", rtol=1e-4, atol=1e-6,
                     kind="wrong_weights")
        expect_array(got["b"], expected["b"], "b after fit", rtol=1e-4, atol=1e-6,
                     kind="wrong_weights")
        _expect_losses(got["losses"], expected["losses"], inputs["epochs"])
        return
    result, want = got["result"], expected["result"]
    if method == "predict_proba":
        if type(result) is np.ndarray and result.shape == want.shape and result.dtype.kind == "f":
            sums = result.sum(axis=-1)
            if not np.allclose(sums, 1.0, atol=1e-5):
                raise CheckFailure("rows_not_one", f"the probabilities sum to {fmt(sums)}, "
                                                   f"expected 1 for every sample")
        expect_array(result, want, "predict_proba's result", rtol=1e-4, atol=1e-6,
                     check_dtype=False)
        return
    what = "predict of one feature vector" if single else "predict of a batch"
    if single:
        if type(result) is not int and not (isinstance(result, np.generic)
                                            and result.dtype.kind in "iu"):
            raise CheckFailure("no_return" if result is None else "predict_type",
                               f"{what} returned {fmt(result)} ({type_name(result)}), "
                               f"expected the int {want}")
        if int(result) != want:
            raise CheckFailure("wrong_class", f"{what} returned {int(result)}, expected {want}")
        return
    if type(result) is not np.ndarray or result.dtype.kind not in "iu":
        raise CheckFailure("no_return" if result is None else "predict_type",
                           f"{what} returned {fmt(result)} ({type_name(result)}), expected an "
                           f"int array of shape {want.shape}")
    if result.shape != want.shape:
        raise CheckFailure("wrong_shape", f"{what} has shape {result.shape}, expected "
                                          f"{want.shape}")
    if not np.array_equal(result, want):
        raise CheckFailure("wrong_class", f"{what} returned {fmt(result)}, expected {fmt(want)}")


# --- cases ------------------------------------------------------------------------------------

def _data(rng: np.random.Generator, n: int, f: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, c, size=n)
    centres = rng.normal(size=(c, f)) * 2.0
    features = np.maximum(centres[labels] + rng.normal(size=(n, f)), 0).astype(np.float32)
    return features, labels.astype(np.int64)


def _predict_case(name: str, method: str, seed: int, n: int, f: int, c: int,
                  single: bool = False, hidden: bool = False) -> Case:
    rng = np.random.default_rng(seed)
    features, _ = _data(rng, n, f, c)
    W = rng.normal(size=(f, c)).astype(np.float32)
    b = rng.normal(size=c).astype(np.float32)
    return Case(name, {"method": method, "features": features[0] if single else features,
                       "num_classes": c, "seed": 0, "W": W, "b": b}, hidden)


def _fit_case(name: str, seed: int, n: int, f: int, c: int, epochs: int, learning_rate: float,
              batch_size: int, hidden: bool = False) -> Case:
    features, labels = _data(np.random.default_rng(seed), n, f, c)
    return Case(name, {"method": "fit", "features": features, "labels": labels,
                       "num_classes": c, "seed": seed, "epochs": epochs,
                       "learning_rate": learning_rate, "batch_size": batch_size}, hidden)


PUBLIC_CASES = (
    _predict_case("predict_proba of a batch: rows sum to 1", "predict_proba", 0, 5, 4, 3),
    _predict_case("predict_proba of one feature vector", "predict_proba", 1, 3, 4, 3, single=True),
    _predict_case("predict of a batch gives int classes", "predict", 2, 6, 4, 5),
    _predict_case("predict of one feature vector gives an int", "predict", 3, 2, 4, 3,
                  single=True),
    _fit_case("fit: one epoch, one minibatch", 4, 6, 4, 3, 1, 0.1, 8),
    _fit_case("fit: 3 epochs in minibatches of 4 (the last one shorter)", 5, 10, 4, 3, 3, 0.1, 4),
    _fit_case("fit: 5 epochs, 10 classes", 6, 20, 8, 10, 5, 0.05, 8),
)


EXERCISE = Exercise(
    id="02.2",
    part=2,
    title="Train a softmax head on cached features",
    name="SoftmaxHead",
    points=10.0,
    description=(
        "class SoftmaxHead(num_features, num_classes, loss_fn, seed): write fit(features, "
        "labels, epochs, learning_rate, batch_size) (minibatch gradient descent in order, "
        "returns the mean minibatch loss of every epoch), predict_proba(features) and "
        "predict(features) (an int for one vector, an int array for a batch)."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "fit: for every epoch, for start in range(0, N, batch_size): loss, dZ = "
        "self.loss_fn(Fb @ self.W + self.b, yb); W -= lr * Fb.T @ dZ; b -= lr * dZ.sum(axis=0).",
        "wrong_weights": "One update per minibatch, in order: `W -= learning_rate * Fb.T @ dZ` "
        "and `b -= learning_rate * dZ.sum(axis=0)`, where dZ is the gradient loss_fn returns "
        "(already divided by the batch size).",
        "wrong_losses": "Return one number per epoch: the mean of that epoch's minibatch losses "
        "(`float(np.mean(batch_losses))`).",
        "losses_shape": "fit returns a list with one float per epoch.",
        "rows_not_one": "Divide each row of exp(logits) by its own sum "
        "(`sum(axis=-1, keepdims=True)`), so that every row sums to 1.",
        "wrong_value": "predict_proba is the softmax of `features @ self.W + self.b`, along the "
        "last axis (subtract the row maximum before np.exp).",
        "predict_type": "predict returns an int for one feature vector (`int(np.argmax(p))`) "
        "and an int array for a batch (`np.argmax(p, axis=1)`).",
        "wrong_class": "predict is the class with the highest probability: "
        "`np.argmax(..., axis=-1)`.",
        "wrong_shape": "predict_proba keeps the input's batch shape: (C,) for one vector, "
        "(N, C) for a batch; use axis=-1 so both work.",
        "wrong_dtype": "Keep W and b float32: update them in place with `-=`.",
        "exception": "Read the error message; features is (N, F) or one vector (F,), W is "
        "(F, C), b is (C,).",
    },
    library_names=(
        "tlkit.strategies.FeatureExtractor",
        "tlkit.strategies.strategy.StrategyBase",
        "tlkit.training.Trainer",
        "tlkit.nn.losses",
    ),
)
