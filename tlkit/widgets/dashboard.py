"""The training dashboard: a Train button, a progress bar and live loss/accuracy curves.

nbval-safety. Nothing here prints, and nothing is written into an ``Output`` with
``with out:`` (text printed that way while a cell runs reaches nbval as the cell's
stdout, and ``clear_output`` messages are ignored by nbval). The live plot is a PNG put
straight into the ``Output``'s ``outputs`` (a widget state change, never a cell output),
drawn on a matplotlib ``Figure`` that pyplot does not manage, so the inline backend does
not show it again at the end of the cell. The result line, which holds the wall time,
is a widget value: nbval does not compare widget state. ``run()`` returns the
TrainingHistory, whose text form has no timing in it.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import time

import ipywidgets as widgets

from ..callbacks import Callback
from ..plots.history import plot_history
from ..protocol import train_validation_split
from ._common import Panel, PanelBox, escape

CURVE_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


def with_callback(config, callback):
    """A copy of ``config`` (a TrainingConfig, a dict or None) with ``callback`` added to its callbacks."""
    if config is None:
        return {"callbacks": [callback]}
    if isinstance(config, dict):
        return {**config, "callbacks": list(config.get("callbacks") or []) + [callback]}
    if dataclasses.is_dataclass(config) and hasattr(config, "callbacks"):
        return dataclasses.replace(config, callbacks=list(config.callbacks or []) + [callback])
    raise TypeError(f"config must be a TrainingConfig, a dict or None; got {type(config).__name__}")


def epochs_of(config) -> int:
    if config is None:
        return 10
    if isinstance(config, dict):
        return int(config.get("epochs", 10))
    return int(getattr(config, "epochs", 10))


def figure_png(figure, dpi: int = 80) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


class _DashboardCallback(Callback):
    """Training-loop hooks feeding the dashboard."""

    def __init__(self, dashboard: TrainingDashboard) -> None:
        self.dashboard = dashboard

    def on_train_begin(self, trainer) -> None:
        self.dashboard._begin(int(trainer.config.epochs))

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        self.dashboard._epoch_end(epoch, logs)

    def on_train_end(self, trainer) -> None:
        self.dashboard._draw(force=True)


class TrainingDashboard(Panel):
    """Train a strategy with a button (or :meth:`run`), watching the curves grow.

    Attributes: ``train_button`` (Button), ``progress`` (IntProgress, one step per epoch),
    ``status`` (Label), ``plot`` (Output holding the live figure as a PNG), ``result``
    (HTML: the outcome), ``figure`` (the last matplotlib Figure), ``history`` (the last
    TrainingHistory), ``histories`` (all runs), ``curves`` (every epoch of every run, in
    order), ``epochs_done``, ``widget``. Clicking again continues training from the current
    weights, and the curves continue from the last epoch (a dotted line marks each new run).
    """

    label = "tlkit training dashboard"

    def __init__(self, strategy, X, y, config=None, validation_data=None, title: str | None = None,
                 min_redraw_interval: float = 0.3, show_time: bool = True,
                 validation_fraction: float | None = None, seed: int = 0) -> None:
        if not hasattr(strategy, "train"):
            raise TypeError(f"strategy must have a train(X, y, config, validation_data) method; "
                            f"got {type(strategy).__name__}")
        with_callback(config, Callback())  # checks the config's type now, not at the first click
        if validation_fraction is not None:
            if validation_data is not None:
                raise ValueError("give validation_data or validation_fraction, not both; got both")
            # validation carved out of the training examples: the test split stays untouched
            X, y, X_val, y_val = train_validation_split(X, y, fraction=validation_fraction, seed=seed)
            validation_data = (X_val, y_val)
        self.strategy, self.X, self.y = strategy, X, y
        self.config, self.validation_data = config, validation_data
        self.title = title or type(strategy).__name__
        self.min_redraw_interval = float(min_redraw_interval)
        self.show_time = show_time
        self.history = None
        self.histories: list = []
        self.figure = None
        self.error: BaseException | None = None
        self.redraws = 0
        self._curves: dict[str, list[float]] = {key: [] for key in CURVE_KEYS}
        self.run_starts: list[int] = []  # epochs done before each run began
        self._last_draw = 0.0
        epochs = epochs_of(config)
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play",
                                           tooltip=f"train {self.title} for {epochs} epochs")
        self.train_button.on_click(self._on_click)
        self.train_button.add_class("tlkit-train")
        self.progress = widgets.IntProgress(value=0, min=0, max=epochs, description="epochs",
                                            layout=widgets.Layout(width="320px"))
        self.status = widgets.Label(value=f"0/{epochs} epochs")
        self.plot = widgets.Output(layout=widgets.Layout(min_height="60px"))
        self.result = widgets.HTML(value=f"<i>Press Train to train {escape(self.title)}.</i>")
        self.progress.add_class("tlkit-progress")
        self.result.add_class("tlkit-result")
        controls = widgets.HBox([self.train_button, self.progress, self.status])
        self.widget = PanelBox([controls, self.plot, self.result], self.label)

    # -- running --------------------------------------------------------------------------
    def _on_click(self, _button=None) -> None:
        self.run(raise_errors=False)

    def click(self) -> None:
        """The same as pressing the button."""
        self.train_button.click()

    def run(self, raise_errors: bool = True):
        """Train now (as the button does) and return the TrainingHistory.

        With ``raise_errors=False`` (what the button uses) an error, e.g. a diverged run,
        is shown in the result line and None is returned.
        """
        self.error = None
        self.train_button.disabled = True
        self.progress.bar_style = "info"
        run_number = len(self.histories) + 1
        self.result.value = f"<i>training {escape(self.title)} (run {run_number})...</i>"
        start = time.perf_counter()
        try:
            config = with_callback(self.config, _DashboardCallback(self))
            history = self.strategy.train(self.X, self.y, config, validation_data=self.validation_data)
        except Exception as exc:  # shown to the student; re-raised for code that called run()
            self.error = exc
            self.progress.bar_style = "danger"
            self.result.value = (f"<span style='color:#c00'><b>{escape(type(exc).__name__)}</b>: "
                                 f"{escape(exc)}</span>")
            if raise_errors:
                raise
            return None
        finally:
            self.train_button.disabled = False
        elapsed = time.perf_counter() - start
        self.history = history
        self.histories.append(history)
        self.progress.bar_style = "success"
        self.result.value = self._result_text(history, run_number, elapsed)
        return history

    def _result_text(self, history, run_number: int, elapsed: float) -> str:
        text = (f"<b>Done</b>: {len(history.loss)} epochs, final loss {history.loss[-1]:.4f}, "
                f"training accuracy {history.accuracy[-1]:.3f}")
        if getattr(history, "val_accuracy", None):
            text += f", validation accuracy {history.val_accuracy[-1]:.3f}"
        if getattr(history, "stopped_early", False):
            text += " (stopped early)"
        if self.show_time:
            text += f"; took {elapsed:.2f} s"
        if run_number > 1:
            text += f" <i>(run {run_number}: continued from the weights of run {run_number - 1})</i>"
        return text

    @property
    def curves(self) -> dict[str, list[float]]:
        """Loss and accuracy (training, validation) of every epoch of every run, in order."""
        return {key: list(values) for key, values in self._curves.items()}

    @property
    def epochs_done(self) -> int:
        """Epochs trained so far over all runs (what the curves' x axis counts)."""
        return len(self._curves["loss"])

    # -- callback hooks -------------------------------------------------------------------
    def _begin(self, epochs: int) -> None:
        self.run_starts.append(self.epochs_done)
        self.progress.max = max(1, epochs)
        self.progress.value = 0
        self.status.value = f"0/{epochs} epochs"
        self._last_draw = 0.0

    def _epoch_end(self, epoch: int, logs: dict) -> None:
        done = self.epochs_done
        for key in self._curves:
            values = self._curves[key]
            if key in logs:
                values.extend([float("nan")] * (done - len(values)))  # a run without validation
                values.append(float(logs[key]))
        self.progress.value = min(epoch + 1, self.progress.max)
        total = f" (epoch {self.epochs_done} overall)" if len(self.run_starts) > 1 else ""
        self.status.value = f"{epoch + 1}/{self.progress.max} epochs{total}, loss {logs['loss']:.4f}"
        self._draw(force=False)

    def _draw(self, force: bool) -> None:
        now = time.perf_counter()
        if not self._curves.get("loss") or (not force and now - self._last_draw < self.min_redraw_interval):
            return
        from matplotlib.figure import Figure

        figure = Figure(figsize=(8.5, 2.8))
        axes = plot_history(self.curves, ax=figure.subplots(1, 2), title=self.title)
        for start in self.run_starts[1:]:  # where a second press of Train continued
            for axis in axes:
                axis.axvline(start + 0.5, color="grey", linestyle=":", linewidth=1)
        if len(self.run_starts) > 1:
            axes[0].annotate("dotted: Train pressed again", xy=(0.01, 0.02), xycoords="axes fraction",
                             fontsize=7, color="grey")
        png = figure_png(figure)
        self.figure = figure
        self.plot.outputs = ({
            "output_type": "display_data",
            "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": "<training curves>"},
            "metadata": {},
        },)
        self.redraws += 1
        self._last_draw = time.perf_counter()


def training_dashboard(strategy, X, y, config=None, validation_data=None, title: str | None = None,
                       min_redraw_interval: float = 0.3, validation_fraction: float | None = None,
                       seed: int = 0) -> TrainingDashboard:
    """A Train button, a per-epoch progress bar, live loss/accuracy curves and a result line.

    Clicking (or ``.run()``) calls ``strategy.train(X, y, config, validation_data)`` with a
    callback added to (a copy of) ``config``. The curves are redrawn after each epoch (at
    most every ``min_redraw_interval`` seconds; the final figure is always drawn and kept).
    With ``validation_fraction`` (e.g. 0.2) a stratified part of ``X, y`` is held out as the
    validation data (``tlkit.protocol.train_validation_split``, seeded by ``seed``) and the
    rest is trained on: select on that, never on the test split.
    """
    return TrainingDashboard(strategy, X, y, config, validation_data, title, min_redraw_interval,
                             validation_fraction=validation_fraction, seed=seed)
