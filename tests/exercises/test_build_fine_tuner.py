"""Exercise 03.2, the student's FineTuner: the contract suite passes right answers and names
each typical mistake.

The mistakes are small edits of the reference's source (one or two lines each), so every
test shows exactly what the student got wrong and which hint it must get.
"""

from __future__ import annotations

import numpy as np
import pytest

from instructor import exercises as answer_key
from tests.exercises.test_notebook_exercises import exercise_cells
from tlkit.exercises import check, get_exercise, run_cases

EXERCISE = get_exercise("03.2")
SOURCE = answer_key.reference_source("03.2")
HIDDEN_SEEDS = (0, 1, 2)


def namespace() -> dict:
    import time

    from tlkit import TrainingHistory
    from tlkit.nn.losses import softmax, softmax_cross_entropy
    from tlkit.nn.network import Network
    from tlkit.parts import new_head

    return {"__name__": "__main__", "np": np, "time": time, "TrainingHistory": TrainingHistory,
            "softmax": softmax, "softmax_cross_entropy": softmax_cross_entropy, "Network": Network,
            "new_head": new_head}


def mutant(*edits: tuple[str, str]):
    """The reference FineTuner with each (old, new) edit applied once (old must be in the source)."""
    source = SOURCE
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new, 1)
    ns = namespace()
    exec(compile(source, "<mutant>", "exec"), ns)
    return ns["FineTuner"]


def kinds(cls) -> list[str]:
    result = check("03.2", cls, verbose=False)
    assert result.status == "failed", result.messages
    return [kind for kind in result.kinds if kind]


def all_cases(seed: int):
    return EXERCISE.public_cases + answer_key.hidden_cases("03.2", seed)


def score(cls, seed: int):
    cases = all_cases(seed)
    return answer_key.score("03.2", cases, run_cases(EXERCISE, cls, cases))


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_the_reference_passes_public_and_hidden_cases(seed):
    result = score(answer_key.reference("03.2"), seed)
    assert result.status == "passed", result.messages


def test_there_are_enough_cases_and_they_cover_the_contract():
    hidden = answer_key.hidden_cases("03.2", 0)
    assert len(EXERCISE.public_cases) >= 5 and len(hidden) >= 5
    for cases in (EXERCISE.public_cases, hidden):
        modes = {case.inputs["mode"] for case in cases}
        assert modes == {"train", "rates", "warmup_split"}
        assert any(case.inputs["unknown"] for case in cases)
        assert any(case.inputs["config_type"] == "object" for case in cases)
        assert any(case.inputs["config"].get("warmup_epochs") == case.inputs["config"]["epochs"]
                   for case in cases)
        assert any(case.inputs["learns"] for case in cases)


def test_the_solution_notebook_class_passes_with_no_tlkit_strategy_behind_it(monkeypatch):
    import tlkit.strategies.fine_tuning
    import tlkit.training

    def refuse(*args, **kwargs):
        raise AssertionError("the student's FineTuner must not run tlkit's strategies or Trainer")

    monkeypatch.setattr(tlkit.strategies.fine_tuning.FineTuner, "__init__", refuse)
    monkeypatch.setattr(tlkit.training.Trainer, "fit", refuse)
    ns = {"__name__": "__main__"}
    exec(compile(exercise_cells("solutions")["03.2"][1], "<exercise cell>", "exec"), ns)
    for seed in HIDDEN_SEEDS:
        result = score(ns["FineTuner"], seed)
        assert result.status == "passed", result.messages


def test_the_stub_is_not_done():
    ns = {"__name__": "__main__"}
    exec(compile(exercise_cells("notebooks")["03.2"][1], "<stub cell>", "exec"), ns)
    assert check("03.2", ns["FineTuner"], verbose=False).status == "not_done"


MISTAKES = {
    # the update uses the base rate for every block: set_layer_learning_rate is ignored
    "rates_ignored": [("rate = self.rates.get(block.name, lr)", "rate = lr")],
    # the rate set for a block is used as a multiplier of learning_rate
    "wrong_rate": [("rate = self.rates.get(block.name, lr)", "rate = lr * self.rates.get(block.name, 1.0)")],
    # the warm-up is never applied (the history still reports the rates it should have used)
    "warmup_skipped": [("block.trainable = epoch >= warmup", "block.trainable = True")],
    # issue 20's bug: a default warm-up of at least 1 epoch, even in a 1-epoch run
    "warmup_whole_run": [("warmup = 0 if epochs <= 1 else max(1, round(0.1 * epochs))",
                          "warmup = max(1, round(0.1 * epochs))")],
    # the warm-up and the epochs after it switch every base block, frozen ones included
    "frozen_changed": [("chosen = [block for block in self.base.network.blocks if block.trainable]",
                        "chosen = list(self.base.network.blocks)")],
    # "frozen" by skipping the update while every block runs as trainable (BatchNorm in training mode)
    "frozen_batchnorm": [("network = Network(", "self.base.unfreeze()\n        network = Network("),
                         ("if block.trainable:", "if block in chosen or block is self.head:")],
    # the flags of the warm-up are left behind
    "flags_not_restored": [("            for block in chosen:\n                block.trainable = True",
                            "            pass")],
    # an unknown name is accepted silently
    "unknown_name": [("if name not in valid:", "if False:")],
    # the error does not say which names are valid
    "unknown_name_message": [("valid names are {valid}", "check the spelling")],
    # predict_proba of one sample keeps the batch axis, so predict returns an array
    "predict_type": [("return probabilities[0] if features.ndim == 1 else probabilities",
                      "return probabilities")],
    # layers_to_unfreeze=None read as "every block"
    "unfreeze_choice": [("chosen = []", "chosen = list(names)")],
}


@pytest.mark.parametrize("kind", sorted(MISTAKES))
def test_each_mistake_gets_its_own_kind_and_hint(kind, capsys):
    cls = mutant(*MISTAKES[kind])
    assert kinds(cls)[0] == kind
    check("03.2", cls)
    assert f"Hint: {EXERCISE.hints[kind]}" in capsys.readouterr().out


def test_a_warmup_one_epoch_too_long_gets_the_warmup_length_hint():
    found = kinds(mutant(("block.trainable = epoch >= warmup", "block.trainable = epoch > warmup")))
    assert found[0] == "warmup_length"


def test_a_warmup_at_the_end_of_the_run_is_caught_by_the_split_case():
    found = kinds(mutant(("block.trainable = epoch >= warmup", "block.trainable = epoch < epochs - warmup")))
    assert "warmup_length" in found


def test_the_hints_are_distinct():
    texts = list(EXERCISE.hints.values())
    assert len(set(texts)) == len(texts)


def _library_reasons(notebook: str, source: str | None = None) -> list[str]:
    from pathlib import Path

    from instructor.grading.submissions import Cell, extract_exercises, library_use, parse_notebook

    cells, _ = parse_notebook(Path(__file__).resolve().parents[2] / "solutions" / notebook)
    if source is not None:  # the same notebook with another exercise cell
        cells = [Cell(c.notebook, c.index, source, c.tags) if c is not None and
                 c.source.startswith(f"### EXERCISE {EXERCISE.id}") else c for c in cells]
    found, _ = extract_exercises(cells, [EXERCISE.id])
    return library_use(found[EXERCISE.id], EXERCISE.name, tuple(EXERCISE.library_names))


def test_the_solution_is_not_flagged_and_a_wrapper_of_tlkits_class_is():
    assert _library_reasons("03_fine_tuning.ipynb") == []
    for source in ("### EXERCISE 03.2\nfrom tlkit.strategies import FineTuner as Theirs\n\n\n"
                   "class FineTuner(Theirs):\n    pass\n",
                   "### EXERCISE 03.2\nimport tlkit\n\n\nclass FineTuner:\n    def __init__(self, *a):\n"
                   "        self.inner = tlkit.FineTuner(*a)\n"):
        assert _library_reasons("03_fine_tuning.ipynb", source), source
