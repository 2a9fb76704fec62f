"""Exercise 01.2 (build Part 1): the reference PretrainedModel and the hidden cases (instructor side)."""

from __future__ import annotations

import warnings

import numpy as np

from tlkit.exercises.ex01_pretrained_model import ARCHITECTURES, _case
from tlkit.exercises.registry import Case
from tlkit.parts import pretrained_network


class PretrainedModel:
    """Reference: the shipped pretrained blocks, their features, and freezing by name."""

    def __init__(self, architecture="medium", input_shape=None, seed=0):
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {list(ARCHITECTURES)}; got {architecture!r}")
        self.network = pretrained_network(architecture, input_shape, seed=seed)
        if input_shape is None:
            input_shape = (8, 8)
        elif isinstance(input_shape, int):
            input_shape = (input_shape,)
        self.input_shape = tuple(input_shape)

    def get_layer_names(self):
        return [block.name for block in self.network.blocks]

    def get_num_layers(self):
        return len(self.network.blocks)

    def get_feature_size(self):
        return int(self.extract_features(np.zeros(self.input_shape, dtype=np.float32)).shape[0])

    def extract_features(self, x):
        x = np.asarray(x, dtype=np.float32)
        single = x.ndim == len(self.input_shape)
        batch = x[None] if single else x
        if len(self.input_shape) == 2:
            batch = batch[..., None]  # images: (N, H, W) -> (N, H, W, 1)
        features = self.network.infer(batch).reshape(len(batch), -1)
        return features[0] if single else features

    def _selected(self, layer_names, action):
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

    def freeze(self, layer_names=None):
        for name in self._selected(layer_names, "freeze"):
            self.network[name].trainable = False

    def unfreeze(self, layer_names=None):
        for name in self._selected(layer_names, "unfreeze"):
            self.network[name].trainable = True

    def is_frozen(self, name):
        if name not in self.get_layer_names():
            return False
        return not self.network[name].trainable


_DEPTH = {"simple": 2, "medium": 4, "deep": 8}


def _script(rng: np.random.Generator, names: list[str]) -> list[list]:
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
    return script


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    cases = []
    for index in range(3):  # freezing scripts
        architecture = str(rng.choice(ARCHITECTURES))
        names = [f"layer{i}" for i in range(1, _DEPTH[architecture] + 1)]
        script = _script(rng, names)
        cases.append(_case(f"hidden {index + 1}: {architecture}, {len(script)} calls",
                           architecture, script, hidden=True))
    shapes = [None, int(rng.integers(3, 11)), (int(rng.integers(3, 11)),)]
    for index, input_shape in enumerate(shapes, start=4):  # structure and features
        architecture = str(rng.choice(ARCHITECTURES[:2]))
        seed = int(rng.integers(0, 4))
        script = [["features", str(rng.choice(["one", "lists"]))], ["features", "batch"],
                  ["layers"]]
        cases.append(_case(f"hidden {index}: {architecture}, input_shape={input_shape!r}, "
                           f"seed={seed}", architecture, script, input_shape=input_shape,
                           seed=seed, n=int(rng.integers(1, 7)),
                           data_seed=int(rng.integers(2**31)), hidden=True))
    cases.append(_case("hidden 7: the default model is medium", None,
                       [["layers"], ["freeze", ["layer2", "layer3"]], ["is_frozen", "layer3"]],
                       hidden=True))
    bad = str(rng.choice(["Simple", "large", "resnet50", ""]))
    cases.append(_case(f"hidden 8: architecture {bad!r}", bad, [], hidden=True))
    return tuple(cases)


reference = PretrainedModel
