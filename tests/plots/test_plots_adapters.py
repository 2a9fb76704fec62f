"""The adapter layout diagram and the parameter-efficiency plot."""

import matplotlib.pyplot as plt
import pytest

from tlkit import PretrainedModel
from tlkit.plots import plot_adapter_layout, plot_parameter_efficiency
from tlkit.strategies import AdapterTuner


def test_the_layout_draws_one_box_per_block_and_counts_the_trainable_parameters():
    tuner = AdapterTuner(PretrainedModel("medium"), 10, adapters=["layer1", "layer3"], lora_rank=2,
                         lora_blocks=["layer4"], input_stem=True)
    ax = plot_adapter_layout(tuner)
    labels = [t.get_text() for t in ax.texts]
    assert "stem" in labels and "adapter\nlayer1" in labels and "layer4\n+ LoRA" in labels and "head" in labels
    boxes = [p for p in ax.patches if type(p).__name__ == "Rectangle"]
    assert len(boxes) == len(tuner.layout()) + 1  # one per block, plus the LoRA band
    assert f"{tuner.count_parameters(trainable_only=True):,} trainable" in ax.get_title()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["input stem (trains)", "pretrained block (frozen)", "adapter (trains)",
                      "frozen block + LoRA factors (train)", "new head (trains)"]
    with pytest.raises(TypeError, match="AdapterTuner"):
        plot_adapter_layout(PretrainedModel("medium"))


def test_parameter_efficiency_puts_each_method_at_its_parameter_count():
    _, ax = plt.subplots()
    points = [{"label": "adapters", "trainable": 7526, "diff": -0.04, "ci95": (-0.06, -0.02)},
              {"label": "input stem", "trainable": 2580, "diff": 0.01, "ci95": (-0.01, 0.03)},
              {"label": "a twin", "trainable": 2580, "diff": 0.0, "ci95": (-0.01, 0.01)}]
    assert plot_parameter_efficiency(points, ax=ax, title="X-ray") is ax
    assert ax.get_xscale() == "log" and ax.get_title() == "X-ray"
    xs = sorted(float(line.get_xdata()[0]) for line in ax.lines if line.get_marker() == "o")
    assert xs == pytest.approx([2580.0, 2580.0 * 1.04, 7526.0])   # the twin drawn 4% to the right
    ys = sorted(float(line.get_ydata()[0]) for line in ax.lines if line.get_marker() == "o")
    assert ys == pytest.approx([-4.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="points is empty"):
        plot_parameter_efficiency([])
