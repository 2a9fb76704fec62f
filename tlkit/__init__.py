"""tlkit: transfer learning, taught by doing it, on a small NumPy engine."""

from .config import FineTuningConfig, TrainingConfig
from .history import TrainingHistory
from .pretrained import PretrainedModel

__all__ = [
    "FineTuningConfig",
    "PretrainedModel",
    "TrainingConfig",
    "TrainingHistory",
]
__version__ = "0.1.0"
