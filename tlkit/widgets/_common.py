"""What every panel shares: a box whose text form is stable, and a base class that displays it.

nbval compares the ``text/plain`` form of every displayed object. A widget's text form is
its ``repr``, which lists the values of all its children (a result line with a timing, a
slider position...). The panels therefore display a :class:`PanelBox`, whose ``repr`` is a
fixed name: the notebook's compared output stays the same from run to run, and the
widget-view part (random model ids) is left out of the comparison by nbval itself.

Both ipywidgets 7.7 (Colab's) and 8 are supported. ipywidgets 8 displays a widget through
``_repr_mimebundle_``; ipywidgets 7 has no such method and displays through
``_ipython_display_``. :class:`PanelBox` gains, on ipywidgets 7, the ``_repr_mimebundle_`` that
ipywidgets 8 defines (the same bundle ipywidgets 7 publishes), and a :class:`Panel` displays, on
ipywidgets 7, through its box's ``_ipython_display_``, exactly as any ipywidgets 7 widget does.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

#: True under ipywidgets 7, which displays widgets through ``_ipython_display_`` only.
DISPLAYS_THROUGH_IPYTHON_DISPLAY = not hasattr(widgets.VBox, "_repr_mimebundle_")
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def widget_mimebundle(widget: widgets.Widget) -> dict:
    """The mime bundle of a widget as ipywidgets 8 returns it and ipywidgets 7 publishes it."""
    plaintext = repr(widget)
    if len(plaintext) > 110:
        plaintext = plaintext[:110] + "\u2026"
    data = {"text/plain": plaintext}
    if widget._view_name is not None:
        data[WIDGET_VIEW_MIME] = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
    return data


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

    if DISPLAYS_THROUGH_IPYTHON_DISPLAY:  # ipywidgets 7: the method ipywidgets 8 has

        def _repr_mimebundle_(self, **kwargs):
            return widget_mimebundle(self)


class Panel:
    """Base of the panels: ``.widget`` is the box shown; the panel displays as that box."""

    widget: PanelBox
    label = "tlkit panel"

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    if DISPLAYS_THROUGH_IPYTHON_DISPLAY:  # ipywidgets 7: display as the box displays itself

        def _ipython_display_(self, **kwargs):
            self.widget._ipython_display_(**kwargs)

    def __repr__(self) -> str:
        return f"<{self.label}>"


def css_name(text: str) -> str:
    """``"tlkit strategy explorer"`` -> ``"tlkit-strategy-explorer"`` (a CSS class name)."""
    return "-".join("".join(c if c.isalnum() else " " for c in str(text).lower()).split())


def escape(text) -> str:
    return html.escape(str(text))


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"
