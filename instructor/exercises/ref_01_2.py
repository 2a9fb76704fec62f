"""Exercise 01.2: the reference solution and the hidden cases (instructor side, never shipped)."""

from __future__ import annotations

import warnings

import numpy as np

from tlkit.exercises.ex01_freezing import _case, _names
from tlkit.exercises.registry import Case
from tlkit.nn.network import Network


class FreezableModel:
    """Reference: freeze / unfreeze / is_frozen on the named blocks of a Network."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def get_layer_names(self) -> list[str]:
        return [block.name for block in self.network.blocks]

    def _names(self, layer_names, action: str) -> list[str]:
        valid = self.get_layer_names()
        if layer_names is None:
            return valid
        if isinstance(layer_names, str):
            layer_names = [layer_names]
        unknown = [name for name in layer_names if name not in valid]
        if unknown:
            warnings.warn(f"{action}: unknown layer name(s) {unknown}; valid names are {valid}. "
                          "Nothing was changed.", UserWarning, stacklevel=3)
            return []
        return list(layer_names)

    def freeze(self, layer_names=None) -> None:
        for name in self._names(layer_names, "freeze"):
            self.network[name].trainable = False

    def unfreeze(self, layer_names=None) -> None:
        for name in self._names(layer_names, "unfreeze"):
            self.network[name].trainable = True

    def is_frozen(self, name: str) -> bool:
        if name not in self.get_layer_names():
            return False
        return not self.network[name].trainable


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    cases = []
    for index in range(5):
        k = int(rng.integers(2, 9))
        names = _names(k)
        script: list[list] = []
        for _ in range(int(rng.integers(4, 9))):
            action = str(rng.choice(["freeze", "unfreeze", "is_frozen", "is_frozen"]))
            pick = [n for n in names if rng.random() < 0.4]
            if action == "is_frozen":
                script.append(["is_frozen", str(rng.choice(names + ["layer99", "head"]))])
            elif rng.random() < 0.25:
                script.append([action] if rng.random() < 0.5 else [action, None])
            elif rng.random() < 0.2:
                script.append([action, pick + ["block_x"]])
            elif len(pick) == 1 and rng.random() < 0.5:
                script.append([action, pick[0]])
            else:
                script.append([action, pick])
        cases.append(_case(f"hidden {index + 1}: {k} blocks, {len(script)} calls", k, script, True))
    return tuple(cases)


reference = FreezableModel
