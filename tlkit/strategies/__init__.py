"""The transfer strategies of the course: feature extraction, fine-tuning, from scratch, and
the parameter-efficient AdapterTuner (adapters, LoRA, an input stem on a frozen base).

All three share one API (``train``, ``predict``, ``predict_proba``, ``evaluate``,
``score``) and one training loop (:mod:`tlkit.training`).
"""

from .adapters import AdapterTuner
from .discriminative import discriminative_multipliers
from .feature_extraction import FeatureExtractor
from .fine_tuning import FineTuner
from .from_scratch import FromScratch, random_base
from .strategy import StrategyBase
from .unfreezing import UnfreezeSchedule

__all__ = [
    "AdapterTuner",
    "FeatureExtractor",
    "FineTuner",
    "FromScratch",
    "StrategyBase",
    "UnfreezeSchedule",
    "discriminative_multipliers",
    "random_base",
]
