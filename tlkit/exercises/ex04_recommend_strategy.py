"""Exercise 04.1: the size x similarity rule as code.

The expected answers come from :func:`tlkit.strategy_rule.choose_strategy`, the same rule
the strategy manager uses; the reference below is the readable if-chain a student writes.
"""

from __future__ import annotations

from collections.abc import Callable

from tlkit.exercises.registry import Case, CheckFailure, Exercise
from tlkit.strategy_rule import SIMILARITIES, STRATEGIES, choose_strategy

FUNCTION_NAME = "recommend_strategy"


def recommend_strategy(dataset_size: int, task_similarity: str) -> str:
    """Reference: "feature_extraction", "fine_tuning" or "from_scratch"."""
    if dataset_size < 1_000:  # small
        return "feature_extraction" if task_similarity == "high" else "fine_tuning"
    if dataset_size < 100_000:  # medium and large: always fine-tune (how much differs)
        return "fine_tuning"
    # very large
    return "from_scratch" if task_similarity == "low" else "fine_tuning"


_BOUNDARIES = {999, 1_000, 9_999, 10_000, 99_999, 100_000}


def _expect_grid(sizes: tuple[int, ...]) -> Callable[[Callable], None]:
    def run(fn: Callable) -> None:
        for size in sizes:
            for similarity in SIMILARITIES:
                got = fn(size, similarity)
                expected = choose_strategy(size, similarity)
                call = f"{FUNCTION_NAME}({size}, {similarity!r})"
                if not isinstance(got, str) or got not in STRATEGIES:
                    valid = ", ".join(repr(s) for s in STRATEGIES)
                    raise CheckFailure(
                        "unknown_strategy", f"{call} returned {got!r}, expected one of {valid}"
                    )
                if got != expected:
                    raise CheckFailure(
                        "boundary" if size in _BOUNDARIES else "wrong_strategy",
                        f"{call} returned {got!r}, expected {expected!r}",
                    )

    return run


EXERCISE = Exercise(
    id="04.1",
    title="Recommend a strategy",
    function_name=FUNCTION_NAME,
    reference=recommend_strategy,
    description=(
        "recommend_strategy(dataset_size, task_similarity) -> 'feature_extraction', "
        "'fine_tuning' or 'from_scratch', following the course's size x similarity rule."
    ),
    cases=(
        Case("a single example", _expect_grid((1,))),
        Case("a small dataset (100 examples)", _expect_grid((100,))),
        Case("the boundary 999 / 1,000", _expect_grid((999, 1_000))),
        Case("a medium dataset (5,000 examples)", _expect_grid((5_000,))),
        Case("the boundary 9,999 / 10,000", _expect_grid((9_999, 10_000))),
        Case("the boundary 99,999 / 100,000", _expect_grid((99_999, 100_000))),
        Case("a very large dataset (1,000,000 examples)", _expect_grid((1_000_000,))),
    ),
    hints={
        "default": "First put the size in a category (small < 1,000 <= medium < 10,000 <= "
        "large < 100,000 <= very large), then read the table of Part 4.",
        "wrong_strategy": "Small and similar: feature extraction; small and different: "
        "fine-tuning; medium or large: fine-tuning; very large and different: from scratch; "
        "very large and similar: fine-tuning.",
        "boundary": "Check `<` against `<=`: 1,000 examples already count as medium, "
        "10,000 as large and 100,000 as very large.",
        "unknown_strategy": "Return exactly one of the strings 'feature_extraction', "
        "'fine_tuning' or 'from_scratch' (mind the underscores).",
        "exception": "Read the error message; your function is called with an int size "
        "and one of 'high', 'medium', 'low'.",
    },
)
