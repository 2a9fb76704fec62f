"""Exercise 01.2, build Part 1: the student's PretrainedModel against the course's contract.

The reference and the class written in solutions/01 pass the public and hidden cases, the
latter with tlkit's own PretrainedModel methods disabled (only the engine and
tlkit.parts stand behind it); the untouched stub is NOT DONE; each typical mistake gets a
failure kind and a hint of its own.
"""

from __future__ import annotations

import ast
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import tlkit
from instructor import exercises as answer_key
from tests.exercises.test_notebook_exercises import exercise_cells
from tlkit.exercises import check, get_exercise, run_cases, solution_or_fallback

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "01_pretrained_model.ipynb"
EXERCISE = get_exercise("01.2")


def cells(folder: str) -> list[dict]:
    nb = json.loads((ROOT / folder / NOTEBOOK).read_text(encoding="utf-8"))
    return [{**cell, "source": "".join(cell["source"])} for cell in nb["cells"]]


def exercise_cell(folder: str) -> str:
    return exercise_cells(folder)["01.2"][1]


def defined(source: str):
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<exercise cell>", "exec"), namespace)
    return namespace["PretrainedModel"]


SOLVED = defined(exercise_cell("solutions"))
ALL_CASES = EXERCISE.public_cases + answer_key.hidden_cases("01.2", 20261201)


def score(cls, cases=ALL_CASES):
    return answer_key.score("01.2", cases, run_cases(EXERCISE, cls, cases))


def test_the_reference_passes_public_and_hidden_cases():
    for cases in (ALL_CASES, answer_key.hidden_cases("01.2", 3)):
        result = score(answer_key.reference("01.2"), cases)
        assert result.status == "passed", result.messages
    assert len(EXERCISE.public_cases) >= 5
    assert len(answer_key.hidden_cases("01.2", 0)) >= 5


def test_the_notebook_class_passes_with_tlkits_model_disabled(monkeypatch):
    """Only the engine and tlkit.parts behind it: tlkit's own methods raise if called."""
    def disabled(*args, **kwargs):
        raise AssertionError("the student's class called tlkit's PretrainedModel")

    for method in ("get_layer_names", "get_num_layers", "get_feature_size", "extract_features",
                   "freeze", "unfreeze", "is_frozen", "features_of_batch", "to_network_input"):
        monkeypatch.setattr(tlkit.pretrained.PretrainedModel, method, disabled)
    assert SOLVED.__mro__ == (SOLVED, object)
    result = score(SOLVED)
    assert result.status == "passed", result.messages


def test_the_notebook_class_imports_only_the_engine_parts():
    tree = ast.parse(exercise_cell("solutions"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    assert modules == {"warnings", "numpy", "tlkit.parts"}


def test_the_stub_is_not_done_and_the_notebook_falls_back_to_tlkit(capsys):
    stub = defined(exercise_cell("notebooks"))
    assert "BEGIN SOLUTION" not in exercise_cell("notebooks")
    assert score(stub).status == "not_done"
    check("01.2", stub)
    assert "NOT DONE" in capsys.readouterr().out
    assert solution_or_fallback("01.2", stub) is tlkit.PretrainedModel


def test_the_statement_names_the_warning_class_it_wants():
    for folder in ("solutions", "notebooks"):
        sources = [c["source"] for c in cells(folder)]
        index = next(i for i, s in enumerate(sources) if s.startswith("### EXERCISE 01.2\n"))
        statement = sources[index - 1]
        assert "`UserWarning`" in statement and "RuntimeWarning" in statement
        assert "warnings.warn(message, UserWarning)" in statement


# --- typical mistakes: each gets its own kind and hint ----------------------------------------


class RuntimeWarns(SOLVED):
    def _names_to_change(self, layer_names, action):
        valid = self.get_layer_names()
        names = valid if layer_names is None else [layer_names] if isinstance(
            layer_names, str) else list(layer_names)
        unknown = [n for n in names if n not in valid]
        if unknown:
            warnings.warn(f"unknown {unknown}; valid names are {valid}", RuntimeWarning, stacklevel=3)
            return []
        return names


class SilentOnUnknown(SOLVED):
    def _names_to_change(self, layer_names, action):
        valid = self.get_layer_names()
        names = valid if layer_names is None else [layer_names] if isinstance(
            layer_names, str) else list(layer_names)
        return [n for n in names if n in valid]


class ChangesTheValidOnes(SOLVED):
    def _names_to_change(self, layer_names, action):
        valid = self.get_layer_names()
        names = valid if layer_names is None else [layer_names] if isinstance(
            layer_names, str) else list(layer_names)
        if any(n not in valid for n in names):
            warnings.warn(f"unknown names; valid names are {valid}", UserWarning, stacklevel=3)
        return [n for n in names if n in valid]


class LoopsOverTheLettersOfAStr(SOLVED):
    def _names_to_change(self, layer_names, action):
        valid = self.get_layer_names()
        if layer_names is None:
            return valid
        return [n for n in layer_names if n in valid]  # "layer2" -> "l", "a", ...: none valid


class OneSampleKeepsItsBatchAxis(SOLVED):
    def extract_features(self, x):
        x = np.asarray(x, dtype=np.float32)
        batch = x[None] if x.ndim == len(self.input_shape) else x
        if len(self.input_shape) == 2:
            batch = batch[..., None]
        return self.network.infer(batch)


class TrainingModeFeatures(SOLVED):
    def extract_features(self, x):
        x = np.asarray(x, dtype=np.float32)
        single = x.ndim == len(self.input_shape)
        batch = x[None] if single else x
        if len(self.input_shape) == 2:
            batch = batch[..., None]
        features = self.network.forward(batch, training=True)  # BatchNorm on batch statistics
        return features[0] if single else features


class HardCodedFeatureSize(SOLVED):
    def get_feature_size(self):
        return 256


class AnyArchitectureIsMedium(SOLVED):
    def __init__(self, architecture="medium", input_shape=None, seed=0):
        if architecture not in ("simple", "medium", "deep"):
            architecture = "medium"
        super().__init__(architecture, input_shape, seed)


class NetworkUnderAnotherName(SOLVED):
    def __init__(self, architecture="medium", input_shape=None, seed=0):
        super().__init__(architecture, input_shape, seed)
        self.net = self.network
        del self.network

    def __getattr__(self, name):
        if name == "network":
            raise AttributeError(name)
        return super().__getattribute__(name)

    def get_layer_names(self):
        return [block.name for block in self.net.blocks]

    def get_num_layers(self):
        return len(self.net.blocks)

    def extract_features(self, x):
        self.network = self.net
        try:
            return super().extract_features(x)
        finally:
            del self.network


class InvertedIsFrozen(SOLVED):
    def is_frozen(self, name):
        return name in self.get_layer_names() and self.network[name].trainable


class IsFrozenRaisesOnUnknown(SOLVED):
    def is_frozen(self, name):
        return not self.network[name].trainable  # KeyError for a name that is not a block


class IndexesBeforeChecking(SOLVED):
    def freeze(self, layer_names=None):
        names = self.get_layer_names() if layer_names is None else layer_names
        for name in [names] if isinstance(names, str) else names:
            self.network[name].trainable = False  # KeyError on an unknown name


class WarnsForEveryLetterOfAStr(SOLVED):
    def _names_to_change(self, layer_names, action):
        valid = self.get_layer_names()
        names = valid if layer_names is None else list(layer_names)  # "layer2" -> letters
        if any(n not in valid for n in names):
            warnings.warn(f"unknown names; valid names are {valid}", UserWarning, stacklevel=3)
            return []
        return names


@pytest.mark.parametrize("cls, kind", [
    (IsFrozenRaisesOnUnknown, "is_frozen_unknown"),
    (IndexesBeforeChecking, "unknown_raised"),
    (WarnsForEveryLetterOfAStr, "single_name"),
    (RuntimeWarns, "wrong_warning_class"),
    (SilentOnUnknown, "no_warning"),
    (ChangesTheValidOnes, "unknown_changed"),
    (LoopsOverTheLettersOfAStr, "single_name"),
    (OneSampleKeepsItsBatchAxis, "single_shape"),
    (TrainingModeFeatures, "wrong_features"),
    (HardCodedFeatureSize, "feature_size"),
    (AnyArchitectureIsMedium, "unknown_architecture"),
    (NetworkUnderAnotherName, "no_network"),
    (InvertedIsFrozen, "is_frozen_wrong"),
])
def test_a_typical_mistake_gets_its_own_kind_and_hint(cls, kind, capsys):
    result = check("01.2", cls)
    out = capsys.readouterr().out
    assert result.status == "failed", result.messages
    assert kind in result.kinds, result.messages
    assert f"Hint: {EXERCISE.hints[kind]}" in out


def test_a_runtime_warning_is_told_apart_from_no_warning(capsys):
    result = check("01.2", RuntimeWarns)
    out = capsys.readouterr().out
    assert set(result.kinds) == {"", "wrong_warning_class"}
    assert "issued a RuntimeWarning; the contract asks for a UserWarning" in out
    assert "no UserWarning was issued" not in out


def test_every_kind_the_checks_raise_has_a_hint():
    source = (ROOT / "tlkit" / "exercises" / "ex01_pretrained_model.py").read_text(encoding="utf-8")
    kinds = {node.args[0].value for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "CheckFailure"
             and isinstance(node.args[0], ast.Constant)}
    kinds |= {"freeze_all", "unfreeze_all", "freeze_names", "unfreeze_names", "single_name",
              "is_frozen_wrong", "is_frozen_unknown", "unknown_changed", "query_changed",
              "num_layers", "feature_size", "layer_names", "single_shape", "batch_shape"}
    assert kinds - {"no_return"} <= set(EXERCISE.hints)


def _flags(source: str) -> list[str]:
    from instructor.grading.submissions import library_use
    from tlkit.exercises.cells import Cell, extract_exercises

    found, _ = extract_exercises([Cell("nb.ipynb", 1, source)], ["01.2"])
    return library_use(found["01.2"], EXERCISE.name, EXERCISE.library_names)


def test_a_class_that_wraps_tlkits_is_flagged_and_the_solution_is_not():
    assert _flags(exercise_cell("solutions")) == []
    wrapped = ("### EXERCISE 01.2\nimport tlkit\n\n\n"
               "class PretrainedModel(tlkit.PretrainedModel):\n    pass\n")
    assert any("PretrainedModel" in reason for reason in _flags(wrapped))
    delegated = ("### EXERCISE 01.2\nfrom tlkit import PretrainedModel as Model\n\n\n"
                 "class PretrainedModel:\n    def __init__(self, *args, **kwargs):\n"
                 "        self.inner = Model(*args, **kwargs)\n")
    assert any("PretrainedModel" in reason for reason in _flags(delegated))
