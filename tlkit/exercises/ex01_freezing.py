"""Exercise 01.2: freeze, unfreeze and is_frozen on named blocks (course Part 1).

The student writes three methods of a small class over a tlkit ``Network``: a block is
frozen when ``network[name].trainable`` is False, which is what the engine's training
loop reads (no gradient, no update, BatchNorm in inference mode). The semantics are the
contract's ``PretrainedModel`` ones:

* ``freeze()`` / ``unfreeze()`` with no argument (None) act on every block;
* one name (a str) or a list of names act on those blocks only;
* an unknown name: a ``UserWarning`` naming the valid names, and nothing changes;
* ``is_frozen(name)`` is a bool; False for an unknown name.

A case's inputs are block names and a script of calls; ``apply`` builds the network, runs
the script on the student's class, and returns what it observed after every call.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tlkit.exercises.compare import fmt
from tlkit.exercises.registry import Case, CheckFailure, Exercise
from tlkit.nn.dense import Dense
from tlkit.nn.network import Block, Network


def build_network(names: list[str]) -> Network:
    """A tiny network of Dense blocks with these names (the weights do not matter here)."""
    rng = np.random.default_rng(0)
    return Network([Block(name, [("fc", Dense(2, 2, rng))]) for name in names])


def apply(cls: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    network = build_network(inputs["blocks"])
    model = cls(network)
    steps = []
    for call in inputs["script"]:
        method, args = call[0], call[1:]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            returned = getattr(model, method)(*args)
        texts = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        steps.append({
            "returned": returned if method == "is_frozen" else None,
            "trainable": [bool(block.trainable) for block in network.blocks],
            "warned": bool(texts),
            "names_in_warning": bool(texts) and all(
                name in " ".join(texts) for name in inputs["blocks"]),
        })
    return {"steps": steps}


def _call_text(call: list) -> str:
    method, args = call[0], call[1:]
    return f"{method}({', '.join(repr(a) for a in args)})"


def compare(case: Case, expected: dict, got: dict) -> None:
    names, script = case.inputs["blocks"], case.inputs["script"]
    for index, (call, want, step) in enumerate(
            zip(script, expected["steps"], got["steps"], strict=True)):
        where = f"after {'; '.join(_call_text(c) for c in script[:index + 1])}"
        method = call[0]
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
        if want["warned"] and not step["warned"]:
            raise CheckFailure("no_warning", f"{_call_text(call)} names an unknown block but no "
                                             f"UserWarning was issued")
        if want["warned"] and not step["names_in_warning"]:
            raise CheckFailure("warning_names", f"the warning for {_call_text(call)} does not "
                                                f"name every valid block {names}")
        if not want["warned"] and step["warned"]:
            raise CheckFailure("spurious_warning", f"{_call_text(call)} issued a warning, but "
                                                   f"every name in it is valid")
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


# --- cases ------------------------------------------------------------------------------------

def _names(k: int) -> list[str]:
    return [f"layer{i}" for i in range(1, k + 1)]


def _case(name: str, k: int, script: list[list], hidden: bool = False) -> Case:
    return Case(name, {"blocks": _names(k), "script": script}, hidden)


PUBLIC_CASES = (
    _case("new blocks start trainable", 3, [["is_frozen", "layer1"], ["is_frozen", "layer3"]]),
    _case("freeze() freezes every block", 4,
          [["freeze"], ["is_frozen", "layer1"], ["is_frozen", "layer4"]]),
    _case("unfreeze a list of names after freeze()", 4,
          [["freeze"], ["unfreeze", ["layer3", "layer4"]], ["is_frozen", "layer2"],
           ["is_frozen", "layer3"]]),
    _case("one name given as a str", 3, [["freeze", "layer2"], ["is_frozen", "layer2"],
                                         ["unfreeze", "layer2"]]),
    _case("unfreeze() unfreezes every block", 2, [["freeze", None], ["unfreeze", None]]),
    _case("an unknown name warns with the valid names and changes nothing", 4,
          [["freeze", ["layer1", "layer9"]], ["freeze"], ["unfreeze", "head"]]),
    _case("is_frozen of an unknown name is False", 2,
          [["freeze"], ["is_frozen", "layer7"], ["is_frozen", "layer1"]]),
    _case("freezing twice, and an empty list", 3,
          [["freeze", ["layer1"]], ["freeze", ["layer1"]], ["unfreeze", []],
           ["is_frozen", "layer1"]]),
)


EXERCISE = Exercise(
    id="01.2",
    part=1,
    title="Freeze, unfreeze and is_frozen",
    name="FreezableModel",
    points=10.0,
    description=(
        "class FreezableModel(network): write freeze(layer_names=None), "
        "unfreeze(layer_names=None) and is_frozen(name) over network[name].trainable. "
        "None means every block, a str one block, a list those blocks; an unknown name "
        "issues a UserWarning naming the valid names and changes nothing; is_frozen of an "
        "unknown name is False."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "A block is frozen when `self.network[name].trainable` is False: freeze sets "
        "it to False, unfreeze to True, for every name (None), one name (a str) or the listed "
        "names.",
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
        "ones call `warnings.warn(...)` (a UserWarning) and return without changing anything.",
        "warning_names": "The warning should list the valid names, e.g. "
        "f\"unknown layer name(s) {unknown}; valid names are {self.get_layer_names()}\".",
        "spurious_warning": "Warn only when a name is not one of `self.get_layer_names()`.",
        "unknown_changed": "When any name is unknown, change nothing at all: check every name "
        "before you set a single flag.",
        "query_changed": "is_frozen only reads the flag; it must not change it.",
        "exception": "Read the error message. `self.network[name]` is the block called name; "
        "`layer_names` may be None, a str or a list.",
    },
    library_names=(
        "tlkit.pretrained.PretrainedModel",
        "tlkit.pretrained.PretrainedModel._resolve_names",
        "tlkit.strategies.FineTuner",
        "tlkit.strategies.fine_tuning.resolve_layers_to_unfreeze",
    ),
)
