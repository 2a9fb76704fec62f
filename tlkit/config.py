"""Training settings: ``TrainingConfig`` and ``FineTuningConfig`` (plain dicts work too).

A config is checked when it is built *and again when it is used* (every ``train()``
calls :func:`as_config`, which calls :meth:`TrainingConfig.validate`), so ``cfg.epochs = 0``
after construction is refused by the next ``train()`` with the same message.

Bound on work: one ``train()`` call runs at most :data:`MAX_UPDATES` minibatch updates
(``epochs * ceil(n / batch_size)``). An absurd ``epochs=10**9`` is refused at once with
that reason instead of running for a day; a genuinely long run is a loop of ``train()`` calls.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .argcheck import check_bool, check_choice, check_int, check_positive, check_real
from .callbacks import CALLBACK_EVENTS
from .schedules import SCHEDULES

OPTIMIZERS = ("adam", "sgd")
DISCRIMINATIVE = ("decay", "geometric", "ulmfit", "none")
#: The most minibatch updates one train() call may run (minutes for a head, hours for ``deep``).
MAX_UPDATES = 100_000


@dataclass
class TrainingConfig:
    """How to train: epochs, learning rate, minibatch size, seed, optimizer and extras.

    ``learning_rate`` is the base rate; the optimizer is Adam by default
    (``optimizer="sgd"`` gives plain SGD with ``momentum``). ``augment`` is a
    callable ``(X_batch, rng) -> X_batch`` applied to every training minibatch,
    e.g. ``tlkit.datasets.Augmenter``. ``callbacks`` receive the events of the
    training loop (see ``tlkit.callbacks``). ``early_stopping_patience`` stops
    when the validation loss has not improved for that many epochs.

    Every field is checked on construction and again by every ``train()`` that uses the
    config; ``epochs`` is at most :data:`MAX_UPDATES` (see the module docstring).
    """

    epochs: int = 10
    learning_rate: float = 0.01
    batch_size: int = 32
    verbose: bool = False
    seed: int = 0
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "constant"
    augment: Any = None
    callbacks: list = field(default_factory=list)
    early_stopping_patience: int | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> TrainingConfig:
        """Check every field (again); numbers are normalised (a Fraction rate becomes a float).

        Raises a ValueError naming the field, the value and what is valid.
        """
        check_int(self.epochs, "epochs", 1, MAX_UPDATES)
        self.learning_rate = check_positive(self.learning_rate, "learning_rate")
        check_int(self.batch_size, "batch_size", 1)
        self.verbose = check_bool(self.verbose, "verbose")
        check_int(self.seed, "seed", 0)
        check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        check_choice(self.schedule, "schedule", SCHEDULES)
        self.momentum = check_real(self.momentum, "momentum", 0.0, 1.0, high_open=True)
        self.weight_decay = check_real(self.weight_decay, "weight_decay", 0.0)
        if self.augment is not None and not callable(self.augment):
            raise ValueError(f"augment must be a callable (X, rng) -> X or None; got {self.augment!r}")
        self.callbacks = check_callbacks(self.callbacks)
        if self.early_stopping_patience is not None:
            check_int(self.early_stopping_patience, "early_stopping_patience", 1)
        return self


def check_callbacks(callbacks) -> list:
    """None -> []; otherwise a list of objects with the training loop's events (tlkit.callbacks)."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, list | tuple):
        raise ValueError(
            f"callbacks must be a list of tlkit.callbacks.Callback objects (or None); "
            f"got {type(callbacks).__name__}"
        )
    for index, callback in enumerate(callbacks):
        missing = [e for e in CALLBACK_EVENTS if not callable(getattr(callback, e, None))]
        if missing:
            raise ValueError(
                f"callbacks[{index}] must be a tlkit.callbacks.Callback (with {', '.join(CALLBACK_EVENTS)}); "
                f"got {callback!r}, which lacks {', '.join(missing)}"
            )
    return list(callbacks)


@dataclass
class FineTuningConfig(TrainingConfig):
    """TrainingConfig plus the fine-tuning recipe.

    * ``warmup_epochs``: the first epochs train the new head only (None:
      :func:`default_warmup_epochs`; 0 disables the warm-up).
    * ``discriminative``: per-block learning-rate multipliers for unfrozen
      blocks: ``"decay"`` (0.01 early, 0.1 middle, 1.0 last block and head),
      ``"geometric"`` (fastai's ``slice(lo, hi)``: ``lr_range`` spaced
      geometrically from the lowest unfrozen block to the head), ``"ulmfit"``
      (each block 2.6 times lower than the one above) or ``"none"``.
    * ``gradual_unfreeze_every``: after the warm-up, unfreeze one more block
      from the top every k epochs (ULMFiT's gradual unfreezing).
    """

    warmup_epochs: int | None = None
    discriminative: str = "decay"
    lr_range: tuple[float, float] | None = None
    gradual_unfreeze_every: int | None = None

    def validate(self) -> FineTuningConfig:
        super().validate()
        if self.warmup_epochs is not None:
            check_int(self.warmup_epochs, "warmup_epochs", 0)
            if self.warmup_epochs > self.epochs:
                raise ValueError(
                    f"warmup_epochs must be <= epochs ({self.epochs}); got {self.warmup_epochs}"
                )
        check_choice(self.discriminative, "discriminative", DISCRIMINATIVE)
        if self.lr_range is not None:
            if not isinstance(self.lr_range, tuple | list) or len(self.lr_range) != 2:
                raise ValueError(
                    f"lr_range must be None or a pair (lo, hi) of learning rates; got {self.lr_range!r}"
                )
            lo = check_positive(self.lr_range[0], "lr_range[0]")
            hi = check_positive(self.lr_range[1], "lr_range[1]")
            if lo > hi:
                raise ValueError(f"lr_range must be (lo, hi) with lo <= hi; got {self.lr_range}")
            self.lr_range = (lo, hi)
        if self.gradual_unfreeze_every is not None:
            check_int(self.gradual_unfreeze_every, "gradual_unfreeze_every", 1)
        return self

    @property
    def resolved_warmup_epochs(self) -> int:
        """``warmup_epochs``, or :func:`default_warmup_epochs` of ``epochs`` when it is None."""
        if self.warmup_epochs is not None:
            return self.warmup_epochs
        return default_warmup_epochs(self.epochs)


def default_warmup_epochs(epochs: int) -> int:
    """The warm-up when none is given: 10% of the epochs, at least 1, and never every epoch.

    A one-epoch run therefore has no warm-up: a warm-up as long as the run would train the
    head only and leave every block it was asked to fine-tune untouched.
    """
    return 0 if epochs <= 1 else max(1, round(0.1 * epochs))


def as_config(config, cls: type[TrainingConfig] = TrainingConfig) -> TrainingConfig:
    """Accept a config object, a plain dict with the same keys, or None (defaults).

    A config object is checked again here: edits made after construction are refused
    with the same messages as at construction.
    """
    if config is None:
        return cls()
    if isinstance(config, cls):
        return config.validate()
    if isinstance(config, TrainingConfig):
        return cls(**{f.name: getattr(config, f.name) for f in dataclasses.fields(config)})
    if isinstance(config, dict):
        valid = [f.name for f in dataclasses.fields(cls)]
        odd = [key for key in config if not isinstance(key, str)]
        if odd:
            raise ValueError(f"config keys must be field names (str); got key(s) {odd}; valid keys are {valid}")
        unknown = sorted(set(config) - set(valid))
        if unknown:
            raise ValueError(f"config has unknown key(s) {unknown}; valid keys are {valid}")
        return cls(**config)
    raise TypeError(f"config must be a {cls.__name__}, a dict or None; got {type(config).__name__}")


def check_budget(config: TrainingConfig, n_samples: int) -> int:
    """The number of minibatch updates ``config`` asks for on ``n_samples`` examples,
    refused (ValueError naming epochs) when above :data:`MAX_UPDATES`."""
    updates = config.epochs * math.ceil(n_samples / config.batch_size)
    if updates > MAX_UPDATES:
        raise ValueError(
            f"epochs={config.epochs:,} on {n_samples:,} examples at batch_size={config.batch_size} is "
            f"{updates:,} minibatch updates; one train() call runs at most {MAX_UPDATES:,} "
            "(tlkit.config.MAX_UPDATES): use fewer epochs or a larger batch_size, or call train() repeatedly"
        )
    return updates
