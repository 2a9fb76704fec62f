"""tlkit: transfer learning, taught by doing it, on a small NumPy engine."""

from .config import FineTuningConfig, TrainingConfig
from .history import TrainingHistory
from .manager import TransferLearningManager
from .pretrained import PretrainedModel
from .strategies import FeatureExtractor, FineTuner, FromScratch

__all__ = [
    "FeatureExtractor",
    "FineTuner",
    "FineTuningConfig",
    "FromScratch",
    "PretrainedModel",
    "TrainingConfig",
    "TrainingHistory",
    "TransferLearningManager",
]
__version__ = "0.1.0"
