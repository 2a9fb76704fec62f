"""Hooks into the training loop: printing, progress bars, live plots, early stopping.

A callback overrides any of the ``on_*`` methods. ``logs`` is a dict with the
epoch's ``loss``, ``accuracy`` (and ``val_loss``, ``val_accuracy`` when
validation data is given) plus ``epoch``, ``epochs`` and ``learning_rate``.
Setting ``trainer.stop_training = True`` in ``on_batch_end`` ends training after that
batch; in ``on_epoch_end``, after that epoch. ``on_batch_begin`` may change
``trainer.optimizer.lr`` for the coming update (the learning-rate finder does).
"""

from __future__ import annotations

import math
from collections.abc import Callable


class Callback:
    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer, epoch: int) -> None: ...

    def on_batch_begin(self, trainer, batch: int) -> None:
        """Before the batch's update; ``trainer.optimizer.lr`` is the rate it will use."""

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, trainer) -> None: ...


#: The events the training loop emits, in the order of one epoch: every callback must have them all.
CALLBACK_EVENTS: tuple[str, ...] = tuple(name for name in vars(Callback) if name.startswith("on_"))


class PrintProgress(Callback):
    """One line per epoch (what ``verbose=True`` turns on)."""

    def __init__(self, printer: Callable[[str], None] = print) -> None:
        self.printer = printer

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        line = f"epoch {epoch + 1}/{logs['epochs']}: loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.3f}"
        if "val_loss" in logs:
            line += f", val_loss {logs['val_loss']:.4f}, val_accuracy {logs['val_accuracy']:.3f}"
        self.printer(line)


class LambdaCallback(Callback):
    """Turn plain functions into a callback: ``LambdaCallback(on_epoch_end=f)``."""

    def __init__(self, on_epoch_end=None, on_batch_end=None, on_train_begin=None, on_train_end=None):
        self._epoch_end, self._batch_end = on_epoch_end, on_batch_end
        self._train_begin, self._train_end = on_train_begin, on_train_end

    def on_train_begin(self, trainer) -> None:
        if self._train_begin:
            self._train_begin(trainer)

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None:
        if self._batch_end:
            self._batch_end(trainer, batch, logs)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self._epoch_end:
            self._epoch_end(trainer, epoch, logs)

    def on_train_end(self, trainer) -> None:
        if self._train_end:
            self._train_end(trainer)


class EarlyStopping(Callback):
    """Stop when the monitored value (validation loss by default) stops improving."""

    def __init__(self, patience: int = 3, monitor: str = "val_loss") -> None:
        self.patience, self.monitor = patience, monitor
        self.best, self.waited = math.inf, 0

    def on_train_begin(self, trainer) -> None:
        self.best, self.waited = math.inf, 0

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = logs.get(self.monitor, logs["loss"])
        if value < self.best - 1e-7:
            self.best, self.waited = value, 0
            return
        self.waited += 1
        if self.waited >= self.patience:
            trainer.stop_training = True
