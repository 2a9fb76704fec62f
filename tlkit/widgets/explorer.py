"""The strategy explorer (Part 4): dataset size and task similarity in, recommendation out."""

from __future__ import annotations

import math
import re

import ipywidgets as widgets

from .. import strategy_rule
from ..architectures import ARCHITECTURES, check_architecture
from ..manager import TransferLearningManager
from ..strategy_rule import STRATEGY_LABELS, check_similarity
from ._common import Panel, PanelBox, escape

MAX_SIZE = 1_000_000
LOG_STEP = 0.01  # the slider's step in log10 units: it cannot hold 999 (it snaps to 10**3.00)
SIMILARITY_OPTIONS = [
    ("high: same domain, new classes", "high"),
    ("medium: a shifted domain", "medium"),
    ("low: a different task", "low"),
]
CELL_COLORS = {"feature_extraction": "#cfe2f3", "fine_tuning": "#fde2c0", "from_scratch": "#d5ecd4"}


def slider_position(size: float) -> float:
    """The slider value nearest to ``size`` on its log grid (what the browser would snap it to)."""
    return float(10 ** (round(math.log10(max(1.0, float(size))) / LOG_STEP) * LOG_STEP))


def same_position(slider_value: float, size: float) -> bool:
    """True when ``slider_value`` is the slider's grid point for ``size`` (within half a step)."""
    if slider_value <= 0 or size <= 0:
        return False
    return abs(math.log10(slider_value) - math.log10(size)) <= LOG_STEP / 2 + 1e-6


def _recommend(dataset_size: int, similarity: str, architecture: str):
    return TransferLearningManager.recommend_strategy(dataset_size, similarity, architecture)


def _rule_table(size_category: str, similarity: str) -> str:
    """The size x similarity table of the rule, the current cell outlined."""
    head = "".join(f"<th style='padding:2px 6px'>{s} similarity</th>" for s in strategy_rule.SIMILARITIES)
    bounds = {"small": "&lt; 1,000", "medium": "1,000-9,999", "large": "&ge; 10,000"}
    rows = []
    for category in strategy_rule.SIZE_CATEGORIES:
        cells = []
        for sim in strategy_rule.SIMILARITIES:
            cell = strategy_rule.RULE[(category, sim)]
            here = category == size_category and sim == similarity
            style = (f"padding:2px 6px;background:{CELL_COLORS[cell.strategy]};"
                     + ("outline:3px solid #c00;font-weight:bold" if here else ""))
            freeze = f" (freeze {cell.freeze:.0%})" if cell.strategy == "fine_tuning" else ""
            cells.append(f"<td style='{style}'>{STRATEGY_LABELS[cell.strategy]}{freeze}</td>")
        rows.append(f"<tr><th style='padding:2px 6px;text-align:left'>{category.replace('_', ' ')} "
                    f"({bounds[category]})</th>{''.join(cells)}</tr>")
    return (f"<table style='border-collapse:separate;border-spacing:2px;font-size:12px'>"
            f"<tr><th></th>{head}</tr>{''.join(rows)}</table>")


class StrategyExplorer(Panel):
    """Move the dataset-size slider or change the similarity: the recommendation follows.

    Attributes: ``size_slider`` (FloatLogSlider, 1 .. 1,000,000), ``size_box`` (BoundedIntText,
    the exact number; the two are kept in step), ``similarity`` and ``architecture``
    (Dropdowns), ``output`` (HTML), ``recommendation`` (the manager's last answer), ``widget``.
    """

    label = "tlkit strategy explorer"

    def __init__(self, dataset_size: int = 100, similarity: str = "high", architecture: str = "medium") -> None:
        if isinstance(dataset_size, bool) or not isinstance(dataset_size, int) or not 1 <= dataset_size <= MAX_SIZE:
            raise ValueError(f"dataset_size must be an integer in 1..{MAX_SIZE:,}; got {dataset_size!r}")
        check_similarity(similarity, "similarity")
        check_architecture(architecture)
        self._syncing = False
        self.size_slider = widgets.FloatLogSlider(
            value=slider_position(dataset_size), base=10, min=0, max=math.log10(MAX_SIZE), step=LOG_STEP,
            description="examples", readout=False, continuous_update=True,
            layout=widgets.Layout(width="420px"),
        )
        self.size_box = widgets.BoundedIntText(value=dataset_size, min=1, max=MAX_SIZE, description="exactly",
                                               layout=widgets.Layout(width="200px"))
        self.similarity = widgets.Dropdown(options=SIMILARITY_OPTIONS, value=similarity,
                                           description="similarity", layout=widgets.Layout(width="420px"))
        self.architecture = widgets.Dropdown(options=list(ARCHITECTURES), value=architecture,
                                             description="model")
        self.output = widgets.HTML()
        self.recommendation = None
        for part, css in ((self.size_slider, "tlkit-size-slider"), (self.size_box, "tlkit-size-box"),
                          (self.similarity, "tlkit-similarity"), (self.architecture, "tlkit-architecture"),
                          (self.output, "tlkit-recommendation")):
            part.add_class(css)
        self.size_slider.observe(self._slider_changed, names="value")
        self.size_box.observe(self._box_changed, names="value")
        self.similarity.observe(lambda _change: self.update(), names="value")
        self.architecture.observe(lambda _change: self.update(), names="value")
        header = widgets.HTML("<b>Which strategy?</b> Labelled examples you have, and how similar "
                              "your task is to the source task.")
        controls = widgets.VBox([widgets.HBox([self.size_slider, self.size_box]),
                                 widgets.HBox([self.similarity, self.architecture])])
        self.widget = PanelBox([header, controls, self.output], self.label)
        self.update()

    @property
    def dataset_size(self) -> int:
        return int(self.size_box.value)

    def set_inputs(self, dataset_size: int | None = None, similarity: str | None = None,
                   architecture: str | None = None) -> None:
        """The same as using the controls."""
        if dataset_size is not None:
            self.size_box.value = dataset_size
        if similarity is not None:
            self.similarity.value = similarity
        if architecture is not None:
            self.architecture.value = architecture

    def _slider_changed(self, change) -> None:
        if self._syncing or same_position(change["new"], self.size_box.value):
            # the browser snapped the slider onto its grid (999 -> 10**3.00): the exact box wins
            return
        self._syncing = True
        try:
            self.size_box.value = int(min(MAX_SIZE, max(1, round(change["new"]))))
        finally:
            self._syncing = False
        self.update()

    def _box_changed(self, change) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.size_slider.value = slider_position(change["new"])
        finally:
            self._syncing = False
        self.update()

    def update(self) -> None:
        """Ask the manager again and redraw the recommendation."""
        rec = _recommend(self.dataset_size, self.similarity.value, self.architecture.value)
        self.recommendation = rec
        frozen = ", ".join(rec.layers_to_freeze) or "none"
        trained = getattr(rec, "layers_to_train", None)
        trained_text = ", ".join(trained) if trained else "the new head"
        color = CELL_COLORS.get(rec.strategy, "#eee")
        self.output.value = (
            f"<div style='border-left:6px solid {color};padding:4px 10px;margin:4px 0'>"
            f"<div style='font-size:15px'><b>Recommendation:</b> {STRATEGY_LABELS.get(rec.strategy, rec.strategy)}"
            f"</div>"
            f"<div><b>Frozen layers:</b> {escape(frozen)}</div>"
            f"<div><b>Trained:</b> {escape(trained_text)}</div>"
            f"<div><b>Learning rate:</b> {rec.recommended_lr:g}</div>"
            f"<div style='max-width:720px'><b>Why:</b> {escape(rec.reasoning)}</div></div>"
            f"{_rule_table(getattr(rec, 'size_category', ''), self.similarity.value)}"
        )

    @property
    def text(self) -> str:
        """The recommendation as plain text (the HTML without its tags)."""
        plain = re.sub(r"<(div|tr)[^>]*>", "\n", self.output.value)
        plain = re.sub(r"<[^>]+>", " ", plain)
        plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&ge;", ">=").replace("&amp;", "&")
        return "\n".join(" ".join(line.split()) for line in plain.splitlines() if line.strip())


def strategy_explorer(dataset_size: int = 100, similarity: str = "high",
                      architecture: str = "medium") -> StrategyExplorer:
    """A log-scale dataset-size slider (1 .. 1,000,000, with a box for the exact number), a
    similarity dropdown and an architecture dropdown; the recommendation of
    ``TransferLearningManager.recommend_strategy``, its frozen layers, learning rate and
    reasoning update live, beside the size x similarity table with the current cell marked."""
    return StrategyExplorer(dataset_size, similarity, architecture)
