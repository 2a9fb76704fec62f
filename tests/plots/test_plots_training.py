import matplotlib.colors as mcolors
import numpy as np
import pytest
from matplotlib.axes import Axes

from tlkit import TrainingHistory
from tlkit.lr_finder import LRFinderResult
from tlkit.plots import (
    comparison_table,
    plot_history,
    plot_learning_curves,
    plot_lr_finder,
    plot_lr_per_block,
    plot_strategy_comparison,
    plot_winner_map,
    summarize_results,
    winner_table,
)


def _history(epochs=4, val=True, offset=0.0):
    h = TrainingHistory()
    h.loss = [1.0 / (e + 1) + offset for e in range(epochs)]
    h.accuracy = [0.2 * e for e in range(epochs)]
    if val:
        h.val_loss = [x + 0.1 for x in h.loss]
        h.val_accuracy = [x - 0.05 for x in h.accuracy]
    h.learning_rates = {"layer1": [0.0] * epochs, "layer2": [0.0, 1e-4, 1e-4, 1e-4][:epochs],
                        "head": [1e-3] * epochs}
    return h


def test_plot_history_one_run_train_and_validation():
    h = _history()
    loss_ax, acc_ax = plot_history(h)
    assert [line.get_label() for line in loss_ax.lines] == ["train", "validation"]
    assert loss_ax.lines[0].get_ydata().tolist() == pytest.approx(h.loss)
    assert acc_ax.lines[1].get_ydata().tolist() == pytest.approx(h.val_accuracy)
    assert loss_ax.lines[0].get_xdata().tolist() == [1, 2, 3, 4]


def test_plot_history_several_runs_and_plain_dicts():
    axes = plot_history({"fine_tuning": _history(), "feature_extraction": {"loss": [1, 0.5], "accuracy": [0, 1]}})
    labels = [line.get_label() for line in axes[0].lines]
    assert labels == ["fine-tuning train", "fine-tuning validation", "feature extraction train"]
    with pytest.raises(TypeError, match="history must be"):
        plot_history({"a": 3})
    with pytest.raises(ValueError, match="2 Axes"):
        plot_history(_history(), ax=[axes[0]])


def test_plot_lr_per_block_gaps_for_frozen_epochs():
    ax = plot_lr_per_block(_history())
    assert isinstance(ax, Axes) and ax.get_yscale() == "log"
    lines = {line.get_label(): line for line in ax.lines}
    assert set(lines) == {"layer1", "layer2", "head"}
    layer2 = lines["layer2"].get_ydata()
    assert np.isnan(layer2[0]) and layer2[1:].tolist() == pytest.approx([1e-4] * 3)
    frozen_markers = sum(len(c.get_offsets()) for c in ax.collections)
    assert frozen_markers == 4 + 1  # layer1 every epoch, layer2 in the warm-up
    with pytest.raises(ValueError, match="learning_rates"):
        plot_lr_per_block(TrainingHistory())


def test_plot_lr_finder_marks_the_suggestion():
    lrs = np.logspace(-5, 0, 30)
    losses = 2.0 - np.tanh(np.log10(lrs) + 3) + np.where(lrs > 0.1, 5 * lrs, 0)
    result = LRFinderResult(lrs=lrs, losses=losses, raw_losses=losses + 0.05, suggestion=1e-3,
                            steepest=1e-3, min_loss_lr=0.05, diverged=False)
    ax = plot_lr_finder(result)
    assert ax.get_xscale() == "log"
    suggestion_lines = [line for line in ax.lines if "suggestion" in line.get_label()]
    assert suggestion_lines and suggestion_lines[0].get_xdata()[0] == pytest.approx(1e-3)
    with pytest.raises(TypeError, match="LRFinderResult"):
        plot_lr_finder({"lrs": lrs})


def test_plot_strategy_comparison_bars():
    table = {"feature_extraction": {"accuracy": 0.8, "time": 0.1}, "fine_tuning": {"accuracy": 0.9, "time": 0.5},
             "from_scratch": {"accuracy": 0.4, "time": 0.7}}
    acc_ax, time_ax = plot_strategy_comparison(table)
    assert [p.get_height() for p in acc_ax.patches] == pytest.approx([0.8, 0.9, 0.4])
    assert [p.get_height() for p in time_ax.patches] == pytest.approx([0.1, 0.5, 0.7])
    assert [t.get_text() for t in acc_ax.get_xticklabels()] == ["feature extraction", "fine-tuning", "from scratch"]

    class Result:
        def __init__(self, accuracy, time):
            self.accuracy, self.time = accuracy, time

    class Comparison:  # like TransferLearningManager.compare_strategies' answer
        feature_extraction, fine_tuning, from_scratch = Result(0.7, 1), Result(0.6, 2), Result(0.5, 3)

    assert comparison_table(Comparison())["fine_tuning"] == {"accuracy": 0.6, "time": 2.0}
    with pytest.raises(TypeError, match="comparison"):
        plot_strategy_comparison([0.1, 0.2])


def _sweep():
    rows = []
    for task in ("high", "low"):
        for n in (10, 100, 1000):
            for seed in range(3):
                rows.append({"task": task, "strategy": "feature_extraction", "n_train": n, "seed": seed,
                             "accuracy": 0.7 + 0.01 * seed})
                better = 0.9 if (task == "low" and n == 1000) else 0.5
                rows.append({"task": task, "strategy": "fine_tuning", "n_train": n, "seed": seed,
                             "accuracy": better + 0.02 * seed})
    return rows


def test_learning_curves_mean_and_band_over_seeds():
    rows = _sweep()
    summary = summarize_results(rows)
    assert summary[("low", "fine_tuning", 1000)] == pytest.approx(
        {"mean": 0.92, "std": np.std([0.9, 0.92, 0.94]), "min": 0.9, "max": 0.94, "n_seeds": 3})
    axes = plot_learning_curves(rows)
    assert [a.get_title() for a in axes] == ["task: high", "task: low"]
    line = [ln for ln in axes[1].lines if ln.get_label() == "fine-tuning"][0]
    assert line.get_xdata().tolist() == [10, 100, 1000]
    assert line.get_ydata().tolist() == pytest.approx([0.52, 0.52, 0.92])
    band = axes[1].collections[1].get_paths()[0].vertices
    assert band[:, 1].max() == pytest.approx(0.94) and axes[1].get_xscale() == "log"
    with pytest.raises(ValueError, match="lacks key"):
        plot_learning_curves([{"task": "a"}])


def test_winner_table_and_map_against_the_rule():
    table = winner_table(_sweep())
    assert table[("high", 10)]["winner"] == "feature_extraction"
    assert table[("high", 10)]["rule"] == "feature_extraction" and table[("high", 10)]["agrees"]
    assert table[("low", 1000)]["winner"] == "fine_tuning" and table[("low", 1000)]["rule"] == "fine_tuning"
    assert table[("low", 10)]["rule"] == "fine_tuning" and not table[("low", 10)]["agrees"]
    assert table[("high", 10)]["accuracy"] == pytest.approx(0.71)
    measured_ax, rule_ax = plot_winner_map(_sweep())
    red = [p for p in measured_ax.patches if p.get_edgecolor()[:3] == (1.0, 0.0, 0.0)]
    assert len(red) == sum(not cell["agrees"] for cell in table.values())
    assert [t.get_text() for t in measured_ax.get_yticklabels()] == ["high similarity", "low similarity"]


def test_winner_map_with_named_tasks_and_ties():
    rows = [{"task": "digits", "strategy": s, "n_train": 50, "seed": 0, "accuracy": 0.5}
            for s in ("feature_extraction", "fine_tuning")]
    assert winner_table(rows, similarity={"digits": "high"})[("high", 50)]["winner"] == "tie"
    with pytest.raises(ValueError, match="similarity"):
        winner_table(rows)


def test_plot_history_train_and_validation_in_two_colours_with_sparse_markers():
    h = {"loss": list(np.linspace(2, 0.1, 75)), "accuracy": list(np.linspace(0.1, 1, 75)),
         "val_loss": list(np.linspace(2, 0.5, 75)), "val_accuracy": list(np.linspace(0.1, 0.8, 75))}
    loss_ax, _ = plot_history(h)
    train, val = loss_ax.lines
    assert mcolors.to_rgba(train.get_color()) != mcolors.to_rgba(val.get_color())
    assert train.get_markevery() == 8 and val.get_markevery() == 8  # ceil(75 / 10): about ten markers


def test_plot_history_of_one_epoch_has_one_integer_tick():
    loss_ax, acc_ax = plot_history({"loss": [0.7], "accuracy": [0.5]})
    for ax in (loss_ax, acc_ax):
        ax.figure.canvas.draw()
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks == [1.0]


def test_plot_lr_per_block_equal_rates_share_one_labelled_line():
    rates = {"layer1": [0.0, 1e-4, 1e-4], "layer2": [0.0, 1e-4, 1e-4], "layer3": [0.0, 1e-3, 1e-3],
             "layer4": [0.0, 1e-3, 1e-3], "head": [1e-2, 1e-2, 1e-2]}
    ax = plot_lr_per_block(rates)
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["layer1 = layer2 (same rate)", "layer3 = layer4 (same rate)", "head"]
    for name in rates:  # every block is named in the legend
        assert any(name in text.get_text() for text in ax.get_legend().get_texts())
    rows = [set(np.round(np.log10(c.get_offsets()[:, 1]), 6)) for c in ax.collections]
    assert len(rows) == 2 and all(len(r) == 1 for r in rows) and rows[0] != rows[1]  # x marks never stack
    assert np.log10(ax.get_ylim()[0]) < min(min(r) for r in rows) and ax.get_xlim() == (0.5, 3.5)


def test_plot_lr_finder_clips_a_divergence_spike():
    lrs = np.logspace(-5, 0, 30)
    losses = np.full(30, 2.3)
    losses[-3:] = [5.0, 20.0, 45.0]  # the run diverges at the end
    result = LRFinderResult(lrs=lrs, losses=losses, raw_losses=losses, suggestion=1e-3,
                            steepest=1e-3, min_loss_lr=1e-3, diverged=True)
    ax = plot_lr_finder(result)
    assert ax.get_ylim()[1] == pytest.approx(4.6)  # twice the starting loss, not 45
    flat = plot_lr_finder(LRFinderResult(lrs=lrs, losses=np.full(30, 2.3), raw_losses=np.full(30, 2.3),
                                         suggestion=1e-3, steepest=1e-3, min_loss_lr=1e-3, diverged=False))
    assert flat.get_ylim()[1] < 4.6  # nothing to clip: matplotlib's own limits


def test_plot_lr_per_block_a_block_at_the_heads_rate_is_drawn_over_the_head():
    rates = {"layer1": [0.0, 1e-3, 1e-3], "head": [1e-3, 1e-3, 1e-3]}  # equal from epoch 2 on, not equal series
    ax = plot_lr_per_block(rates)
    lines = {line.get_label(): line for line in ax.lines}
    assert set(lines) == {"layer1", "head"}
    assert lines["layer1"].get_zorder() > lines["head"].get_zorder()
    assert lines["head"].get_linewidth() > 2 * lines["layer1"].get_linewidth() and lines["head"].get_alpha() < 1
