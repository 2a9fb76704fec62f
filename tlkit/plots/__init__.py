"""The pictures of the course, in matplotlib (imported on first use of ``tlkit.plots``).

Every function takes an optional ``ax`` (one Axes, or a sequence of Axes for plots with
several panels) and returns what it drew on: an Axes, or a NumPy array of Axes like
``plt.subplots``. Nothing calls ``plt.show()``: in a notebook the figure appears at the end
of the cell (end the line with ``;`` to hide the returned object's text).

=========================  =================================================================
data                       :func:`show_images`
the pretrained model       :func:`plot_architecture`, :func:`plot_filters`, :func:`plot_feature_maps`
features                   :func:`plot_feature_projection` (2-D PCA by SVD)
training                   :func:`plot_history`, :func:`plot_lr_per_block`, :func:`plot_lr_finder`
choosing a strategy        :func:`plot_strategy_comparison`, :func:`plot_learning_curves`,
                           :func:`plot_winner_map` (with :func:`winner_table`)
a different domain         :func:`plot_adapter_layout`, :func:`plot_parameter_efficiency`
=========================  =================================================================
"""

from .adapters import plot_adapter_layout, plot_parameter_efficiency
from .architecture import architecture_rows, plot_architecture
from .comparison import (
    comparison_table,
    plot_learning_curves,
    plot_strategy_comparison,
    plot_winner_map,
    summarize_results,
    winner_table,
)
from .filters import feature_maps, filter_images, plot_feature_maps, plot_filters
from .history import plot_history
from .images import show_images
from .learning_rates import plot_lr_finder, plot_lr_per_block
from .projection import pca_2d, plot_feature_projection

__all__ = [
    "architecture_rows",
    "comparison_table",
    "feature_maps",
    "filter_images",
    "pca_2d",
    "plot_adapter_layout",
    "plot_architecture",
    "plot_feature_maps",
    "plot_feature_projection",
    "plot_filters",
    "plot_history",
    "plot_learning_curves",
    "plot_lr_finder",
    "plot_lr_per_block",
    "plot_parameter_efficiency",
    "plot_strategy_comparison",
    "plot_winner_map",
    "show_images",
    "summarize_results",
    "winner_table",
]
