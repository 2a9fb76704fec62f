"""Check a claim the course text makes, with its margin, instead of pinning printed digits.

Training amplifies floating-point rounding, so an accuracy printed on one machine moves
in its third digit on another BLAS kernel or CPU. What the lesson says (a sign, a margin,
"k of 5 seeds") must hold everywhere, so a notebook states it with :func:`claim`::

    claim("fine-tuning beats from-scratch by at least 2 points on average", gap >= 0.02)

The printed line does not contain the measured numbers, so the cell's output is the same
on every machine where the claim holds; where it does not, the cell fails with the claim
and what was measured.
"""

from __future__ import annotations

__all__ = ["ClaimFailed", "claim"]


class ClaimFailed(AssertionError):
    """A claim of the course text did not hold when measured."""


def claim(statement: str, holds: bool, *, measured: str = "") -> None:
    """Print ``claim holds: <statement>`` or raise :class:`ClaimFailed` with what was measured.

    ``holds`` must be a real bool (a NumPy bool is accepted): a claim is never a number or
    an array that happens to be truthy.
    """
    if not isinstance(statement, str) or not statement.strip():
        raise TypeError(f"statement must be a non-empty str, got {statement!r}")
    if type(holds).__name__ not in ("bool", "bool_"):
        raise TypeError(f"holds must be a bool (the claim's test), got {type(holds).__name__}: {holds!r}")
    if not holds:
        detail = f" (measured: {measured})" if measured else ""
        raise ClaimFailed(f"claim does not hold: {statement}{detail}")
    print(f"claim holds: {statement}")
