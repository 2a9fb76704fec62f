"""The transfer strategies of the course: feature extraction, fine-tuning, from scratch.

All three share one API (``train``, ``predict``, ``predict_proba``, ``evaluate``,
``score``) and one training loop (:mod:`tlkit.training`).
"""

from .discriminative import discriminative_multipliers
from .feature_extraction import FeatureExtractor
from .fine_tuning import FineTuner
from .from_scratch import FromScratch, random_base
from .strategy import StrategyBase
from .unfreezing import UnfreezeSchedule

__all__ = [
    "FeatureExtractor",
    "FineTuner",
    "FromScratch",
    "StrategyBase",
    "UnfreezeSchedule",
    "discriminative_multipliers",
    "random_base",
]
