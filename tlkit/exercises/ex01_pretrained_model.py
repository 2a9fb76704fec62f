"""Exercise 01.2 (build Part 1): the student's own ``PretrainedModel``.

The student writes the course's class on tlkit's engine: ``PretrainedModel(architecture=
"medium", input_shape=None, seed=0)`` loads the shipped pretrained blocks with
:func:`tlkit.parts.pretrained_network` and keeps them in ``self.network``; it answers
``get_layer_names``, ``get_num_layers``, ``get_feature_size`` and ``extract_features``
(one sample -> (F,), a batch -> (N, F), >= 0), and it freezes and unfreezes blocks by name
(``network[name].trainable``) with the contract's rules:

* ``freeze()`` / ``unfreeze()`` with no argument (None) act on every block; one name (a
  str) or a list of names act on those blocks only;
* an unknown name: a ``UserWarning`` naming the valid names, and nothing changes;
* ``is_frozen(name)`` is a bool; False for an unknown name;
* an unknown architecture: a ``ValueError`` naming the valid ones.

A case names the model to build and a script of calls; ``apply`` builds the student's
model, runs the script, and returns what it observed after every call: what the call
returned, the ``trainable`` flags of ``model.network``'s blocks, and the warnings issued.
Features of the shipped image checkpoints are compared with the reference's (fixed weights:
only float rounding differs, far below the tolerance); for vectors the weights come from a
pretraining run on the spot, whose last digits depend on the machine and the engine, so the
student's features are compared with tlkit's own network built in the same process.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tlkit.exercises.compare import fmt, type_name
from tlkit.exercises.registry import COURSE_CLASSES_LIBRARY, Case, CheckFailure, Exercise
from tlkit.exercises.running import describe_exception
from tlkit.nn.network import Network
from tlkit.parts import pretrained_network

ARCHITECTURES = ("simple", "medium", "deep")


# --- apply: runs in the student's process ------------------------------------------------

def _build(cls: Any, inputs: dict[str, Any]) -> Any:
    if inputs["architecture"] is None:
        return cls()
    return cls(inputs["architecture"], inputs["input_shape"], seed=inputs["seed"])


def _unknown_architecture(cls: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    try:
        _build(cls, inputs)
    except ValueError as exc:  # the point of the case (any other exception is a crash)
        return {"constructed": False, "names_valid": all(name in str(exc) for name in ARCHITECTURES)}
    return {"constructed": True, "names_valid": False}


def _flags(model: Any) -> list[bool]:
    return [bool(block.trainable) for block in model.network.blocks]


def _library_features(inputs: dict[str, Any], which: str) -> np.ndarray:
    """The features tlkit's own pretrained network gives, computed here, in the student's
    process: for vectors the weights come from a pretraining run on the spot, whose float
    rounding (and so the features' last digits) depends on the machine and the engine."""
    network = pretrained_network(inputs["architecture"], inputs["input_shape"], seed=inputs["seed"])
    features = network.infer(np.asarray(inputs["X"], dtype=np.float32))
    return features[0] if which == "one" else features


def _call(model: Any, call: list, inputs: dict[str, Any]) -> dict[str, Any]:
    method, args = call[0], call[1:]
    if method == "layers":
        return {"names": model.get_layer_names(), "num_layers": model.get_num_layers(),
                "feature_size": model.get_feature_size(),
                "network_names": [str(block.name) for block in model.network.blocks]}
    if method == "features":
        which, X = args[0], inputs["X"]
        x = X[0] if which == "one" else X.tolist() if which == "lists" else X
        step = {"features": model.extract_features(x)}
        if inputs["input_shape"] is not None:
            step["library"] = _library_features(inputs, which)
        return step
    blocks = [block.name for block in model.network.blocks]
    names = [args[0]] if args and isinstance(args[0], str) else list(args[0] or []) if args else []
    raised = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            returned = getattr(model, method)(*args)
        except NotImplementedError:
            raise
        except Exception as exc:  # on an unknown name the contract asks for no exception
            if all(name in blocks for name in names):
                raise
            returned, raised = None, describe_exception(exc)
    user = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return {
        "raised": raised,
        "returned": returned if method == "is_frozen" else None,
        "trainable": _flags(model),
        "warned": bool(user),
        "other_warnings": sorted({w.category.__name__ for w in caught
                                  if not issubclass(w.category, UserWarning)}),
        "names_in_warning": bool(user) and all(
            name in " ".join(user) for name in blocks),
    }


def apply(cls: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    if inputs["architecture"] not in (None, *ARCHITECTURES):
        return {"unknown_architecture": _unknown_architecture(cls, inputs)}
    model = _build(cls, inputs)
    network = getattr(model, "network", None)
    if not isinstance(network, Network):
        return {"network": type_name(network)}
    return {"network": "Network", "start": _flags(model),
            "steps": [_call(model, call, inputs) for call in inputs["script"]]}


# --- compare: runs in the checking process -------------------------------------------------

def _call_text(call: list) -> str:
    method, args = call[0], call[1:]
    if method == "layers":
        return "get_layer_names(), get_num_layers(), get_feature_size()"
    if method == "features":
        return {"one": "extract_features(one sample)", "batch": "extract_features(a batch)",
                "lists": "extract_features(a batch as nested lists)"}[args[0]]
    return f"{method}({', '.join(repr(a) for a in args)})"


def _model_text(inputs: dict[str, Any]) -> str:
    if inputs["architecture"] is None:
        return "PretrainedModel()"
    return (f"PretrainedModel({inputs['architecture']!r}, {inputs['input_shape']!r}, "
            f"seed={inputs['seed']})")


def _compare_unknown(case: Case, got: dict) -> None:
    what = _model_text(case.inputs)
    if got["constructed"]:
        raise CheckFailure("unknown_architecture", f"{what} built a model; expected a ValueError "
                                                   f"naming {list(ARCHITECTURES)}")
    if not got["names_valid"]:
        raise CheckFailure("architecture_message", f"the ValueError of {what} does not name "
                                                   f"every valid architecture {list(ARCHITECTURES)}")


def _exact(got: Any, want: Any, what: str, kind: str) -> None:
    if type(got) is not type(want) or got != want:
        raise CheckFailure(kind, f"{what} is {fmt(got)} ({type_name(got)}), expected {fmt(want)}")


def _compare_layers(want: dict, got: dict) -> None:
    if got["network_names"] != want["names"]:
        raise CheckFailure("no_network", f"self.network has the blocks {got['network_names']}, "
                                         f"expected {want['names']}")
    names = got["names"]
    if type(names) is tuple:
        names = list(names)
    _exact(names, want["names"], "get_layer_names()", "layer_names")
    for key, what in (("num_layers", "get_num_layers()"), ("feature_size", "get_feature_size()")):
        value = got[key]
        if isinstance(value, np.integer):
            value = int(value)
        _exact(value, want[key], what, key)


def _compare_features(call: list, want: np.ndarray, got: Any, values: np.ndarray) -> None:
    """``want``: the reference's features (their shape); ``values``: the features to match."""
    what = _call_text(call)
    if got is None:
        raise CheckFailure("no_return", f"{what} returned None (did you forget `return`?)")
    if type(got) is not np.ndarray or got.dtype.kind != "f":
        raise CheckFailure("features_type", f"{what} returned {type_name(got)}"
                           f"{'' if type(got) is not np.ndarray else ' of ' + str(got.dtype)}; "
                           f"expected a float array of shape {want.shape}")
    if got.shape != want.shape:
        kind = "single_shape" if want.ndim == 1 else "batch_shape"
        raise CheckFailure(kind, f"{what} has shape {got.shape}, expected {want.shape}")
    if not np.all(np.isfinite(got)):
        raise CheckFailure("not_finite", f"{what} contains NaN or inf")
    if np.any(got < 0):
        raise CheckFailure("negative_features", f"{what} has negative entries (as low as "
                                                f"{float(got.min()):.3g}); features come out of "
                                                f"a ReLU")
    if type(values) is not np.ndarray or values.shape != got.shape:
        raise CheckFailure("wrong_features", f"the features of tlkit's pretrained network could "
                                             f"not be compared with {what}")
    scale = float(np.abs(values).max()) if values.size else 0.0
    diff = np.abs(got.astype(np.float64) - values.astype(np.float64))
    if diff.size and float(diff.max()) > 1e-4 * max(scale, 1.0):
        raise CheckFailure("wrong_features", f"{what} is {fmt(got)}, expected {fmt(values)} "
                                             f"(largest difference {float(diff.max()):.3g})")


def _compare_step(names: list[str], where: str, call: list, want: dict, step: dict) -> None:
    method = call[0]
    if step["raised"] is not None:
        if method == "is_frozen":
            raise CheckFailure("is_frozen_unknown", f"is_frozen({call[1]!r}) raised "
                                                    f"{step['raised']}; expected False for a name "
                                                    f"that is not a block")
        raise CheckFailure("unknown_raised", f"{_call_text(call)} raised {step['raised']}; an "
                                             f"unknown name issues a UserWarning and changes "
                                             f"nothing, without an exception")
    if method == "is_frozen":
        returned = step["returned"]
        if type(returned) is not bool and not isinstance(returned, np.bool_):
            raise CheckFailure("no_return" if returned is None else "is_frozen_type",
                               f"is_frozen({call[1]!r}) returned {fmt(returned)}, expected "
                               f"the bool {want['returned']}")
        if bool(returned) != want["returned"]:
            kind = "is_frozen_unknown" if call[1] not in names else "is_frozen_wrong"
            raise CheckFailure(kind, f"{where}: is_frozen({call[1]!r}) returned "
                                     f"{bool(returned)}, expected {want['returned']}")
    text = _call_text(call)
    if want["warned"] and not step["warned"]:
        if step["other_warnings"]:
            raise CheckFailure("wrong_warning_class",
                               f"{text} names an unknown block and issued a "
                               f"{', '.join(step['other_warnings'])}; the contract asks for a "
                               f"UserWarning")
        raise CheckFailure("no_warning", f"{text} names an unknown block but no UserWarning "
                                         f"was issued")
    if want["warned"] and not step["names_in_warning"]:
        raise CheckFailure("warning_names", f"the warning for {text} does not name every "
                                            f"valid block {names}")
    if not want["warned"] and (step["warned"] or step["other_warnings"]):
        if len(call) > 1 and isinstance(call[1], str):
            raise CheckFailure("single_name", f"{text} issued a warning, but {call[1]!r} is a "
                                              f"valid name (is each letter of it taken for a "
                                              f"name?)")
        raise CheckFailure("spurious_warning", f"{text} issued a warning, but every name in it "
                                               f"is valid")
    if step["trainable"] != want["trainable"]:
        frozen = [n for n, t in zip(names, step["trainable"], strict=True) if not t]
        expected_frozen = [n for n, t in zip(names, want["trainable"], strict=True) if not t]
        if want["warned"]:
            kind = "unknown_changed"
        elif method in ("freeze", "unfreeze") and len(call) > 1 and isinstance(call[1], str):
            kind = "single_name"
        elif method in ("freeze", "unfreeze") and (len(call) == 1 or call[1] is None):
            kind = f"{method}_all"
        elif method in ("freeze", "unfreeze"):
            kind = f"{method}_names"
        else:
            kind = "query_changed"
        raise CheckFailure(kind, f"{where}: the frozen blocks are {frozen}, expected "
                                 f"{expected_frozen}")


def compare(case: Case, expected: dict, got: dict) -> None:
    inputs = case.inputs
    if "unknown_architecture" in expected:
        _compare_unknown(case, got["unknown_architecture"])
        return
    if got["network"] != "Network":
        raise CheckFailure("no_network", f"{_model_text(inputs)}.network is {got['network']}; "
                                         f"expected the tlkit Network that pretrained_network "
                                         f"returns")
    names = [f"layer{i}" for i in range(1, len(expected["start"]) + 1)]
    if got["start"] != expected["start"]:
        raise CheckFailure("starts_frozen", f"a new model's trainable flags are {got['start']}, "
                                            f"expected every block trainable")
    script = inputs["script"]
    for index, (call, want, step) in enumerate(
            zip(script, expected["steps"], got["steps"], strict=True)):
        where = f"after {'; '.join(_call_text(c) for c in script[:index + 1])}"
        if call[0] == "layers":
            _compare_layers(want, step)
        elif call[0] == "features":
            # shipped checkpoints: the reference's values; vectors (weights pretrained on the
            # spot, last digits machine-dependent): tlkit's network in the student's process
            values = want["features"] if inputs["input_shape"] is None else step["library"]
            _compare_features(call, want["features"], step["features"], values)
        else:
            _compare_step(names, where, call, want, step)


# --- cases --------------------------------------------------------------------------------

def _images(seed: int, n: int, input_shape) -> np.ndarray:
    shape = (8, 8) if input_shape is None else (
        (input_shape,) if isinstance(input_shape, int) else tuple(input_shape))
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def _case(name: str, architecture: str | None, script: list[list], *, input_shape=None,
          seed: int = 0, n: int = 0, data_seed: int = 0, hidden: bool = False) -> Case:
    inputs: dict[str, Any] = {"architecture": architecture, "input_shape": input_shape,
                              "seed": seed, "script": script}
    if n:
        inputs["X"] = _images(data_seed, n, input_shape)
    return Case(name, inputs, hidden)


PUBLIC_CASES = (
    _case("simple: two blocks layer1, layer2 and 128 features", "simple", [["layers"]]),
    _case("deep: eight blocks, all trainable at first", "deep",
          [["layers"], ["is_frozen", "layer8"]]),
    _case("extract_features: one image gives a 1-D vector, a batch (N, F), both >= 0",
          "medium", [["features", "one"], ["features", "batch"], ["layers"]], n=5),
    _case("extract_features takes nested lists too", "simple", [["features", "lists"]], n=3,
          data_seed=1),
    _case("vectors: input_shape=6 and seed=1", "simple",
          [["features", "batch"], ["features", "one"], ["layers"]], input_shape=6, seed=1, n=4,
          data_seed=2),
    _case("freeze() freezes every block, unfreeze a list", "medium",
          [["freeze"], ["is_frozen", "layer1"], ["unfreeze", ["layer3", "layer4"]],
           ["is_frozen", "layer3"], ["unfreeze", None]]),
    _case("one name given as a str", "medium",
          [["freeze", "layer2"], ["is_frozen", "layer2"], ["is_frozen", "layer1"],
           ["unfreeze", "layer2"]]),
    _case("an unknown name: a UserWarning naming the valid names, and nothing changes", "deep",
          [["freeze", ["layer1", "layer9"]], ["freeze"], ["unfreeze", "head"],
           ["is_frozen", "layer1"]]),
    _case("is_frozen of an unknown name is False", "simple",
          [["freeze"], ["is_frozen", "layer7"], ["is_frozen", "layer2"]]),
    _case("an unknown architecture is a ValueError naming the valid ones", "huge", []),
)


EXERCISE = Exercise(
    id="01.2",
    part=1,
    title="Build Part 1: PretrainedModel",
    name="PretrainedModel",
    points=10.0,
    description=(
        "class PretrainedModel(architecture='medium', input_shape=None, seed=0) on "
        "tlkit.parts.pretrained_network, keeping the Network in self.network: "
        "get_layer_names(), get_num_layers(), get_feature_size(), extract_features(x) (one "
        "sample -> (F,), a batch -> (N, F), >= 0), freeze(layer_names=None), "
        "unfreeze(layer_names=None) (None: every block, a str: one, a list: those; an unknown "
        "name issues a UserWarning naming the valid ones and changes nothing), is_frozen(name) "
        "(False for an unknown name); an unknown architecture raises a ValueError naming the "
        "valid ones."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "Keep the Network of `pretrained_network(architecture, input_shape, "
        "seed=seed)` in `self.network`; a block is frozen when `self.network[name].trainable` "
        "is False.",
        "no_network": "Store the Network that `pretrained_network(...)` returns as "
        "`self.network`: the training loops (and this check) read the blocks' flags there.",
        "starts_frozen": "A new model has every block trainable: do not freeze anything in "
        "__init__.",
        "layer_names": "get_layer_names() returns the block names as a list: "
        "`[block.name for block in self.network.blocks]`.",
        "num_layers": "get_num_layers() is the number of blocks: `len(self.network.blocks)`.",
        "feature_size": "get_feature_size() is the length F of one sample's feature vector: "
        "e.g. `self.extract_features(<one sample of zeros>).shape[0]`.",
        "features_type": "extract_features returns a NumPy float array: what "
        "`self.network.infer(batch)` gives.",
        "single_shape": "For one sample (shape input_shape), add a batch axis (`x[None]`), run "
        "the network, and return row 0: shape (F,), not (1, F).",
        "batch_shape": "A batch of N samples gives one row of F features per sample: (N, F). "
        "Images go in as (N, H, W, 1): add the channel axis with `x[..., None]`.",
        "negative_features": "The features are the output of the last block (its ReLU), "
        "so they are >= 0: return what `self.network.infer(batch)` gives.",
        "wrong_features": "Use `self.network.infer(batch)` (inference mode: BatchNorm uses its "
        "running statistics; `forward(..., training=True)` would normalise with the batch's), "
        "and pass architecture, input_shape and seed on to pretrained_network.",
        "not_finite": "Convert the input with `np.asarray(x, dtype=np.float32)` and return "
        "what the network gives.",
        "freeze_all": "`freeze()` with no argument (layer_names=None) freezes every block: loop "
        "over `self.get_layer_names()`.",
        "unfreeze_all": "`unfreeze()` with no argument (layer_names=None) makes every block "
        "trainable again.",
        "freeze_names": "With a list, freeze exactly the listed blocks and leave the others as "
        "they are.",
        "unfreeze_names": "With a list, unfreeze exactly the listed blocks and leave the others "
        "as they are (a block frozen before stays frozen).",
        "single_name": "A str is one name: turn it into a list first (`if isinstance("
        "layer_names, str): layer_names = [layer_names]`), or you loop over its characters.",
        "is_frozen_wrong": "is_frozen(name) is `not self.network[name].trainable`.",
        "is_frozen_unknown": "For a name that is not a block, is_frozen returns False (check "
        "`name in self.get_layer_names()` first).",
        "is_frozen_type": "Return a bool from is_frozen (True or False).",
        "no_warning": "Check every name against `self.get_layer_names()` first; for unknown "
        "ones call `warnings.warn(message, UserWarning)` and return without changing anything.",
        "wrong_warning_class": "You issued a warning of another class; the contract asks for a "
        "UserWarning: `warnings.warn(message, UserWarning)` (the default class of "
        "`warnings.warn`).",
        "warning_names": "The warning should list the valid names, e.g. "
        "f\"unknown layer name(s) {unknown}; valid names are {self.get_layer_names()}\".",
        "spurious_warning": "Warn only when a name is not one of `self.get_layer_names()`.",
        "unknown_changed": "When any name is unknown, change nothing at all: check every name "
        "before you set a single flag.",
        "unknown_raised": "An unknown name is not an error: check every name against "
        "`self.get_layer_names()` before you use `self.network[name]`, warn (UserWarning) and "
        "return.",
        "query_changed": "is_frozen only reads the flag; it must not change it.",
        "unknown_architecture": "An unknown architecture raises a ValueError that names "
        "'simple', 'medium' and 'deep' (pretrained_network raises one; do not catch it, or "
        "check the name yourself first).",
        "architecture_message": "Name the valid architectures in the ValueError's message, "
        "e.g. f\"architecture must be one of ['simple', 'medium', 'deep']; got "
        "{architecture!r}\".",
        "exception": "Read the error message. `self.network[name]` is the block called name; "
        "`layer_names` may be None, a str or a list; images go in as (N, H, W, 1), vectors as "
        "(N, d); an unknown architecture raises a ValueError (no other exception).",
    },
    # tlkit's own classes (and the freezing rules of tlkit.PretrainedModel) are the answer
    library_names=COURSE_CLASSES_LIBRARY + ("tlkit.argcheck.resolve_layer_names",),
    fallback="tlkit.PretrainedModel",
)
