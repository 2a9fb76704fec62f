import re

import ipywidgets as widgets
import pytest

from tlkit import PretrainedModel
from tlkit.strategies import FineTuner
from tlkit.widgets import FreezePanel, freeze_panel


@pytest.fixture
def model():
    return PretrainedModel("medium")


def test_one_checkbox_per_block_reflecting_the_model(model):
    model.freeze(["layer1"])
    panel = freeze_panel(model)
    assert isinstance(panel, FreezePanel)
    assert list(panel.checkboxes) == ["layer1", "layer2", "layer3", "layer4"]
    assert all(isinstance(box, widgets.Checkbox) for box in panel.checkboxes.values())
    assert panel.checkboxes["layer1"].value is True
    assert panel.checkboxes["layer2"].value is False


def shown_counts(panel) -> tuple[int, int]:
    """The trainable and total parameter counts the summary shows (the first two numbers in it)."""
    trainable, total = (int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", panel.summary.value)[:2])
    return trainable, total


def test_ticking_a_box_freezes_the_block_and_updates_the_count(model):
    panel = freeze_panel(model)
    counts = model.layer_parameter_counts()
    total = sum(counts.values())
    assert shown_counts(panel) == (total, total)

    panel.checkboxes["layer1"].value = True
    panel.checkboxes["layer2"].value = True
    assert model.is_frozen("layer1") and model.is_frozen("layer2")
    assert not model.is_frozen("layer3")
    trainable = counts["layer3"] + counts["layer4"]
    assert model.count_parameters(trainable_only=True) == trainable
    assert shown_counts(panel) == (trainable, total)
    assert "frozen" in panel.bars["layer1"].value and "trainable" in panel.bars["layer3"].value

    panel.checkboxes["layer1"].value = False
    assert not model.is_frozen("layer1")
    assert panel.frozen_layers() == ["layer2"]


def test_freezing_everything_gives_zero_percent(model):
    panel = freeze_panel(model)
    for name in model.get_layer_names():
        panel.set_frozen(name)
    assert model.count_parameters(trainable_only=True) == 0
    assert panel.summary.value.startswith("Trainable parameters: 0 of ")
    assert panel.summary.value.endswith("(0%)")


def test_refresh_follows_changes_made_elsewhere(model):
    panel = freeze_panel(model)
    model.freeze()
    panel.refresh()
    assert all(box.value for box in panel.checkboxes.values())
    assert model.frozen_layers() == model.get_layer_names()  # refreshing did not toggle anything back


def test_a_strategy_freezes_its_base():
    ft = FineTuner(PretrainedModel("simple"), 3, layers_to_unfreeze=["layer2"])
    panel = freeze_panel(ft)
    assert panel.checkboxes["layer1"].value is True and panel.checkboxes["layer2"].value is False
    panel.checkboxes["layer2"].value = True
    assert ft.base.is_frozen("layer2")


def test_bad_input_and_unknown_names(model):
    with pytest.raises(TypeError, match="model must be"):
        freeze_panel("medium")
    with pytest.raises(ValueError, match="layer9"):
        freeze_panel(model).set_frozen("layer9")


def test_displays_as_a_box_with_a_stable_text_form(model):
    panel = freeze_panel(model)
    bundle = panel._repr_mimebundle_()
    assert bundle["text/plain"] == "<tlkit freeze panel>"
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id
    panel.checkboxes["layer3"].value = True
    assert panel._repr_mimebundle_()["text/plain"] == "<tlkit freeze panel>"
