import ipywidgets as widgets
import pytest

from tlkit import FineTuningConfig, PretrainedModel
from tlkit.strategies import FineTuner
from tlkit.widgets import LRPanel, lr_panel


@pytest.fixture
def fine_tuner():
    return FineTuner(PretrainedModel("medium"), 4, layers_to_unfreeze=["layer3", "layer4"])


def test_one_log_slider_per_block_and_the_head(fine_tuner):
    panel = lr_panel(fine_tuner, base_lr=1e-3)
    assert isinstance(panel, LRPanel)
    assert list(panel.sliders) == ["layer1", "layer2", "layer3", "layer4", "head"]
    assert all(isinstance(s, widgets.FloatLogSlider) for s in panel.sliders.values())
    assert panel.sliders["head"].value == pytest.approx(1e-3)


def test_frozen_blocks_are_disabled_with_a_note(fine_tuner):
    panel = lr_panel(fine_tuner)
    assert panel.sliders["layer1"].disabled and panel.sliders["layer2"].disabled
    assert not panel.sliders["layer3"].disabled and not panel.sliders["head"].disabled
    assert "frozen" in panel.notes["layer1"].value
    assert "frozen" not in panel.notes["layer4"].value


def test_starting_values_are_applied_so_the_panel_shows_what_trains(fine_tuner):
    panel = lr_panel(fine_tuner, base_lr=1e-3)
    rates = fine_tuner.learning_rates(FineTuningConfig(learning_rate=1e-3))
    for name in ("layer3", "layer4", "head"):
        assert rates[name] == pytest.approx(panel.sliders[name].value)
    assert rates["layer1"] == 0.0  # frozen: does not train


def test_moving_a_slider_sets_the_block_rate(fine_tuner):
    panel = lr_panel(fine_tuner, base_lr=1e-3)
    panel.sliders["layer3"].value = 1e-5
    panel.sliders["head"].value = 1e-2
    assert fine_tuner.layer_learning_rates["layer3"] == pytest.approx(1e-5)
    assert fine_tuner.layer_learning_rates["head"] == pytest.approx(1e-2)
    rates = fine_tuner.learning_rates(FineTuningConfig(learning_rate=1e-3))
    assert rates["layer3"] == pytest.approx(1e-5) and rates["head"] == pytest.approx(1e-2)
    assert "0.001 x the head" in panel.notes["layer3"].value
    assert panel.rates()["layer3"] == pytest.approx(1e-5)


def test_refresh_after_unfreezing(fine_tuner):
    panel = lr_panel(fine_tuner)
    fine_tuner.unfreeze(["layer2"])
    panel.refresh()
    assert not panel.sliders["layer2"].disabled
    panel.set_rate("layer2", 3e-5)
    assert fine_tuner.layer_learning_rates["layer2"] == pytest.approx(3e-5)


def test_bad_arguments(fine_tuner):
    with pytest.raises(TypeError, match="fine_tuner"):
        lr_panel(PretrainedModel("simple"))
    with pytest.raises(ValueError, match="base_lr"):
        lr_panel(fine_tuner, base_lr=0)
    with pytest.raises(ValueError, match="layer9"):
        lr_panel(fine_tuner).set_rate("layer9", 1e-3)
    assert lr_panel(fine_tuner)._repr_mimebundle_()["text/plain"] == "<tlkit learning-rate panel>"
