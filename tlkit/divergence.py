"""When training diverges: the error, a message naming the cause, and a guard that stops early.

A loss that turns NaN, infinite or absurdly large means the weights were thrown far from any
sensible solution. The message says why in terms of what was used: on the very first minibatch
no learning rate can be the cause (the input's scale is); later, the rates each block really
used are listed and the highest is named.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .callbacks import Callback

if TYPE_CHECKING:
    from .training import Trainer


class TrainingDivergedError(RuntimeError):
    """The loss became NaN, infinite or absurdly large; the message names the cause
    (:func:`divergence_message`)."""


def divergence_message(trainer: Trainer, loss: float, epoch: int, batch: int,
                       input_scale: float, input_name: str = "X") -> str:
    """Why training diverged, in terms of what was actually used.

    * On the very first minibatch no update has happened yet, so no learning rate can be
      the cause: the input's scale is (``input_scale``, the largest ``|value|`` of the input,
      after the augmenter if there is one).
    * Later, the rates each trainable block really used (the scheduled rate times its
      multiplier from ``set_layer_learning_rate`` or the discriminative recipe) are listed,
      and the highest is named with a tenfold lower suggestion.
    """
    where = f"the minibatch loss reached {loss:.3g} at epoch {epoch + 1}, batch {batch + 1}"
    augmented = " (after the augmenter)" if trainer.config.augment is not None else ""
    if epoch == 0 and batch == 0:
        return (
            f"training diverged: {where}, before any update, so no learning rate is the cause: "
            f"the values of {input_name}{augmented} reach {input_scale:.3g}, a scale at which the "
            f"network's outputs explode. Rescale {input_name} (e.g. standardise it to mean 0 and "
            "standard deviation 1)."
        )
    rates = {block.name: trainer.block_learning_rate(block.name)
             for block in trainer.network.blocks if block.trainable}
    listed = ", ".join(f"{name} {rate:.3g}" for name, rate in rates.items())
    config_lr = trainer.config.learning_rate
    top, top_rate = max(rates.items(), key=lambda item: item[1]) if rates else ("", config_lr)
    text = f"training diverged: {where}. The learning rates in use: {listed}. "
    if top_rate > config_lr * (1 + 1e-9):
        text += (
            f"The highest is {top}'s {top_rate:.3g}, above learning_rate={config_lr:g} (set by "
            f"set_layer_learning_rate or the discriminative recipe): lower it, e.g. to {top_rate / 10:.3g}."
        )
    else:
        text += (f"Try a lower learning rate, e.g. learning_rate={config_lr / 10:g} "
                 "(tlkit.lr_finder.lr_find suggests one).")
    if input_scale > 1e4:
        text += f" Note also that the values of {input_name}{augmented} reach {input_scale:.3g}: standardise them."
    return text


class DivergenceGuard(Callback):
    """Stop a run whose loss explodes, even before it turns into NaN.

    A cross-entropy far above ``log(num_classes)`` (the loss of a uniform guess) means
    the weights have been thrown far away from any sensible solution: the classic sign
    of a learning rate that is too high.
    """

    def __init__(self, num_classes: int, factor: float = 100.0, input_scale: float = 0.0) -> None:
        self.uniform_loss = math.log(num_classes)
        self.limit = max(factor * self.uniform_loss, 50.0)
        self.input_scale = input_scale  # largest |value| of the training input, for the message
        self.epoch = 0

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        self.epoch = epoch

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None:
        loss = logs["loss"]
        if loss > self.limit:
            raise TrainingDivergedError(
                divergence_message(trainer, loss, self.epoch, batch, self.input_scale, trainer.input_name)
                + f" (A uniform guess scores {self.uniform_loss:.3g}.)"
            )
