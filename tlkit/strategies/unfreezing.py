"""Warm-up and gradual unfreezing: which blocks train in which epoch.

* **Warm-up** (Keras's two-phase recipe, fastai's ``fine_tune``): a new head starts
  random, and its large, noisy gradients would wreck the pretrained blocks below it.
  So for the first ``warmup_epochs`` only the head trains; then the unfrozen blocks join.
* **Gradual unfreezing** (ULMFiT, Howard & Ruder 2018): after the warm-up, unfreeze one
  more block from the top every ``every`` epochs, until all the blocks chosen for
  fine-tuning train.
"""

from __future__ import annotations

from ..argcheck import check_int
from ..callbacks import Callback


class UnfreezeSchedule(Callback):
    """Sets each block's ``trainable`` flag at the start of every epoch.

    ``blocks`` are the blocks to fine-tune, bottom to top. The head is always trainable.
    """

    def __init__(self, blocks: list[str], warmup_epochs: int = 0, every: int | None = None) -> None:
        self.blocks = list(blocks)
        self.warmup_epochs = check_int(warmup_epochs, "warmup_epochs", 0)
        self.every = None if every is None else check_int(every, "gradual_unfreeze_every", 1)

    def trainable_at(self, epoch: int) -> list[str]:
        """The blocks (of ``self.blocks``) that train in ``epoch`` (0-based)."""
        if epoch < self.warmup_epochs:
            return []
        if self.every is None:
            return list(self.blocks)
        count = 1 + (epoch - self.warmup_epochs) // self.every
        return self.blocks[max(len(self.blocks) - count, 0):]

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        active = set(self.trainable_at(epoch))
        for name in self.blocks:
            trainer.network[name].trainable = name in active
