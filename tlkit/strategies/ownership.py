"""A base belongs to the strategy that trained it.

A strategy freezes, unfreezes and trains the base object it was given (the course's contract).
Two strategies on one base therefore change each other: fine-tuning moves the weights a feature
extractor predicts with. So a strategy claims its base when it trains, and a warning names both
when the base was already trained by another. The owner is remembered by a token, so
``base.copy()`` starts unowned and a deep copy of a strategy owns its copied base.
"""

from __future__ import annotations

import warnings


def claim_base(strategy, stacklevel: int = 3) -> None:
    """Mark ``strategy.base`` as trained by ``strategy``; warn when another trained strategy owns it."""
    token = strategy.__dict__.setdefault("_owner_token", object())
    base = strategy.base
    previous = getattr(base, "_trained_by", None)
    mine = type(strategy).__name__
    if previous is not None and previous[0] is not token:
        warnings.warn(
            f"{mine}.train: this base was already trained by a {previous[1]}, which shares it; "
            f"training the {mine} sets the base's frozen flags, and changes the weights of any "
            f"block it trains, under the {previous[1]}'s predictions. Give each strategy its own "
            f"copy: {mine}(base.copy(), ...).",
            UserWarning, stacklevel=stacklevel,
        )
    try:
        base._trained_by = (token, mine)
    except AttributeError:  # a base that does not take attributes: nothing to remember
        pass
