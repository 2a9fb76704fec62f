"""A catalogue of bad and edge inputs thrown at tlkit's public API, each result classified.

Run it against whichever ``tlkit`` is first on the path::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python tests/properties/input_catalogue.py [--json OUT] [-v]

Every case states what an acceptable answer is, decided from the input alone (not from
what the code does today):

* **clear error**: a ``ValueError``/``TypeError`` (or, for divergence cases, the
  ``TrainingDivergedError``) whose message names the argument (and, where the case asks
  for it, the reason, e.g. "float32");
* **sensible result**: the call returned and the result passes the case's own check
  (finite, well shaped, the warning the contract asks for, the state left untouched);
* **silently wrong**: the call returned something that fails the check, or it failed
  after changing state it should not have changed (a half-applied ``load_state_dict``);
* **unclear**: any other exception, or an error that does not name the argument;
* **unbounded**: still running after ``--timeout`` seconds (memory is capped at 6 GB, so
  an absurd allocation fails instead of swapping).

A case with no result check must raise (the input is invalid); a case with a check may
either return a sensible result or raise a clear error. ``test_input_catalogue.py`` runs every
case and demands a clear error or a sensible result.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

OUTCOMES = ("clear error", "sensible result", "silently wrong", "unclear", "unbounded")


class Timeout(BaseException):  # BaseException: library code catching Exception cannot swallow it
    pass


@dataclass
class Case:
    group: str
    name: str
    call: Callable[[], Any]
    names: tuple[str, ...] = ()          # an error must mention one of these (the argument)
    ok: Callable[[Any], bool] | None = None   # None: the input is invalid, the call must raise
    post: Callable[[], str | None] | None = None  # checked after the call either way
    warns: tuple[str, ...] = ()          # a returned result needs a warning mentioning all of these
    reason: tuple[str, ...] = ()         # an error must also mention one of these
    errors: tuple[type, ...] = (ValueError, TypeError)


# -- helpers ---------------------------------------------------------------------------------

def blobs(n=30, d=6, k=3, seed=0):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared blobs
    from blob_data import make_blobs

    return make_blobs(n=n, d=d, k=k, seed=seed)


def finite_shape(shape):
    def check(r):
        r = np.asarray(r)
        return r.shape == tuple(shape) and np.issubdtype(r.dtype, np.number) and bool(np.all(np.isfinite(r)))
    return check


def proba_ok(n, k):
    def check(r):
        r = np.asarray(r, dtype=np.float64)
        shape = (k,) if n is None else (n, k)
        return (r.shape == shape and bool(np.all(np.isfinite(r))) and bool(np.all(r >= 0))
                and np.allclose(r.sum(axis=-1), 1, atol=1e-4))
    return check


def labels_ok(n, k):
    def check(r):
        r = np.asarray(r)
        return r.shape == (n,) and np.issubdtype(r.dtype, np.integer) and bool(np.all((r >= 0) & (r < k)))
    return check


def history_ok(epochs=None):
    def check(h):
        return (hasattr(h, "loss") and len(h.loss) >= 1 and (epochs is None or len(h.loss) == epochs)
                and all(np.isfinite(h.loss)) and h.train_time > 0)
    return check


def predict_both(strategy, x):
    return strategy.predict(x), strategy.predict_proba(x)


def consistent(n, k):
    """predict gives labels in range, predict_proba sensible rows, and they agree."""
    def check(pair):
        labels, proba = pair
        return (labels_ok(n, k)(labels) and proba_ok(n, k)(proba)
                and np.array_equal(np.asarray(labels), np.argmax(proba, axis=1)))
    return check


def run_case(case: Case, timeout: float) -> tuple[str, str]:
    """Classify one case: (outcome, detail)."""
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Timeout()))
    result, error = None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        signal.alarm(int(timeout))
        try:
            with np.errstate(all="ignore"):
                result = case.call()
        except Timeout:
            return "unbounded", f"still running after {timeout:g} s"
        except Exception as exc:  # noqa: BLE001 - classifying every failure is the point
            error = exc
        finally:
            signal.alarm(0)
    problem = None
    if case.post is not None:
        try:
            problem = case.post()
        except Exception as exc:  # noqa: BLE001
            problem = f"post-check failed: {type(exc).__name__}: {exc}"
    texts = [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]
    if problem:
        return "silently wrong", problem + (f" (raised {type(error).__name__}: {error})" if error else "")
    if error is not None:
        message = f"{type(error).__name__}: {error}"
        lowered = str(error).lower()
        named = not case.names or any(n.lower() in lowered for n in case.names)
        reasoned = not case.reason or any(r.lower() in lowered for r in case.reason)
        if isinstance(error, case.errors) and named and reasoned:
            return "clear error", message[:160]
        return "unclear", message[:160]
    if case.ok is None:
        return "silently wrong", f"returned {short(result)} for an invalid input" + warn_note(texts)
    try:
        good = bool(case.ok(result))
    except Exception as exc:  # noqa: BLE001
        good, texts = False, texts + [f"check raised {type(exc).__name__}: {exc}"]
    if good and case.warns:
        good = any(all(t.lower() in w.lower() for t in case.warns) for w in texts)
        if not good:
            return "silently wrong", f"no warning mentioning {case.warns}" + warn_note(texts)
    if good:
        return "sensible result", short(result) + warn_note(texts)
    return "silently wrong", short(result) + warn_note(texts)


def short(value) -> str:
    if isinstance(value, np.ndarray):
        finite = bool(np.all(np.isfinite(value))) if np.issubdtype(value.dtype, np.number) else "-"
        return f"array{value.shape} {value.dtype} finite={finite}"
    return repr(value)[:100]


def warn_note(texts) -> str:
    return f" [warning: {texts[0][:100]}]" if texts else ""


# -- the catalogue -----------------------------------------------------------------------------

def catalogue() -> list[Case]:  # noqa: PLR0915 - one flat list reads best
    from tlkit import (
        FeatureExtractor,
        FineTuner,
        FineTuningConfig,
        PretrainedModel,
        TrainingConfig,
        TransferLearningManager,
    )
    from tlkit.strategies import FromScratch

    M = TransferLearningManager
    vec = PretrainedModel("simple", 6)
    img = PretrainedModel("simple")
    F_vec, F_img = vec.get_feature_size(), img.get_feature_size()
    X, y = blobs()
    Ximg = np.random.default_rng(0).random((12, 8, 8)).astype(np.float32)
    cases: list[Case] = []

    def add(group, name, call, **kw):
        cases.append(Case(group, name, call, **kw))

    def m():
        return vec.copy()

    def fe(k=3, train=True, base=None):
        s = FeatureExtractor(base or m(), k)
        if train:
            s.train(X, y % k, {"epochs": 2})
        return s

    def ft(layers=("layer2",), base=None):
        return FineTuner(base or m(), 3, list(layers))

    cfg2 = {"epochs": 2}
    trained = fe()

    # ---- arrays --------------------------------------------------------------------------
    A = "arrays"
    add(A, "extract_features NaN", lambda: m().extract_features(np.full((3, 6), np.nan)), names=("x",))
    add(A, "extract_features inf", lambda: m().extract_features(np.full((3, 6), np.inf)), names=("x",))
    add(A, "extract_features 3e37 (finite float32)", lambda: m().extract_features(np.full((3, 6), 3e37, np.float32)),
        names=("x",), ok=finite_shape((3, F_vec)), reason=("float32", "overflow", "large", "scale"))
    add(A, "predict_proba 3e37", lambda: trained.predict_proba(np.full((3, 6), 3e37, np.float32)),
        names=("x",), ok=proba_ok(3, 3), reason=("float32", "overflow", "large", "scale"))
    add(A, "predict -3e37", lambda: predict_both(trained, np.full((3, 6), -3e37, np.float32)),
        names=("x",), ok=consistent(3, 3), reason=("float32", "overflow", "large", "scale"))
    img_fe = FeatureExtractor(img.copy(), 3)
    img_fe.train(Ximg, np.arange(12) % 3, {"epochs": 2})
    for scale in (2.3e37, 1e38):
        add(A, f"image predict/predict_proba x {scale:g}", lambda s=scale: predict_both(img_fe, Ximg * s),
            names=("x",), ok=consistent(12, 3), reason=("float32", "overflow", "large", "scale"))
    add(A, "predict_proba 1e30", lambda: trained.predict_proba(np.full((2, 6), 1e30, np.float32)),
        names=("x",), ok=proba_ok(2, 3), reason=("float32", "overflow", "large", "scale"))
    add(A, "extract_features 1e39 float64", lambda: m().extract_features(np.full((2, 6), 1e39)),
        names=("x",), reason=("float32", "overflow", "large", "range"))
    add(A, "extract_features 1e300 float64", lambda: m().extract_features(np.full((2, 6), 1e300)),
        names=("x",), reason=("float32", "overflow", "large", "range"))
    add(A, "extract_features complex", lambda: m().extract_features(X[:3] + 1j), names=("x",), reason=("complex",))
    add(A, "predict_proba complex", lambda: trained.predict_proba(X[:3].astype(np.complex64)), names=("x",))
    add(A, "train complex X", lambda: fe(train=False).train(X + 0j, y, cfg2), names=("x",))
    add(A, "extract_features strings", lambda: m().extract_features([["a"] * 6]), names=("x",))
    add(A, "extract_features None entries", lambda: m().extract_features([[None] * 6]), names=("x",))
    add(A, "extract_features ragged", lambda: m().extract_features([[1, 2, 3, 4, 5, 6], [1, 2]]), names=("x",))
    add(A, "extract_features None", lambda: m().extract_features(None), names=("x",))
    add(A, "extract_features string", lambda: m().extract_features("abc"), names=("x",))
    add(A, "extract_features generator", lambda: m().extract_features(r for r in X[:3]), names=("x",))
    add(A, "extract_features dict", lambda: m().extract_features({"a": 1}), names=("x",))
    add(A, "extract_features empty (0, 6)", lambda: m().extract_features(np.zeros((0, 6))),
        names=("x",), ok=finite_shape((0, F_vec)))
    add(A, "extract_features wrong width", lambda: m().extract_features(np.zeros((5, 7))), names=("x",))
    add(A, "extract_features 3-D for vectors", lambda: m().extract_features(np.zeros((2, 3, 6))), names=("x",))
    add(A, "extract_features bool", lambda: m().extract_features(np.ones((2, 6), bool)), names=("x",),
        ok=finite_shape((2, F_vec)))
    add(A, "extract_features int64", lambda: m().extract_features(np.ones((2, 6), np.int64)),
        ok=finite_shape((2, F_vec)))
    add(A, "extract_features nested list one sample", lambda: m().extract_features([1, 2, 3, 4, 5, 6]),
        ok=finite_shape((F_vec,)))
    add(A, "extract_features subnormal", lambda: m().extract_features(np.full((2, 6), 1e-40, np.float32)),
        ok=finite_shape((2, F_vec)))
    add(A, "extract_features image (8, 8)", lambda: img.extract_features(Ximg[0]), ok=finite_shape((F_img,)))
    add(A, "extract_features images (N, 8, 8, 1)", lambda: img.extract_features(Ximg[..., None]),
        names=("x",), ok=finite_shape((12, F_img)))
    add(A, "extract_features batch_size=-1", lambda: m().extract_features(X[:10], batch_size=-1), names=("batch_size",))
    add(A, "extract_features batch_size=-3", lambda: m().extract_features(X[:10], batch_size=-3), names=("batch_size",))
    add(A, "extract_features batch_size=0", lambda: m().extract_features(X[:10], batch_size=0), names=("batch_size",))
    add(A, "extract_features batch_size=2.5", lambda: m().extract_features(X[:10], batch_size=2.5),
        names=("batch_size",))
    add(A, "extract_features batch_size=1", lambda: m().extract_features(X[:10], batch_size=1),
        ok=finite_shape((10, F_vec)))
    add(A, "extract_features batch_size=10**9", lambda: m().extract_features(X[:10], batch_size=10**9),
        ok=finite_shape((10, F_vec)))
    add(A, "predict_logits batch_size=-3", lambda: trained.predict_logits(X[:10], batch_size=-3), names=("batch_size",))
    add(A, "predict_logits batch_size=0", lambda: trained.predict_logits(X[:10], batch_size=0), names=("batch_size",))
    add(A, "extract_features layer='nope'", lambda: m().extract_features(X[:2], layer="nope"), names=("layer",))
    add(A, "extract_features layer=3", lambda: m().extract_features(X[:2], layer=3), names=("layer",))
    add(A, "train X NaN", lambda: fe(train=False).train(np.where(X > 1, np.nan, X), y, cfg2), names=("x",))
    add(A, "train X None", lambda: fe(train=False).train(None, y, cfg2), names=("x",))
    add(A, "validation_data wrong width",
        lambda: fe(train=False).train(X, y, cfg2, validation_data=(np.zeros((3, 7)), [0, 1, 2])), names=("x_val",))
    add(A, "validation_data a single array", lambda: fe(train=False).train(X, y, cfg2, validation_data=X),
        names=("validation_data",))
    add(A, "validation_data (X,)", lambda: fe(train=False).train(X, y, cfg2, validation_data=(X,)),
        names=("validation_data",))

    # ---- labels --------------------------------------------------------------------------
    L = "labels"
    add(L, "y integral floats", lambda: fe(train=False).train(X, y.astype(float), cfg2), ok=history_ok(2))
    add(L, "y 0.5", lambda: fe(train=False).train(X, np.where(y == 0, 0.5, y), cfg2), names=("y",))
    add(L, "y negative", lambda: fe(train=False).train(X, y - 1, cfg2), names=("y",))
    add(L, "y == num_classes", lambda: fe(train=False).train(X, y + 1, cfg2), names=("y",))
    add(L, "y 10**9", lambda: fe(train=False).train(X, np.where(y == 0, 10**9, y), cfg2), names=("y",))
    add(L, "y 1e20", lambda: fe(train=False).train(X, np.where(y == 0, 1e20, y), cfg2), names=("y",),
        reason=("1e+20", "100000000000000000000"))
    add(L, "y complex", lambda: fe(train=False).train(X, y + 0j, cfg2), names=("y",))
    add(L, "y complex with imaginary part", lambda: fe(train=False).train(X, y + 1j, cfg2), names=("y",))
    add(L, "y strings", lambda: fe(train=False).train(X, y.astype(str), cfg2), names=("y",))
    add(L, "y bool (2 classes)", lambda: fe(k=2, train=False).train(X, y % 2 == 0, cfg2), ok=history_ok(2))
    add(L, "y column (N, 1)", lambda: fe(train=False).train(X, y[:, None], cfg2), names=("y",), ok=history_ok(2))
    add(L, "y one-hot (N, 3)", lambda: fe(train=False).train(X, np.eye(3)[y], cfg2), names=("y",))
    add(L, "y too short", lambda: fe(train=False).train(X, y[:-1], cfg2), names=("y",))
    add(L, "y NaN", lambda: fe(train=False).train(X, np.where(y == 0, np.nan, y), cfg2), names=("y",))
    add(L, "y None", lambda: fe(train=False).train(X, None, cfg2), names=("y",))
    add(L, "score y out of range", lambda: trained.score(X, y + 5), names=("y",))
    add(L, "num_classes=10**12", lambda: FeatureExtractor(m(), 10**12), names=("num_classes",))
    add(L, "num_classes=10**6", lambda: FeatureExtractor(m(), 10**6), names=("num_classes",),
        ok=lambda s: s.num_classes == 10**6)
    add(L, "num_classes=1", lambda: FeatureExtractor(m(), 1), names=("num_classes",))
    add(L, "num_classes=2.5", lambda: FeatureExtractor(m(), 2.5), names=("num_classes",))
    add(L, "num_classes='3'", lambda: FeatureExtractor(m(), "3"), names=("num_classes",))
    add(L, "num_classes=True", lambda: FeatureExtractor(m(), True), names=("num_classes",))
    add(L, "num_classes=np.int64(3)", lambda: FeatureExtractor(m(), np.int64(3)), ok=lambda s: s.num_classes == 3)
    add(L, "compare_strategies y 10**9", lambda: M.compare_strategies(
        {"X": X, "y": np.where(y == 0, 10**9, y)}, architecture="simple", epochs=1), names=("y",))
    add(L, "compare_strategies y 1e20", lambda: M.compare_strategies(
        {"X": X, "y": np.where(y == 0, 1e20, y)}, architecture="simple", epochs=1), names=("y",),
        reason=("1e+20", "100000000000000000000"))
    add(L, "compare_strategies y negative", lambda: M.compare_strategies(
        {"X": X, "y": y - 1}, architecture="simple", epochs=1), names=("y",))
    add(L, "compare_strategies one class", lambda: M.compare_strategies(
        {"X": X, "y": np.zeros(len(X), int)}, architecture="simple", epochs=1),
        ok=lambda c: all(0 <= r.accuracy <= 1 for r in (c.feature_extraction, c.fine_tuning, c.from_scratch)),
        warns=("will score 1.0",))
    add(L, "compare_strategies complex y", lambda: M.compare_strategies(
        {"X": X, "y": y + 1j}, architecture="simple", epochs=1), names=("y",))
    add(L, "estimate_transferability y 10**9",
        lambda: M.estimate_transferability(m(), X, np.where(y == 0, 10**9, y)), names=("y",),
        ok=lambda r: np.isfinite(r))

    # ---- configs --------------------------------------------------------------------------
    C = "configs"

    def mutated(attr, value, cls=TrainingConfig, strategy=None):
        def call():
            cfg = cls(epochs=2)
            setattr(cfg, attr, value)
            return (strategy or (lambda: fe(train=False)))().train(X, y, cfg)
        return call

    add(C, "epochs=0", lambda: TrainingConfig(epochs=0), names=("epochs",))
    add(C, "epochs=True", lambda: TrainingConfig(epochs=True), names=("epochs",))
    add(C, "mutated epochs=0", mutated("epochs", 0), names=("epochs",))
    add(C, "mutated epochs=-5", mutated("epochs", -5), names=("epochs",))
    add(C, "mutated optimizer='rmsprop'", mutated("optimizer", "rmsprop"), names=("optimizer",))
    add(C, "mutated batch_size=0", mutated("batch_size", 0), names=("batch_size",))
    add(C, "mutated learning_rate=-1", mutated("learning_rate", -1.0), names=("learning_rate",))
    add(C, "mutated learning_rate=NaN", mutated("learning_rate", float("nan")), names=("learning_rate",))
    add(C, "mutated schedule='wavy'", mutated("schedule", "wavy"), names=("schedule",))
    add(C, "mutated warmup_epochs=100", mutated("warmup_epochs", 100, FineTuningConfig, lambda: ft()),
        names=("warmup_epochs",))
    add(C, "mutated callbacks=None", mutated("callbacks", None), names=("callbacks",), ok=history_ok(2))
    add(C, "learning_rate=Fraction(1, 100)",
        lambda: fe(train=False).train(X, y, {"epochs": 2, "learning_rate": Fraction(1, 100)}), names=("learning_rate",),
        ok=history_ok(2))
    add(C, "learning_rate='0.01'", lambda: TrainingConfig(learning_rate="0.01"), names=("learning_rate",))
    add(C, "momentum='0.9'", lambda: TrainingConfig(momentum="0.9"), names=("momentum",))
    add(C, "momentum=NaN", lambda: TrainingConfig(momentum=float("nan")), names=("momentum",))
    add(C, "callbacks=None", lambda: fe(train=False).train(X, y, {"epochs": 2, "callbacks": None}),
        names=("callbacks",), ok=history_ok(2))
    add(C, "callbacks=[5]", lambda: fe(train=False).train(X, y, {"epochs": 2, "callbacks": [5]}), names=("callbacks",))
    add(C, "lr_range=(1e-3,)", lambda: FineTuningConfig(lr_range=(1e-3,)), names=("lr_range",))
    add(C, "lr_range=(1e-2, 1e-3)", lambda: FineTuningConfig(lr_range=(1e-2, 1e-3)), names=("lr_range",))
    add(C, "lr_range='fast'", lambda: FineTuningConfig(lr_range="fast"), names=("lr_range",))
    add(C, "batch_size=2.5", lambda: TrainingConfig(batch_size=2.5), names=("batch_size",))
    add(C, "dict epochs=10**9", lambda: fe(train=False).train(X, y, {"epochs": 10**9}), names=("epochs",),
        ok=history_ok(10**9))
    add(C, "dict epochs=10**6 on one sample", lambda: fe(train=False).train(X[:1], y[:1], {"epochs": 10**6}),
        names=("epochs",), ok=history_ok(10**6))
    add(C, "dict unknown key", lambda: fe(train=False).train(X, y, {"epoch": 2}), names=("epoch",))
    add(C, "dict epochs='10'", lambda: fe(train=False).train(X, y, {"epochs": "10"}), names=("epochs",))
    add(C, "dict non-string key", lambda: fe(train=False).train(X, y, {1: 2}), names=("config", "key"))
    add(C, "config=5", lambda: fe(train=False).train(X, y, 5), names=("config",))
    add(C, "config='fast'", lambda: fe(train=False).train(X, y, "fast"), names=("config",))
    add(C, "warmup_epochs=-1", lambda: FineTuningConfig(warmup_epochs=-1), names=("warmup_epochs",))
    add(C, "warmup_epochs > epochs", lambda: FineTuningConfig(epochs=3, warmup_epochs=4), names=("warmup_epochs",))
    add(C, "seed=-1", lambda: TrainingConfig(seed=-1), names=("seed",))
    add(C, "seed=1.5", lambda: TrainingConfig(seed=1.5), names=("seed",))
    add(C, "verbose='yes'", lambda: TrainingConfig(verbose="yes"), names=("verbose",),
        ok=lambda c: c.verbose in (True, "yes"))
    add(C, "weight_decay=-1", lambda: TrainingConfig(weight_decay=-1), names=("weight_decay",))
    add(C, "weight_decay=NaN", lambda: TrainingConfig(weight_decay=float("nan")), names=("weight_decay",))
    add(C, "weight_decay='0'", lambda: TrainingConfig(weight_decay="0"), names=("weight_decay",))
    add(C, "early_stopping_patience=0", lambda: TrainingConfig(early_stopping_patience=0),
        names=("early_stopping_patience",))
    add(C, "augment='flip'", lambda: TrainingConfig(augment="flip"), names=("augment",))
    add(C, "discriminative='bogus' (dict)", lambda: ft().train(X, y, {"epochs": 2, "discriminative": "bogus"}),
        names=("discriminative",))
    add(C, "gradual_unfreeze_every=0", lambda: FineTuningConfig(gradual_unfreeze_every=0),
        names=("gradual_unfreeze_every",))
    add(C, "batch_size > N", lambda: fe(train=False).train(X, y, {"epochs": 2, "batch_size": 1000}), ok=history_ok(2))
    add(C, "TrainingConfig to FineTuner", lambda: ft().train(X, y, TrainingConfig(epochs=2)), ok=history_ok(2))
    add(C, "FineTuningConfig dict warmup None", lambda: ft().train(X, y, {"epochs": 2, "warmup_epochs": None}),
        ok=history_ok(2))
    add(C, "FineTuningConfig fields to FeatureExtractor",
        lambda: fe(train=False).train(X, y, {"epochs": 2, "warmup_epochs": 1}), names=("warmup_epochs",),
        ok=history_ok(2))

    # ---- layer names ----------------------------------------------------------------------
    N = "layer names"

    def frozen_after(action, arg, expected):
        def call():
            model = m()
            model.unfreeze()
            getattr(model, action)(arg)
            return model.frozen_layers() if hasattr(model, "frozen_layers") else None
        return call, (lambda r: r == expected)

    call, check = frozen_after("freeze", "nope", [])
    add(N, "freeze('nope')", call, ok=check, warns=("nope", "layer1"))
    call, check = frozen_after("freeze", ["layer1", "nope"], [])
    add(N, "freeze(['layer1', 'nope'])", call, ok=check, warns=("nope", "layer1"))
    add(N, "unfreeze('nope')", lambda: m().unfreeze("nope"), ok=lambda r: True, warns=("nope", "layer1"))
    add(N, "freeze(123)", lambda: m().freeze(123), names=("layer_names",))
    add(N, "freeze(['layer1', 5])", lambda: m().freeze(["layer1", 5]), names=("layer_names",))
    call, check = frozen_after("freeze", None, ["layer1", "layer2"])
    add(N, "freeze(None)", call, ok=check)
    call, check = frozen_after("freeze", [], [])
    add(N, "freeze([])", call, ok=check)
    call, check = frozen_after("freeze", "layer1", ["layer1"])
    add(N, "freeze('layer1')", call, ok=check)
    call, check = frozen_after("freeze", ("layer2",), ["layer2"])
    add(N, "freeze(('layer2',))", call, ok=check)
    add(N, "is_frozen(None)", lambda: m().is_frozen(None), names=("name",))
    add(N, "is_frozen(['layer1'])", lambda: m().is_frozen(["layer1"]), names=("name",))
    add(N, "is_frozen(5)", lambda: m().is_frozen(5), names=("name",))
    add(N, "is_frozen('nope')", lambda: m().is_frozen("nope"), ok=lambda r: r is False)
    add(N, "set_layer_learning_rate('nope')", lambda: ft().set_layer_learning_rate("nope", 0.1), names=("name",))
    add(N, "set_layer_learning_rate(None)", lambda: ft().set_layer_learning_rate(None, 0.1), names=("name",))
    add(N, "set_layer_learning_rate lr=-1", lambda: ft().set_layer_learning_rate("layer1", -1), names=("lr",))
    add(N, "set_layer_learning_rate lr=NaN", lambda: ft().set_layer_learning_rate("layer1", float("nan")),
        names=("lr",))
    add(N, "set_layer_learning_rate frozen layer", lambda: ft().set_layer_learning_rate("layer1", 1e-3),
        ok=lambda r: r is None)
    add(N, "FineTuner layers_to_unfreeze=['nope']", lambda: ft(layers=["nope"]), names=("layers_to_unfreeze",),
        ok=lambda s: s.unfrozen_layers() == [], warns=("nope", "layer1"))
    add(N, "FineTuner layers_to_unfreeze=5", lambda: FineTuner(m(), 3, 5), names=("layers_to_unfreeze",))
    add(N, "FineTuner.unfreeze('nope')", lambda: ft().unfreeze("nope"), names=("nope",),
        ok=lambda r: True, warns=("nope", "layer1"))

    # ---- state dicts -----------------------------------------------------------------------
    S = "state dicts"

    def load(mutate, strict=None):
        model = m()
        before = model.state_dict()
        state = model.state_dict()
        mutate(state)
        holder = {}

        def call():
            if strict is None:
                model.load_state_dict(state)
            else:
                model.load_state_dict(state, strict=strict)
            return model.extract_features(X[:3])

        def post():
            after = model.state_dict()
            holder["changed"] = [k for k in before if k in after and not np.array_equal(before[k], after[k])]
            return None

        return call, post, holder, model, before

    def atomic_case(name, mutate, names, ok=None, strict=None, reason=()):
        call, _, _, model, before = load(mutate, strict)

        def post():
            after = model.state_dict()
            changed = [k for k in before if not np.array_equal(before[k], after[k], equal_nan=True)]
            features = model.extract_features(X[:3])
            if ok is None and changed:
                return f"raised or returned, but {len(changed)} of {len(before)} entries changed"
            if not np.all(np.isfinite(features)):
                return "features are no longer finite"
            return None
        add(S, name, call, names=names, ok=ok, post=post, reason=reason)

    first = "layer1.dense.W"
    last = "layer2.bn.running_var"
    atomic_case("one wrong shape (last key)", lambda s: s.__setitem__(last, np.ones(3, np.float32)), (last,))
    atomic_case("NaN entry", lambda s: s[first].__setitem__((0, 0), np.nan), (first,))
    atomic_case("inf entry", lambda s: s[last].__setitem__(0, np.inf), (last,))
    atomic_case("None entry", lambda s: s.__setitem__(last, None), (last,))
    atomic_case("negative running_var", lambda s: s[last].__setitem__(0, -1.0), (last, "running_var"))
    atomic_case("missing key", lambda s: s.pop(last), (last, "missing"))
    atomic_case("unexpected key", lambda s: s.__setitem__("layer9.dense.W", np.ones(2, np.float32)),
                ("layer9", "unexpected"))
    atomic_case("complex entry", lambda s: s.__setitem__(first, s[first] + 1j), (first,))
    atomic_case("string entry", lambda s: s.__setitem__(first, s[first].astype(str)), (first,))
    atomic_case("1e39 in float64 (overflows float32)", lambda s: s.__setitem__(first, np.full(s[first].shape, 1e39)),
                (first,))
    atomic_case("scalar entry", lambda s: s.__setitem__(first, 0.5), (first,))
    atomic_case("int64 entry (exact values)", lambda s: s.__setitem__(last, np.ones(s[last].shape, np.int64)),
                (last,), ok=finite_shape((3, F_vec)))
    atomic_case("float64 entry", lambda s: s.__setitem__(first, s[first].astype(np.float64)), (first,),
                ok=finite_shape((3, F_vec)))
    atomic_case("nested-list entry", lambda s: s.__setitem__(first, s[first].tolist()), (first,),
                ok=finite_shape((3, F_vec)))
    atomic_case("own state round trip", lambda s: None, (), ok=finite_shape((3, F_vec)))
    atomic_case("subset, strict=False", lambda s: [s.pop(k) for k in list(s)[1:]], ("strict",),
                ok=finite_shape((3, F_vec)), strict=False)

    def medium_into_simple():
        model = m()
        model.load_state_dict(PretrainedModel("medium", 6).state_dict())

    add(S, "medium state into simple", medium_into_simple, names=("state", "missing", "unexpected"))
    add(S, "state_dict is a list", lambda: m().load_state_dict([1, 2]), names=("state",))
    add(S, "state_dict None", lambda: m().load_state_dict(None), names=("state",))

    # ---- base sharing ----------------------------------------------------------------------
    B = "base sharing"

    def shared(second):
        def call():
            base = m()
            first_strategy = fe(base=base)
            before = first_strategy.predict_proba(X)
            second(base)
            moved = float(np.abs(first_strategy.predict_proba(X) - before).max())
            return moved
        return call

    add(B, "FineTuner trains the base of a trained FeatureExtractor",
        shared(lambda base: ft(base=base).train(X, y, cfg2)),
        ok=lambda moved: True, warns=("featureextractor", "copy"))
    add(B, "FineTuner on base.copy()", shared(lambda base: ft(base=base.copy()).train(X, y, cfg2)),
        ok=lambda moved: moved == 0.0)
    add(B, "second FeatureExtractor on the same base", shared(lambda base: fe(base=base)),
        ok=lambda moved: moved == 0.0)
    add(B, "FeatureExtractor(base='medium')", lambda: FeatureExtractor("medium", 3), names=("base",))
    add(B, "FineTuner(base=None)", lambda: FineTuner(None, 3), names=("base",))
    add(B, "compare_strategies(base='medium')", lambda: M.compare_strategies((X, y), base="medium", epochs=1),
        names=("base",))

    # ---- divergence ------------------------------------------------------------------------
    D = "divergence"
    from tlkit.training import TrainingDivergedError
    div = (ValueError, TypeError, TrainingDivergedError)

    def head_lr_10():
        s = ft()
        s.set_layer_learning_rate("head", 10.0)
        return s.train(X, y, {"epochs": 3, "learning_rate": 1e-3, "optimizer": "sgd", "momentum": 0.0})

    add(D, "head's own rate 10 (config 1e-3)", head_lr_10, names=("head",), reason=("10",), errors=div,
        ok=history_ok(3))
    def head_lr_1e4():
        s = ft()
        s.set_layer_learning_rate("head", 1e4)
        return s.train(X, y, {"epochs": 3, "learning_rate": 1e-3, "optimizer": "sgd", "momentum": 0.0})

    add(D, "head's own rate 1e4 (config 1e-3)", head_lr_1e4, names=("head",), reason=("1e+04", "10000"),
        errors=div, ok=history_ok(3))
    add(D, "input scaled by 1e30", lambda: fe(train=False).train(X * 1e30, y, cfg2), names=("x",),
        reason=("scale", "large", "float32", "overflow"), errors=div, ok=history_ok(2))
    add(D, "augmenter returns NaN", lambda: fe(train=False).train(
        X, y, {"epochs": 2, "augment": lambda xb, rng: xb * np.nan}), names=("augment",), errors=div)
    add(D, "augmenter changes the shape", lambda: fe(train=False).train(
        X, y, {"epochs": 2, "augment": lambda xb, rng: xb[:, :3]}), names=("augment",), errors=div)
    add(D, "augmenter returns None", lambda: fe(train=False).train(
        X, y, {"epochs": 2, "augment": lambda xb, rng: None}), names=("augment",), errors=div)
    add(D, "learning_rate=1e6 SGD", lambda: FromScratch("simple", 3, input_shape=6).train(
        X, y, {"epochs": 3, "learning_rate": 1e6, "optimizer": "sgd"}), names=("learning_rate",),
        reason=("1e+06", "1000000"), errors=div, ok=history_ok(3))

    def every_rate_one():
        s = FineTuner(m(), 3, ["layer1", "layer2"])
        for name in s.get_layer_names():
            s.set_layer_learning_rate(name, 1e4)
        return s.train(X, y, {"epochs": 3, "learning_rate": 0.003, "optimizer": "sgd", "warmup_epochs": 0})

    add(D, "every block's rate 1e4, config 0.003", every_rate_one, names=("10000", "1e+04"),
        errors=div, ok=history_ok(3))

    # ---- dataset sizes ---------------------------------------------------------------------
    Z = "dataset sizes"
    add(Z, "FeatureExtractor on 1 sample", lambda: fe(train=False).train(X[:1], y[:1], cfg2), ok=history_ok(2))
    add(Z, "FineTuner on 1 sample", lambda: ft().train(X[:1], y[:1], cfg2), ok=history_ok(2))
    add(Z, "FromScratch on 1 sample", lambda: FromScratch("simple", 3, input_shape=6).train(X[:1], y[:1], cfg2),
        ok=history_ok(2))
    add(Z, "FromScratch batch_size=1",
        lambda: FromScratch("simple", 3, input_shape=6).train(X[:4], y[:4], {"epochs": 2, "batch_size": 1}),
        ok=history_ok(2))
    add(Z, "compare_strategies one example",
        lambda: M.compare_strategies({"X": [[1, 2, 3]], "y": [0]}, architecture="simple"),
        ok=lambda c: min(c.feature_extraction.accuracy, c.fine_tuning.accuracy, c.from_scratch.accuracy) > 0)
    add(Z, "compare_strategies two examples",
        lambda: M.compare_strategies({"X": X[:2], "y": [0, 1]}, architecture="simple"),
        ok=lambda c: 0 <= c.fine_tuning.accuracy <= 1)
    add(Z, "predict one image", lambda: FeatureExtractor(img.copy(), 3).predict(Ximg[0]),
        ok=lambda r: isinstance(r, int))
    add(Z, "predict_proba one sample", lambda: trained.predict_proba(X[0]), ok=proba_ok(None, 3))
    add(Z, "labels only 0 with num_classes=2", lambda: fe(k=2, train=False).train(X, np.zeros(len(X), int), cfg2),
        ok=history_ok(2))

    # ---- construction and manager arguments ---------------------------------------------------
    K = "construction and manager"
    add(K, "PretrainedModel('huge')", lambda: PretrainedModel("huge"), names=("architecture",))
    add(K, "PretrainedModel(None)", lambda: PretrainedModel(None), names=("architecture",))
    add(K, "PretrainedModel(['simple'])", lambda: PretrainedModel(["simple"]), names=("architecture",))
    add(K, "input_shape=0", lambda: PretrainedModel("simple", 0), names=("input_shape",))
    add(K, "input_shape=(8, 8, 3)", lambda: PretrainedModel("simple", (8, 8, 3)), names=("input_shape",))
    add(K, "input_shape=2.5", lambda: PretrainedModel("simple", 2.5), names=("input_shape",))
    add(K, "input_shape='8x8'", lambda: PretrainedModel("simple", "8x8"), names=("input_shape",))
    add(K, "seed=-1", lambda: PretrainedModel("simple", seed=-1), names=("seed",))
    add(K, "hidden_units=0", lambda: FeatureExtractor(m(), 3, hidden_units=0), names=("hidden_units",))
    add(K, "dropout=1.0", lambda: FeatureExtractor(m(), 3, dropout=1.0), names=("dropout",))
    add(K, "bn_mode='x'", lambda: FineTuner(m(), 3, bn_mode="x"), names=("bn_mode",))
    add(K, "recommend_strategy(-5, 'low')", lambda: M.recommend_strategy(-5, "low"), names=("dataset_size",))
    add(K, "recommend_strategy(1.5, 'low')", lambda: M.recommend_strategy(1.5, "low"), names=("dataset_size",))
    add(K, "recommend_strategy(True, 'low')", lambda: M.recommend_strategy(True, "low"), names=("dataset_size",))
    add(K, "recommend_strategy(nan, 'low')", lambda: M.recommend_strategy(float("nan"), "low"), names=("dataset_size",))
    add(K, "recommend_strategy(100, 'LOW')", lambda: M.recommend_strategy(100, "LOW"), names=("task_similarity",),
        ok=lambda r: r.strategy in ("feature_extraction", "fine_tuning"))
    add(K, "recommend_strategy(100, None)", lambda: M.recommend_strategy(100, None), names=("task_similarity",))
    add(K, "recommend_strategy(10**30, 'low')", lambda: M.recommend_strategy(10**30, "low"),
        ok=lambda r: r.strategy == "from_scratch")
    add(K, "compare_strategies(5)", lambda: M.compare_strategies(5), names=("dataset",))
    add(K, "compare_strategies dict without y", lambda: M.compare_strategies({"X": X}), names=("y", "dataset"))
    add(K, "compare_strategies test_fraction=1.5", lambda: M.compare_strategies((X, y), test_fraction=1.5),
        names=("test_fraction",))
    add(K, "compare_strategies epochs=10**9", lambda: M.compare_strategies((X, y), architecture="simple", epochs=10**9),
        names=("epochs",))
    add(K, "compare_strategies recipes bad", lambda: M.compare_strategies(
        (X, y), recipes={"fine_tuning": -1}), names=("recipes",))
    add(K, "compare_strategies X NaN", lambda: M.compare_strategies((X * np.nan, y)), names=("x",))

    # ---- datasets, the LR finder and other tools -------------------------------------------------
    T = "datasets and tools"
    from tlkit.datasets import Augmenter, add_noise, gaussian_blur, make_glyphs, make_transfer_task, xray_style
    from tlkit.lr_finder import lr_find

    rng = np.random.default_rng(0)
    add(T, "make_transfer_task('extreme')", lambda: make_transfer_task("extreme"), names=("similarity",))
    add(T, "make_transfer_task n_train=0", lambda: make_transfer_task("high", n_train=0), names=("n_train",))
    add(T, "make_transfer_task n_train=-5", lambda: make_transfer_task("high", n_train=-5), names=("n_train",))
    add(T, "make_transfer_task n_train=10**9", lambda: make_transfer_task("high", n_train=10**9), names=("n_train",))
    add(T, "make_transfer_task n_train=2.5", lambda: make_transfer_task("high", n_train=2.5), names=("n_train",))
    add(T, "make_transfer_task domain='mars'", lambda: make_transfer_task("medium", domain="mars"), names=("domain",))
    add(T, "make_transfer_task seed=-1", lambda: make_transfer_task("high", seed=-1), names=("seed",))
    add(T, "make_transfer_task n_train=1", lambda: make_transfer_task("high", n_train=1),
        ok=lambda t: len(t.y_train) == 1 and np.all(np.isfinite(t.X_train)))
    add(T, "make_glyphs n_classes=0", lambda: make_glyphs(n_classes=0), names=("n_classes",))
    add(T, "make_glyphs n_per_class=-1", lambda: make_glyphs(n_per_class=-1), names=("n_per_class",))
    add(T, "make_glyphs image_size=0", lambda: make_glyphs(n_classes=2, n_per_class=2, image_size=0),
        names=("image_size",))
    add(T, "xray_style rng=None", lambda: xray_style(Ximg, None), names=("rng",))
    add(T, "xray_style NaN images", lambda: xray_style(Ximg * np.nan, rng), names=("x",))
    add(T, "xray_style complex images", lambda: xray_style(Ximg + 1j, rng), names=("x",))
    add(T, "xray_style contrast=2", lambda: xray_style(Ximg, rng, contrast=2), names=("contrast",))
    add(T, "gaussian_blur sigma=-1", lambda: gaussian_blur(Ximg, -1), names=("sigma",))
    add(T, "add_noise sigma=-1", lambda: add_noise(Ximg, rng, sigma=-1), names=("sigma",))
    add(T, "Augmenter(p=2)", lambda: Augmenter(p=2), names=("p",))
    add(T, "Augmenter()(X, rng=0)", lambda: Augmenter()(Ximg, 0), names=("rng",))
    add(T, "Augmenter() on one 2-D image", lambda: Augmenter()(Ximg[0], rng), names=("x",))
    add(T, "lr_find steps=0", lambda: lr_find(fe(train=False), X, y, steps=0), names=("steps",))
    add(T, "lr_find start > end", lambda: lr_find(fe(train=False), X, y, start=1.0, end=1e-3), names=("end", "start"))
    add(T, "lr_find method='bogus'", lambda: lr_find(fe(train=False), X, y, method="bogus"), names=("method",))
    add(T, "lr_find X NaN", lambda: lr_find(fe(train=False), X * np.nan, y), names=("x",))
    add(T, "lr_find y out of range", lambda: lr_find(fe(train=False), X, y + 5), names=("y",))
    add(T, "lr_find on a model, y 10**9", lambda: lr_find(m(), X, np.where(y == 0, 10**9, y)), names=("y",))
    add(T, "estimate_transferability X NaN", lambda: M.estimate_transferability(m(), X * np.nan, y), names=("x",))
    add(T, "recommend_from_data seed=-1", lambda: M.recommend_from_data(m(), X, y, seed=-1), names=("seed",))
    add(T, "PretrainedModel.load missing file", lambda: PretrainedModel.load("/nonexistent/model.npz"),
        names=("model.npz",))
    add(T, "source_accuracy labels 10**6", lambda: img.source_accuracy(Ximg, np.full(12, 10**6)), names=("y",))
    add(T, "source_accuracy labels too few", lambda: img.source_accuracy(Ximg, [0, 1]), names=("y",))
    add(T, "FeatureExtractor.features NaN", lambda: FeatureExtractor(m(), 3).features(X * np.nan), names=("x",))
    add(T, "FineTuner.learning_rates epochs=0", lambda: ft().learning_rates({"epochs": 0}), names=("epochs",))
    return cases


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write every case's outcome to this file")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = parser.parse_args(argv)
    limit = 6 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    rows = []
    for case in catalogue():
        outcome, detail = run_case(case, args.timeout)
        rows.append({"group": case.group, "case": case.name, "outcome": outcome, "detail": detail})
        if args.verbose or outcome not in ("clear error", "sensible result"):
            print(f"{outcome:<16} {case.group:<25} {case.name:<48} {detail}", flush=True)
    groups = list(dict.fromkeys(r["group"] for r in rows))
    counts = Counter((r["group"], r["outcome"]) for r in rows)
    print()
    print(f"{'input class':<26}" + "".join(f"{o:>17}" for o in OUTCOMES) + f"{'total':>8}")
    for group in groups + ["all"]:
        cells = [sum(v for (g, o), v in counts.items() if o == outcome and group in (g, "all"))
                 for outcome in OUTCOMES]
        print(f"{group:<26}" + "".join(f"{c:>17}" for c in cells) + f"{sum(cells):>8}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
