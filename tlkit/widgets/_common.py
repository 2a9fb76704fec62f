"""What every panel shares: a box whose text form is stable, and a base class that displays it.

nbval compares the ``text/plain`` form of every displayed object. A widget's text form is
its ``repr``, which lists the values of all its children (a result line with a timing, a
slider position...). The panels therefore display a :class:`PanelBox`, whose ``repr`` is a
fixed name: the notebook's compared output stays the same from run to run, and the
widget-view part (random model ids) is left out of the comparison by nbval itself.
"""

from __future__ import annotations

import html

import ipywidgets as widgets


class PanelBox(widgets.VBox):
    """A VBox with a fixed text form (``repr``), so notebooks compare deterministically."""

    def __init__(self, children, label: str, **kwargs) -> None:
        super().__init__(children, **kwargs)
        self._stable_label = label
        # CSS hooks for the browser tests and for styling: "tlkit-panel tlkit-strategy-explorer"...
        self.add_class("tlkit-panel")
        self.add_class(css_name(label))
        self.add_class(f"tlkit-model-{self.model_id}")  # which Python panel a rendered one is

    def __repr__(self) -> str:
        return f"<{self._stable_label}>"


class Panel:
    """Base of the panels: ``.widget`` is the box shown; the panel displays as that box."""

    widget: PanelBox
    label = "tlkit panel"

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"<{self.label}>"


def css_name(text: str) -> str:
    """``"tlkit strategy explorer"`` -> ``"tlkit-strategy-explorer"`` (a CSS class name)."""
    return "-".join("".join(c if c.isalnum() else " " for c in str(text).lower()).split())


def escape(text) -> str:
    return html.escape(str(text))


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"
