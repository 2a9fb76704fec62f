"""Exercise 04.1: the size x similarity rule as code.

The course's rule (``tlkit.strategy_rule`` holds the same table; a test keeps the two in
step)::

    small   (fewer than 1,000 examples):  high -> feature_extraction, else fine_tuning
    medium  (1,000 to 9,999):             fine_tuning
    large   (10,000 or more):             low -> from_scratch, else fine_tuning
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tlkit.exercises.compare import fmt
from tlkit.exercises.registry import Case, CheckFailure, Exercise

STRATEGIES = ("feature_extraction", "fine_tuning", "from_scratch")
SIMILARITIES = ("high", "medium", "low")


def apply(fn: Callable, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"answers": [[fn(size, similarity) for similarity in inputs["similarities"]]
                        for size in inputs["sizes"]]}


def rule_row(category: str, similarities: list[str]) -> list[str]:
    """The course's strategies for one size category, one per similarity (tlkit.strategy_rule's table)."""
    from tlkit.strategy_rule import RULE

    return [RULE[(category, similarity)].strategy for similarity in similarities]


def mistake_kind(size: int, similarities: list[str], row: list, column: int) -> str:
    """What kind of mistake a wrong answer is, from the student's whole row at this size.

    * the row is another size category's row: "boundary" right at 1,000 or 10,000 (within
      2 examples), else "size_category";
    * the wrong answer is the right one for another similarity at this size: "similarity";
    * anything else: "wrong_strategy".
    """
    from tlkit.strategy_rule import SIZE_BOUNDARIES, SIZE_CATEGORIES, size_category

    category = size_category(size)
    for other in SIZE_CATEGORIES:
        if other != category and list(row) == rule_row(other, similarities):
            near = any(abs(size - bound) <= 2 for bound in SIZE_BOUNDARIES.values())
            return "boundary" if near else "size_category"
    right = rule_row(category, similarities)
    if any(row[column] == right[j] for j in range(len(similarities)) if j != column):
        return "similarity"
    return "wrong_strategy"


def compare(case: Case, expected: dict, got: dict) -> None:
    sizes, similarities = case.inputs["sizes"], case.inputs["similarities"]
    for i, size in enumerate(sizes):
        for j, similarity in enumerate(similarities):
            answer, want = got["answers"][i][j], expected["answers"][i][j]
            call = f"recommend_strategy({size}, {similarity!r})"
            if type(answer) is not str or answer not in STRATEGIES:
                valid = ", ".join(repr(s) for s in STRATEGIES)
                raise CheckFailure("no_return" if answer is None else "unknown_strategy",
                                   f"{call} returned {fmt(answer)}, expected one of {valid}")
            if answer != want:
                raise CheckFailure(mistake_kind(size, similarities, got["answers"][i], j),
                                   f"{call} returned {answer!r}, expected {want!r}")


def _case(name: str, sizes: list[int], hidden: bool = False) -> Case:
    return Case(name, {"sizes": [int(s) for s in sizes], "similarities": list(SIMILARITIES)},
                hidden)


PUBLIC_CASES = (
    _case("a single example", [1]),
    _case("a small dataset (100 examples)", [100]),
    _case("the boundary 999 / 1,000", [999, 1_000]),
    _case("a medium dataset (5,000 examples)", [5_000]),
    _case("the boundary 9,999 / 10,000", [9_999, 10_000]),
    _case("a large dataset (50,000 examples)", [50_000]),
    _case("a very large dataset (1,000,000 examples)", [1_000_000]),
)


EXERCISE = Exercise(
    id="04.1",
    part=4,
    title="Recommend a strategy",
    name="recommend_strategy",
    points=10.0,
    description=(
        "recommend_strategy(dataset_size, task_similarity) -> 'feature_extraction', "
        "'fine_tuning' or 'from_scratch', following the course's size x similarity rule "
        "(small < 1,000 <= medium < 10,000 <= large)."
    ),
    public_cases=PUBLIC_CASES,
    apply=apply,
    compare=compare,
    hints={
        "default": "First put the size in a category (small < 1,000 <= medium < 10,000 <= "
        "large), then read the table of Part 4.",
        "wrong_strategy": "Small and similar: feature extraction; small and different: "
        "fine-tuning; medium: fine-tuning; large and different ('low'): from scratch; "
        "large and similar: fine-tuning.",
        "boundary": "Check `<` against `<=`: 1,000 examples already count as medium and "
        "10,000 as large.",
        "size_category": "Your answers at this size are those of another size category: small "
        "is below 1,000 examples, medium 1,000 to 9,999, large 10,000 or more.",
        "similarity": "The size category is right, the similarity is not: only 'high' similarity "
        "makes a small dataset feature extraction, and only 'low' similarity makes a large one "
        "from scratch (compare task_similarity with == against the exact strings).",
        "unknown_strategy": "Return exactly one of the strings 'feature_extraction', "
        "'fine_tuning' or 'from_scratch' (mind the underscores).",
        "exception": "Read the error message; your function is called with an int size "
        "and one of 'high', 'medium', 'low'.",
    },
    library_names=(
        "tlkit.strategy_rule",
        "tlkit.strategy_rule.choose_strategy",
        "tlkit.strategy_rule.size_category",
        "tlkit.manager.TransferLearningManager",
    ),
    fallback="tlkit.strategy_rule.choose_strategy",
)
