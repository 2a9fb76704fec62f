import math

import ipywidgets as widgets
import pytest

from tlkit.manager import TransferLearningManager
from tlkit.widgets import StrategyExplorer, strategy_explorer


def test_controls():
    explorer = strategy_explorer()
    assert isinstance(explorer, StrategyExplorer)
    assert isinstance(explorer.size_slider, widgets.FloatLogSlider)
    assert explorer.size_slider.min == 0 and 10 ** explorer.size_slider.max == pytest.approx(1_000_000)
    assert [v for _, v in explorer.similarity.options] == ["high", "medium", "low"]
    assert list(explorer.architecture.options) == ["simple", "medium", "deep"]


@pytest.mark.parametrize(
    ("size", "similarity", "architecture", "strategy", "frozen"),
    [
        (100, "high", "medium", "feature extraction", "layer1, layer2, layer3, layer4"),
        (100, "low", "medium", "fine-tuning", "layer1, layer2"),
        (5_000, "medium", "deep", "fine-tuning", "layer1, layer2"),
        (500_000, "low", "medium", "from scratch", "none"),
    ],
)
def test_the_text_follows_the_controls(size, similarity, architecture, strategy, frozen):
    explorer = strategy_explorer()
    explorer.size_box.value = size
    explorer.similarity.value = similarity
    explorer.architecture.value = architecture
    rec = TransferLearningManager.recommend_strategy(size, similarity, architecture)
    text = explorer.text
    assert f"Recommendation: {strategy}" in text
    assert f"Frozen layers: {frozen}" in text
    assert f"Learning rate: {rec.recommended_lr:g}" in text
    assert rec.reasoning.split(".")[0] in text
    assert explorer.recommendation.strategy == rec.strategy


def test_the_slider_and_the_box_stay_in_step():
    explorer = strategy_explorer(dataset_size=100, similarity="high")
    explorer.size_slider.value = 10 ** 4.5
    assert explorer.size_box.value == 31623 and explorer.dataset_size == 31623
    assert "Recommendation: fine-tuning" in explorer.text and "31,623 here" in explorer.text
    explorer.size_box.value = 999
    assert explorer.size_slider.value == pytest.approx(1000)  # the slider's nearest grid point
    assert explorer.size_box.value == 999
    assert "Recommendation: feature extraction" in explorer.text
    explorer.size_box.value = 1000  # the boundary between small and medium
    assert "Recommendation: fine-tuning" in explorer.text


def test_the_rule_table_marks_the_current_cell():
    explorer = strategy_explorer(dataset_size=200_000, similarity="low")
    assert "large (>= 10,000)" in explorer.text
    assert explorer.output.value.count("outline:3px solid") == 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="dataset_size"):
        strategy_explorer(dataset_size=0)
    with pytest.raises(ValueError, match="similarity"):
        strategy_explorer(similarity="same")
    with pytest.raises(ValueError, match="architecture"):
        strategy_explorer(architecture="huge")
    assert strategy_explorer()._repr_mimebundle_()["text/plain"] == "<tlkit strategy explorer>"


def _browser_snap(value: float) -> float:
    """What the browser's FloatLogSlider sends back: the exponent rounded to its 0.01 step."""
    exponent = math.log10(value)
    return 10 ** (math.floor(exponent * 100 + 0.5) / 100) * (1 + 1e-12)  # plus a float wobble


@pytest.mark.parametrize("size", [999, 1000, 9999, 10000, 50000, 99999, 250, 1234, 1, 1_000_000])
def test_the_exact_box_keeps_its_value_when_the_browser_snaps_the_slider(size):
    explorer = strategy_explorer(dataset_size=100)
    explorer.size_box.value = size
    explorer.size_slider.value = _browser_snap(explorer.size_slider.value)  # the rendered slider echoes
    assert explorer.size_box.value == size and explorer.dataset_size == size
    expected = TransferLearningManager.recommend_strategy(size, "high", "medium").strategy
    assert explorer.recommendation.strategy == expected
    explorer.set_inputs(dataset_size=size)
    explorer.size_slider.value = _browser_snap(size)
    assert explorer.size_box.value == size


def test_a_slider_drag_of_one_step_still_moves_the_box():
    explorer = strategy_explorer(dataset_size=999)
    explorer.size_slider.value = 10 ** 3.01  # one step right of 999's grid point
    assert explorer.size_box.value == round(10 ** 3.01) == 1023
    explorer.size_slider.value = 10 ** 2.99
    assert explorer.size_box.value == round(10 ** 2.99) == 977
