"""The interactive panels of the workbook (ipywidgets 7.7, Colab's, or 8).

Each function returns a panel object: display it (the last line of a cell) to get the
controls, or drive it from Python through its widgets (set ``.value``, call ``.click()``),
which is how the tests check what every control does.

=========================  ===============================================================
:func:`freeze_panel`       one checkbox per block, live trainable-parameter count (Part 1)
:func:`lr_panel`           a log-scale learning-rate slider per block and the head (Part 3)
:func:`training_dashboard` Train button, progress bar, live loss/accuracy curves (Parts 2-3)
:func:`strategy_explorer`  dataset size x similarity -> recommendation and reasoning (Part 4)
=========================  ===============================================================

The panels never print into the cell, and they display with a fixed text form, so a
notebook using them gives the same compared output under nbval on every run.
"""

from .dashboard import TrainingDashboard, training_dashboard
from .explorer import StrategyExplorer, strategy_explorer
from .freeze import FreezePanel, freeze_panel
from .learning_rates import LRPanel, lr_panel

__all__ = [
    "FreezePanel",
    "LRPanel",
    "StrategyExplorer",
    "TrainingDashboard",
    "freeze_panel",
    "lr_panel",
    "strategy_explorer",
    "training_dashboard",
]
