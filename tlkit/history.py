"""What a training run leaves behind: per-epoch curves and the wall time."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TrainingHistory:
    """Per-epoch loss and accuracy (and validation curves when validation data was given).

    ``learning_rates`` maps each block name to its learning rate per epoch
    (0.0 while the block is frozen), so the schedule of every block can be plotted.
    ``updates`` counts the minibatch updates the training loop really ran.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    learning_rates: dict[str, list[float]] = field(default_factory=dict)
    trainable_blocks: list[list[str]] = field(default_factory=list)
    train_time: float = 0.0
    stopped_early: bool = False
    updates: int = 0

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def summary(self) -> str:
        if not self.loss:
            return "TrainingHistory(no epochs)"
        text = f"{self.epochs} epochs: loss {self.loss[-1]:.4f}, accuracy {self.accuracy[-1]:.3f}"
        if self.val_accuracy:
            text += f", val_loss {self.val_loss[-1]:.4f}, val_accuracy {self.val_accuracy[-1]:.3f}"
        return text

    def __repr__(self) -> str:
        return f"TrainingHistory({self.summary()})"
