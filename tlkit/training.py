"""The one training loop behind every strategy: minibatches, history, callbacks."""

from __future__ import annotations

import math
import time

import numpy as np

from .callbacks import CALLBACK_EVENTS, Callback, EarlyStopping, PrintProgress
from .config import TrainingConfig
from .divergence import TrainingDivergedError, divergence_message
from .history import TrainingHistory
from .nn.dropout import Dropout
from .nn.losses import softmax_cross_entropy
from .nn.network import Network
from .nn.optimizers import SGD, Adam
from .schedules import get_schedule


def make_optimizer(config: TrainingConfig):
    if config.optimizer == "sgd":
        return SGD(lr=config.learning_rate, momentum=config.momentum, weight_decay=config.weight_decay)
    return Adam(lr=config.learning_rate, weight_decay=config.weight_decay)


def predict_logits(network: Network, X: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Inference-mode output (``Network.infer``) in batches of at most ``batch_size``, written into
    one preallocated array: working memory is bounded by the batch size, not by ``len(X)``."""
    if len(X) <= batch_size:
        return network.infer(X)
    first = network.infer(X[:batch_size])
    out = np.empty((len(X), *first.shape[1:]), dtype=first.dtype)
    out[:batch_size] = first
    for start in range(batch_size, len(X), batch_size):
        out[start:start + batch_size] = network.infer(X[start:start + batch_size])
    return out


def evaluate(network: Network, X: np.ndarray, y: np.ndarray, batch_size: int = 512) -> tuple[float, float]:
    """Mean cross-entropy and accuracy on (X, y), in inference mode."""
    logits = predict_logits(network, X, batch_size)
    loss, _ = softmax_cross_entropy(logits, y)
    return float(loss), float(np.mean(np.argmax(logits, axis=1) == y))


def minibatch_sizes(n: int, batch_size: int) -> list[int]:
    """The sizes of one epoch's minibatches: ``k = ceil(n / batch_size)`` balanced batches.

    The sizes differ by at most one (``n // k + 1`` for the first ``n % k`` batches, ``n // k``
    for the rest), so no epoch ends on a tiny batch: 100 examples at batch 32 give
    4 batches of 25, not 32 + 32 + 32 + 4. An epoch is therefore exactly ``k`` updates.
    """
    k = math.ceil(n / batch_size)
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


class Trainer:
    """Runs ``config.epochs`` epochs of minibatch training on ``network``.

    Every epoch shuffles the examples and splits them into ``ceil(n / batch_size)``
    balanced minibatches (:func:`minibatch_sizes`), one update each; ``history.updates``
    counts the updates really run. A callback may set ``stop_training`` at any batch.

    ``multipliers`` maps block names to learning-rate multipliers (missing: 1.0);
    callbacks may change it, or the blocks' ``trainable`` flags, between epochs.
    """

    def __init__(
        self,
        network: Network,
        config: TrainingConfig,
        multipliers: dict[str, float] | None = None,
        callbacks: list[Callback] | None = None,
    ) -> None:
        self.network = network
        self.config = config
        self.multipliers = dict(multipliers or {})
        self.callbacks = list(callbacks or []) + list(config.callbacks)
        if config.verbose:
            self.callbacks.append(PrintProgress())
        if config.early_stopping_patience is not None:
            self.callbacks.append(EarlyStopping(config.early_stopping_patience))
        self.rng = np.random.default_rng(config.seed)
        self.input_name = "X"  # what a divergence message calls the input (see divergence_message)
        self.optimizer = make_optimizer(config)
        self.schedule = get_schedule(config.schedule)
        self.history = TrainingHistory()
        self.stop_training = False
        self._groups: list = []
        self._seed_dropout()

    def _seed_dropout(self) -> None:
        for block in self.network.blocks:
            for _, layer in block.layers:
                if isinstance(layer, Dropout):
                    layer.rng = np.random.default_rng(self.rng.integers(2**32))

    def _emit(self, event: str, *args) -> None:
        assert event in CALLBACK_EVENTS, event  # the events a callback is checked for
        for callback in self.callbacks:
            getattr(callback, event)(self, *args)

    def block_learning_rate(self, name: str) -> float:
        block = self.network[name]
        return self.optimizer.lr * self.multipliers.get(name, 1.0) if block.trainable else 0.0

    def _train_step(self, xb: np.ndarray, yb: np.ndarray, epoch: int, batch: int) -> tuple[float, int]:
        logits = self.network.forward(xb, training=True)
        loss, grad = softmax_cross_entropy(logits, yb)
        if not math.isfinite(loss):
            scale = float(np.max(np.abs(xb))) if xb.size else 0.0
            raise TrainingDivergedError(divergence_message(self, loss, epoch, batch, scale, self.input_name))
        self.network.backward(grad)
        self.optimizer.step(self._groups)
        return loss, int(np.count_nonzero(np.argmax(logits, axis=1) == yb))

    def fit(self, X: np.ndarray, y: np.ndarray, X_val=None, y_val=None) -> TrainingHistory:
        config, n = self.config, len(X)
        steps_per_epoch = math.ceil(n / config.batch_size)
        total_steps = steps_per_epoch * config.epochs
        start = time.perf_counter()
        self._emit("on_train_begin")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for epoch in range(config.epochs):
                self._emit("on_epoch_begin", epoch)
                # Callbacks change frozen blocks and multipliers between epochs, not within one;
                # gradients are written in place, so the groups stay valid for the whole epoch.
                self._groups = self.network.param_groups(self.multipliers)
                batches = np.array_split(self.rng.permutation(n), steps_per_epoch)
                loss_sum, correct, seen = 0.0, 0, 0
                for batch, idx in enumerate(batches):
                    xb = X[idx]
                    if config.augment is not None:
                        xb = np.asarray(config.augment(xb, self.rng), dtype=np.float32)
                    step_index = epoch * steps_per_epoch + batch
                    self.optimizer.lr = config.learning_rate * self.schedule(step_index / total_steps)
                    self._emit("on_batch_begin", batch)
                    loss, hits = self._train_step(xb, y[idx], epoch, batch)
                    self.history.updates += 1
                    loss_sum += loss * len(idx)
                    correct += hits
                    seen += len(idx)
                    self._emit("on_batch_end", batch, {"loss": loss, "batch_size": len(idx)})
                    if self.stop_training:
                        break
                logs = self._end_epoch(epoch, loss_sum / seen, correct / seen, X_val, y_val)
                self._emit("on_epoch_end", epoch, logs)
                if self.stop_training:
                    self.history.stopped_early = epoch + 1 < config.epochs or seen < n
                    break
        self.history.train_time = time.perf_counter() - start
        self._emit("on_train_end")
        return self.history

    def _end_epoch(self, epoch, loss, accuracy, X_val, y_val) -> dict:
        history = self.history
        history.loss.append(float(loss))
        history.accuracy.append(float(accuracy))
        history.trainable_blocks.append([b.name for b in self.network.blocks if b.trainable])
        for block in self.network.blocks:
            history.learning_rates.setdefault(block.name, []).append(self.block_learning_rate(block.name))
        logs = {"epoch": epoch, "epochs": self.config.epochs, "loss": float(loss),
                "accuracy": float(accuracy), "learning_rate": self.optimizer.lr}
        if X_val is not None:
            val_loss, val_accuracy = evaluate(self.network, X_val, y_val)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_accuracy)
            logs.update(val_loss=val_loss, val_accuracy=val_accuracy)
        return logs
