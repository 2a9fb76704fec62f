"""The learning-rate panel (Part 3): one log-scale slider per block and for the head."""

from __future__ import annotations

import math

import ipywidgets as widgets

from ._common import Panel, PanelBox

MIN_LR, MAX_LR = 1e-6, 1.0


def _check_fine_tuner(fine_tuner):
    for attribute in ("set_layer_learning_rate", "get_layer_names", "base"):
        if not hasattr(fine_tuner, attribute):
            raise TypeError(
                "fine_tuner must be a tlkit FineTuner (it needs set_layer_learning_rate); "
                f"got {type(fine_tuner).__name__}"
            )
    return fine_tuner


def _check_rate(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    return float(value)


class LRPanel(Panel):
    """Drag a slider to set a block's learning rate (``fine_tuner.set_layer_learning_rate``).

    Attributes: ``sliders`` ({block or "head": FloatLogSlider}), ``notes`` ({name: HTML}),
    ``widget``. Frozen blocks are greyed out (disabled) with a note; :meth:`refresh`
    re-reads which blocks are frozen.
    """

    label = "tlkit learning-rate panel"

    def __init__(self, fine_tuner, base_lr: float = 1e-3, min_lr: float = MIN_LR, max_lr: float = MAX_LR,
                 apply: bool = True) -> None:
        self.fine_tuner = _check_fine_tuner(fine_tuner)
        self.base_lr = _check_rate(base_lr, "base_lr")
        min_lr, max_lr = _check_rate(min_lr, "min_lr"), _check_rate(max_lr, "max_lr")
        if not min_lr < max_lr:
            raise ValueError(f"min_lr must be below max_lr; got min_lr={min_lr:g}, max_lr={max_lr:g}")
        self.names = list(fine_tuner.get_layer_names())
        initial = self._initial_rates()
        self.sliders: dict[str, widgets.FloatLogSlider] = {}
        self.notes: dict[str, widgets.HTML] = {}
        rows = []
        for name in self.names:
            slider = widgets.FloatLogSlider(
                value=min(max(initial[name], min_lr), max_lr), base=10, min=math.log10(min_lr),
                max=math.log10(max_lr), step=0.1, description=name, readout_format=".1e",
                continuous_update=False, layout=widgets.Layout(width="380px"),
            )
            slider.observe(self._slider_handler(name), names="value")
            slider.add_class(f"tlkit-lr-{name}")
            self.sliders[name] = slider
            self.notes[name] = widgets.HTML()
            rows.append(widgets.HBox([slider, self.notes[name]]))
        header = widgets.HTML(
            "<b>Learning rate per block</b> (log scale). Lower blocks hold generic features: "
            "give them 10-100x lower rates than the head."
        )
        self.widget = PanelBox([header, *rows], self.label)
        if apply:
            for name in self.names:
                if name == "head" or not self._is_frozen(name):
                    self.fine_tuner.set_layer_learning_rate(name, self.sliders[name].value)
        self.refresh()

    def _initial_rates(self) -> dict[str, float]:
        """Current overrides, else what the fine-tuner's recipe gives at ``base_lr``."""
        rates = {name: self.base_lr for name in self.names}
        if hasattr(self.fine_tuner, "learning_rates"):
            try:
                recipe = self.fine_tuner.learning_rates({"learning_rate": self.base_lr})
                rates.update({k: v for k, v in recipe.items() if k in rates and v > 0})
            except (TypeError, ValueError):
                pass
        overrides = getattr(self.fine_tuner, "layer_learning_rates", {}) or {}
        rates.update({k: float(v) for k, v in overrides.items() if k in rates})
        return rates

    def _is_frozen(self, name: str) -> bool:
        return name != "head" and bool(self.fine_tuner.base.is_frozen(name))

    def _slider_handler(self, name: str):
        def handler(change) -> None:
            self.fine_tuner.set_layer_learning_rate(name, float(change["new"]))
            self.refresh()

        return handler

    def set_rate(self, name: str, lr: float) -> None:
        """The same as moving the block's slider."""
        if name not in self.sliders:
            raise ValueError(f"name must be one of {self.names}; got {name!r}")
        self.sliders[name].value = _check_rate(lr, "lr")

    def rates(self) -> dict[str, float]:
        """The slider values: {block or "head": learning rate}."""
        return {name: float(slider.value) for name, slider in self.sliders.items()}

    def refresh(self) -> None:
        """Grey out frozen blocks and update the notes (rate relative to the head)."""
        head = float(self.sliders["head"].value) if "head" in self.sliders else None
        for name, slider in self.sliders.items():
            frozen = self._is_frozen(name)
            slider.disabled = frozen
            if frozen:
                self.notes[name].value = ("<span style='color:#888'>frozen: does not train "
                                          "(the rate applies once it is unfrozen)</span>")
            elif name == "head" or not head:
                self.notes[name].value = "<span>new layer: the highest rate</span>" if name == "head" else ""
            else:
                ratio = float(slider.value) / head
                self.notes[name].value = f"<span>{ratio:.2g} x the head's rate</span>"


def lr_panel(fine_tuner, base_lr: float = 1e-3, min_lr: float = MIN_LR, max_lr: float = MAX_LR,
             apply: bool = True) -> LRPanel:
    """A log-scale slider (``min_lr`` .. ``max_lr``) per block and the head of ``fine_tuner``.

    The sliders start at the fine-tuner's per-block rates for a base rate ``base_lr`` (its
    discriminative recipe, or rates set before); with ``apply`` those starting values are
    set on the fine-tuner at once, so what the panel shows is what trains. Moving a slider
    calls ``fine_tuner.set_layer_learning_rate(name, value)``. Frozen blocks are disabled.
    """
    return LRPanel(fine_tuner, base_lr, min_lr, max_lr, apply)
