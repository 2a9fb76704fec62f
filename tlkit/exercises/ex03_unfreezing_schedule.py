"""Exercise 03.2: warm-up and gradual unfreezing, which blocks train in epoch e (Part 3).

``blocks_training_at(epoch, blocks, warmup_epochs, unfreeze_every)``: ``blocks`` are the
blocks chosen for fine-tuning, bottom to top; epochs count from 0. Returns the names that
train in that epoch, bottom to top, always ending with ``"head"``:

* during the warm-up (``epoch < warmup_epochs``) only the head trains;
* then, with ``unfreeze_every=None``, every chosen block trains;
* with ``unfreeze_every=k`` (gradual unfreezing, ULMFiT), the top block joins first and one
  more block joins every k epochs: ``1 + (epoch - warmup_epochs) // k`` blocks from the top.

tlkit's ``UnfreezeSchedule.trainable_at`` is the engine's version (without the head).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tlkit.exercises.compare import fmt, type_name
from tlkit.exercises.registry import Case, CheckFailure, Exercise


def apply(fn: Callable, inputs: dict[str, Any]) -> dict[str, Any]:
    blocks, warmup, every = inputs["blocks"], inputs["warmup_epochs"], inputs["unfreeze_every"]
    return {"schedule": [fn(epoch, list(blocks), warmup, every)
                         for epoch in range(inputs["epochs"])]}


def compare(case: Case, expected: dict, got: dict) -> None:
    inputs = case.inputs
    warmup, every = inputs["warmup_epochs"], inputs["unfreeze_every"]
    for epoch, (answer, want) in enumerate(zip(got["schedule"], expected["schedule"],
                                               strict=True)):
        call = (f"blocks_training_at({epoch}, {inputs['blocks']}, {warmup}, {every})")
        if type(answer) is tuple:
            answer = list(answer)
        if type(answer) is not list or not all(type(name) is str for name in answer):
            raise CheckFailure("no_return" if answer is None else "wrong_type",
                               f"{call} returned {fmt(answer)} ({type_name(answer)}), expected "
                               f"the list {want}")
        if answer == want:
            continue
        message = f"{call} returned {answer}, expected {want}"
        if "head" not in answer or answer[-1] != "head":
            kind = "head"
        elif sorted(answer) == sorted(want):
            kind = "order"
        elif epoch < warmup:
            kind = "warmup"
        elif epoch == warmup and len(answer) == 1:
            kind = "warmup_end"
        elif every is None:
            kind = "all_at_once"
        elif set(answer) <= set(want):
            kind = "gradual_slow"
        else:
            kind = "gradual_fast" if set(want) < set(answer) else "gradual_top"
        raise CheckFailure(kind, message)


def _case(name: str, k: int, warmup: int, every: int | None, epochs: int, first: int = 1,
          hidden: bool = False) -> Case:
    blocks = [f"layer{i}" for i in range(first, first + k)]
    return Case(name, {"blocks": blocks, "warmup_epochs": warmup, "unfreeze_every": every,
                       "epochs": epochs}, hidden)


PUBLIC_CASES = (
    _case("no warm-up, everything at once", 2, 0, None, 2, first=3),
    _case("a 2-epoch warm-up trains the head only", 2, 2, None, 4, first=3),
    _case("gradual unfreezing, one block per epoch", 4, 1, 1, 6),
    _case("gradual unfreezing, one block every 2 epochs", 3, 2, 2, 9),
    _case("no blocks chosen (feature extraction)", 0, 1, None, 3),
    _case("a warm-up longer than training", 3, 5, 1, 4),
)


EXERCISE = Exercise(
    id="03.2",
    part=3,
    title="Warm-up and gradual unfreezing",
    name="blocks_training_at",
    points=10.0,
    description=(
        "blocks_training_at(epoch, blocks, warmup_epochs, unfreeze_every) -> the names that "
        "train in epoch (0-based), bottom to top, ending with 'head': only the head during the "
        "warm-up; then every block (unfreeze_every=None) or the top "
        "1 + (epoch - warmup_epochs) // unfreeze_every blocks."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "If epoch < warmup_epochs: ['head']. Otherwise, with unfreeze_every None: "
        "blocks + ['head']; else the last 1 + (epoch - warmup_epochs) // unfreeze_every "
        "blocks, plus 'head'.",
        "head": "The new head trains in every epoch: end the list with 'head'.",
        "order": "Keep the order bottom to top, as in `blocks`, with 'head' last: slice "
        "`blocks[start:]` rather than building the list from the top.",
        "warmup": "Epochs count from 0: during epochs 0 .. warmup_epochs - 1 only the head "
        "trains (`if epoch < warmup_epochs: return ['head']`).",
        "warmup_end": "The warm-up ends at epoch == warmup_epochs: from that epoch on, blocks "
        "train too (compare with `<`, not `<=`).",
        "all_at_once": "With unfreeze_every=None every chosen block trains after the warm-up.",
        "gradual_slow": "Right after the warm-up the top block already trains: the count is "
        "1 + (epoch - warmup_epochs) // unfreeze_every.",
        "gradual_fast": "One more block every unfreeze_every epochs: the count is "
        "1 + (epoch - warmup_epochs) // unfreeze_every (integer division), capped at "
        "len(blocks).",
        "gradual_top": "Unfreeze from the top: the blocks that train are the last ones of the "
        "list, `blocks[len(blocks) - count:]` (with count capped at len(blocks)).",
        "wrong_type": "Return a list of block names (str), e.g. ['layer4', 'head'].",
        "exception": "Read the error message; `blocks` may be empty, and the count can exceed "
        "len(blocks) (use max(len(blocks) - count, 0)).",
    },
    library_names=(
        "tlkit.strategies.unfreezing.UnfreezeSchedule",
        "tlkit.strategies.unfreezing.UnfreezeSchedule.trainable_at",
    ),
)
