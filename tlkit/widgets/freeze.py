"""The freeze panel (Part 1): one checkbox per block, a live count of trainable parameters."""

from __future__ import annotations

import ipywidgets as widgets

from ..pretrained import base_of
from ._common import Panel, PanelBox, escape, percent

FROZEN_COLOR, TRAINABLE_COLOR = "#9bb7d4", "#f5a623"
BAR_WIDTH = 220  # pixels for the largest block


class FreezePanel(Panel):
    """Check a block to freeze it; the counts and bars follow.

    Attributes: ``checkboxes`` ({block: Checkbox}, checked = frozen), ``summary`` (Label,
    "Trainable parameters: 12,345 of 61,000 (20%)"), ``bars`` ({block: HTML}), ``overview``
    (HTML, one bar split by block), ``widget`` (the box shown).
    """

    label = "tlkit freeze panel"

    def __init__(self, model) -> None:
        self.model = base_of(model)
        self.names = list(self.model.get_layer_names())
        self.counts = dict(self.model.layer_parameter_counts())
        self._syncing = False
        self.checkboxes: dict[str, widgets.Checkbox] = {}
        self.bars: dict[str, widgets.HTML] = {}
        rows = []
        for name in self.names:
            box = widgets.Checkbox(value=bool(self.model.is_frozen(name)), description=f"{name} frozen",
                                   indent=False, layout=widgets.Layout(width="130px"))
            box.observe(self._toggle_handler(name), names="value")
            box.add_class(f"tlkit-freeze-{name}")
            self.checkboxes[name] = box
            self.bars[name] = widgets.HTML()
            rows.append(widgets.HBox([box, self.bars[name]]))
        self.summary = widgets.Label()
        self.summary.add_class("tlkit-freeze-summary")
        self.overview = widgets.HTML()
        header = widgets.HTML("<b>Freeze blocks</b>: a checked block keeps its pretrained weights "
                              "(no gradient, no update, BatchNorm in inference mode).")
        self.widget = PanelBox([header, *rows, self.summary, self.overview], self.label)
        self.refresh()

    # -- actions --------------------------------------------------------------------------
    def _toggle_handler(self, name: str):
        def handler(change) -> None:
            if self._syncing:
                return
            if change["new"]:
                self.model.freeze([name])
            else:
                self.model.unfreeze([name])
            self.refresh()

        return handler

    def set_frozen(self, name: str, frozen: bool = True) -> None:
        """The same as ticking (or clearing) the block's checkbox."""
        if name not in self.checkboxes:
            raise ValueError(f"name must be one of {self.names}; got {name!r}")
        self.checkboxes[name].value = bool(frozen)

    def frozen_layers(self) -> list[str]:
        return [name for name in self.names if self.model.is_frozen(name)]

    def trainable_parameters(self) -> int:
        return sum(self.counts[n] for n in self.names if not self.model.is_frozen(n))

    def total_parameters(self) -> int:
        return sum(self.counts.values())

    # -- display --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the model (it may have been frozen elsewhere) and redraw the counts."""
        self._syncing = True
        try:
            for name, box in self.checkboxes.items():
                box.value = bool(self.model.is_frozen(name))
        finally:
            self._syncing = False
        largest = max(self.counts.values()) or 1
        for name in self.names:
            frozen = self.model.is_frozen(name)
            width = max(2, round(BAR_WIDTH * self.counts[name] / largest))
            color = FROZEN_COLOR if frozen else TRAINABLE_COLOR
            state = "frozen" if frozen else "trainable"
            self.bars[name].value = (
                "<div style='display:flex;align-items:center;gap:8px;height:24px'>"
                f"<div style='width:{BAR_WIDTH}px'><div style='width:{width}px;height:12px;"
                f"background:{color};border-radius:2px'></div></div>"
                f"<span style='font-size:12px'>{self.counts[name]:,} parameters, {state}</span></div>"
            )
        trainable, total = self.trainable_parameters(), self.total_parameters()
        self.summary.value = f"Trainable parameters: {trainable:,} of {total:,} ({percent(trainable, total)})"
        segments = "".join(
            f"<div title='{escape(n)}' style='flex:{self.counts[n]} 0 0;height:14px;"
            f"background:{FROZEN_COLOR if self.model.is_frozen(n) else TRAINABLE_COLOR};"
            "border-right:1px solid white'></div>"
            for n in self.names if self.counts[n] > 0
        )
        legend = (f"<span style='color:{TRAINABLE_COLOR}'>&#9632;</span> trainable &nbsp;"
                  f"<span style='color:{FROZEN_COLOR}'>&#9632;</span> frozen "
                  "(each block's share of the parameters, input side on the left)")
        self.overview.value = (f"<div style='display:flex;width:{BAR_WIDTH + 130}px'>{segments}</div>"
                               f"<div style='font-size:11px'>{legend}</div>")


def freeze_panel(model) -> FreezePanel:
    """One checkbox per block of ``model`` (checked = frozen) with a live trainable-parameter count.

    Toggling a checkbox calls ``model.freeze([name])`` / ``model.unfreeze([name])``. With a
    strategy (e.g. a FineTuner), its base is the model.
    """
    return FreezePanel(model)
