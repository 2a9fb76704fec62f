"""Training settings: ``TrainingConfig`` and ``FineTuningConfig`` (plain dicts work too)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .validation import check_choice, check_int, check_positive

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "step", "cosine", "one_cycle")
DISCRIMINATIVE = ("decay", "geometric", "ulmfit", "none")


@dataclass
class TrainingConfig:
    """How to train: epochs, learning rate, minibatch size, seed, optimizer and extras.

    ``learning_rate`` is the base rate; the optimizer is Adam by default
    (``optimizer="sgd"`` gives plain SGD with ``momentum``). ``augment`` is a
    callable ``(X_batch, rng) -> X_batch`` applied to every training minibatch,
    e.g. ``tlkit.datasets.Augmenter``. ``callbacks`` receive the events of the
    training loop (see ``tlkit.callbacks``). ``early_stopping_patience`` stops
    when the validation loss has not improved for that many epochs.
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
        check_int(self.epochs, "epochs", 1)
        check_positive(self.learning_rate, "learning_rate")
        check_int(self.batch_size, "batch_size", 1)
        check_int(self.seed, "seed", 0)
        check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        check_choice(self.schedule, "schedule", SCHEDULES)
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1); got {self.momentum}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0; got {self.weight_decay}")
        if self.augment is not None and not callable(self.augment):
            raise ValueError(f"augment must be a callable (X, rng) -> X or None; got {self.augment!r}")
        if self.early_stopping_patience is not None:
            check_int(self.early_stopping_patience, "early_stopping_patience", 1)


@dataclass
class FineTuningConfig(TrainingConfig):
    """TrainingConfig plus the fine-tuning recipe.

    * ``warmup_epochs``: the first epochs train the new head only (None: 10% of
      the epochs, at least 1; 0 disables the warm-up).
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

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.warmup_epochs is not None:
            check_int(self.warmup_epochs, "warmup_epochs", 0)
            if self.warmup_epochs > self.epochs:
                raise ValueError(
                    f"warmup_epochs must be <= epochs ({self.epochs}); got {self.warmup_epochs}"
                )
        check_choice(self.discriminative, "discriminative", DISCRIMINATIVE)
        if self.lr_range is not None:
            lo, hi = self.lr_range
            check_positive(lo, "lr_range[0]")
            check_positive(hi, "lr_range[1]")
            if lo > hi:
                raise ValueError(f"lr_range must be (lo, hi) with lo <= hi; got {self.lr_range}")
        if self.gradual_unfreeze_every is not None:
            check_int(self.gradual_unfreeze_every, "gradual_unfreeze_every", 1)

    @property
    def resolved_warmup_epochs(self) -> int:
        if self.warmup_epochs is not None:
            return self.warmup_epochs
        return min(self.epochs, max(1, round(0.1 * self.epochs)))


def as_config(config, cls: type[TrainingConfig] = TrainingConfig) -> TrainingConfig:
    """Accept a config object, a plain dict with the same keys, or None (defaults)."""
    if config is None:
        return cls()
    if isinstance(config, cls):
        return config
    if isinstance(config, TrainingConfig):
        return cls(**{f.name: getattr(config, f.name) for f in dataclasses.fields(config)})
    if isinstance(config, dict):
        valid = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(config) - set(valid))
        if unknown:
            raise ValueError(f"config has unknown key(s) {unknown}; valid keys are {valid}")
        return cls(**config)
    raise TypeError(f"config must be a {cls.__name__}, a dict or None; got {type(config).__name__}")
