import base64

import ipywidgets as widgets
import numpy as np
import pytest

from tlkit import FineTuningConfig, PretrainedModel, TrainingConfig, TrainingHistory
from tlkit.callbacks import Callback
from tlkit.strategies import FeatureExtractor, FineTuner
from tlkit.widgets import TrainingDashboard, training_dashboard

PNG_MAGIC = b"\x89PNG"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 16, size=(24, 8, 8)).astype(np.float32)
    y = np.arange(24) % 3
    return X, y


class FakeStrategy:
    """Calls the config's callbacks like the real training loop, without training anything."""

    def __init__(self, fail_at=None):
        self.configs, self.fail_at = [], fail_at

    def train(self, X, y, config, validation_data=None):
        self.configs.append(config)
        trainer = type("T", (), {"config": TrainingConfig(**{k: v for k, v in config.items() if k != "callbacks"})
                                 if isinstance(config, dict) else config})()
        history = TrainingHistory()
        for cb in config["callbacks"] if isinstance(config, dict) else config.callbacks:
            cb.on_train_begin(trainer)
        epochs = trainer.config.epochs
        for epoch in range(epochs):
            if epoch == self.fail_at:
                raise FloatingPointError("the loss became nan")
            loss, acc = 1.0 / (epoch + 1), epoch / epochs
            history.loss.append(loss)
            history.accuracy.append(acc)
            for cb in config["callbacks"] if isinstance(config, dict) else config.callbacks:
                cb.on_epoch_end(trainer, epoch, {"loss": loss, "accuracy": acc, "epochs": epochs})
        for cb in config["callbacks"] if isinstance(config, dict) else config.callbacks:
            cb.on_train_end(trainer)
        return history


def _png_of(dashboard):
    (output,) = dashboard.plot.outputs
    return base64.b64decode(output["data"]["image/png"])


def test_click_trains_a_real_fine_tuner_and_fills_the_progress_bar(data):
    X, y = data
    ft = FineTuner(PretrainedModel("simple"), 3, layers_to_unfreeze=["layer2"])
    before = ft.base.state_dict()["layer1.conv.W"].copy()
    config = FineTuningConfig(epochs=3, learning_rate=1e-3, batch_size=8)
    dash = training_dashboard(ft, X, y, config, validation_data=(X[:6], y[:6]), min_redraw_interval=0)
    assert isinstance(dash, TrainingDashboard)
    assert isinstance(dash.train_button, widgets.Button) and isinstance(dash.progress, widgets.IntProgress)
    assert isinstance(dash.plot, widgets.Output)
    assert dash.progress.value == 0 and dash.progress.max == 3

    dash.train_button.click()

    assert dash.error is None
    assert dash.progress.value == 3 and dash.progress.max == 3
    assert dash.history is ft.history and dash.history.epochs == 3
    assert len(dash.history.val_accuracy) == 3
    assert "3 epochs" in dash.result.value and "validation accuracy" in dash.result.value
    assert dash.redraws >= 3  # one per epoch (no throttling) and the final one
    assert _png_of(dash).startswith(PNG_MAGIC)
    assert dash.figure is not None and len(dash.figure.axes) == 2
    assert dash.figure.axes[0].lines[0].get_ydata().tolist() == pytest.approx(dash.history.loss)
    assert config.callbacks == []  # the caller's config is not modified
    np.testing.assert_array_equal(ft.base.state_dict()["layer1.conv.W"], before)  # frozen stays frozen


def test_run_from_python_with_a_feature_extractor_and_a_dict_config(data):
    X, y = data
    fe = FeatureExtractor(PretrainedModel("simple"), 3)
    config = {"epochs": 2, "learning_rate": 0.01}
    dash = training_dashboard(fe, X, y, config)
    history = dash.run()
    assert history.epochs == 2 and dash.progress.value == 2
    assert "callbacks" not in config
    assert "took" in dash.result.value
    # the final figure is always drawn, whatever the throttle
    assert _png_of(dash).startswith(PNG_MAGIC)
    dash.run()
    assert len(dash.histories) == 2 and "continued from the weights of run 1" in dash.result.value


def test_progress_max_follows_the_config_the_trainer_really_uses(data):
    X, y = data
    fake = FakeStrategy()
    dash = training_dashboard(fake, X, y, TrainingConfig(epochs=5), min_redraw_interval=0)
    dash.click()
    assert dash.progress.max == 5 and dash.progress.value == 5
    assert dash.status.value.startswith("5/5 epochs")
    assert isinstance(fake.configs[0].callbacks[-1], Callback)


def test_a_failing_run_is_shown_by_the_button_and_raised_by_run(data):
    X, y = data
    dash = training_dashboard(FakeStrategy(fail_at=2), X, y, {"epochs": 4}, min_redraw_interval=0)
    dash.click()  # the button must not raise into the kernel
    assert isinstance(dash.error, FloatingPointError)
    assert "FloatingPointError" in dash.result.value and "nan" in dash.result.value
    assert dash.progress.value == 2 and dash.progress.bar_style == "danger"
    assert dash.train_button.disabled is False
    with pytest.raises(FloatingPointError):
        dash.run()


def test_nothing_is_printed_and_the_text_form_is_stable(data, capsys):
    X, y = data
    dash = training_dashboard(FakeStrategy(), X, y, {"epochs": 2}, min_redraw_interval=0)
    text_before = dash._repr_mimebundle_()["text/plain"]
    dash.run()
    assert capsys.readouterr().out == ""
    assert dash._repr_mimebundle_()["text/plain"] == text_before == "<tlkit training dashboard>"
    # the plot lives in the Output's state, as one display_data: no stream output in it
    assert [o["output_type"] for o in dash.plot.outputs] == ["display_data"]


def test_bad_arguments(data):
    X, y = data
    with pytest.raises(TypeError, match="strategy"):
        training_dashboard(object(), X, y)
    with pytest.raises(TypeError, match="config"):
        training_dashboard(FakeStrategy(), X, y, config=[("epochs", 2)])


def test_a_second_press_continues_the_curves_from_the_last_epoch(data):
    X, y = data
    dash = training_dashboard(FakeStrategy(), X, y, {"epochs": 4}, min_redraw_interval=0.0)
    dash.click()
    assert dash.epochs_done == 4 and dash.run_starts == [0]
    dash.click()
    assert dash.epochs_done == 8 and dash.run_starts == [0, 4]
    assert dash.curves["loss"] == [1.0, 0.5, 1 / 3, 0.25] * 2  # FakeStrategy's losses, run after run
    loss_ax = dash.figure.axes[0]
    assert loss_ax.lines[0].get_xdata().tolist() == list(range(1, 9))  # epochs 1..8, not 1..4 twice
    assert [line.get_xdata()[0] for line in loss_ax.lines[1:]] == [4.5]  # the dotted line between the runs
    assert "run 2: continued" in dash.result.value


def test_validation_fraction_holds_out_part_of_the_training_data(data):
    X, y = data
    strategy = FakeStrategy()
    dash = training_dashboard(strategy, X, y, {"epochs": 1}, validation_fraction=0.25)
    X_val, y_val = dash.validation_data
    assert len(dash.X) + len(X_val) == len(X) == 24
    assert sorted(np.bincount(y_val).tolist()) == [2, 2, 2]  # 25% of each class of 8
    trained = {x.tobytes() for x in dash.X}
    assert not any(x.tobytes() in trained for x in X_val)  # no validation example is trained on
    with pytest.raises(ValueError, match="validation_fraction"):
        training_dashboard(strategy, X, y, validation_data=(X, y), validation_fraction=0.2)
