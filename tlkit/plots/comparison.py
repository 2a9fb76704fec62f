"""Comparing strategies: one comparison as bars, learning curves, and the winner map.

The measured results of a sweep are a plain list of dicts, one per training run::

    {"task": "high", "strategy": "fine_tuning", "n_train": 100, "seed": 0, "accuracy": 0.91}

(optionally with ``"similarity"``: "high" | "medium" | "low"; extra keys are ignored).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from .. import strategy_rule
from ._axes import STRATEGY_COLORS, get_axes, strategy_color, strategy_label

RESULT_KEYS = ("task", "strategy", "n_train", "seed", "accuracy")
TIE_TOLERANCE = 1e-9


def comparison_table(comparison) -> dict[str, dict[str, float]]:
    """``{strategy: {"accuracy": a, "time": t}}`` from a StrategyComparison, its ``as_dict()``,
    or a dict of objects with ``.accuracy`` and ``.time``."""
    if hasattr(comparison, "results") and isinstance(comparison.results, Mapping):
        comparison = comparison.results
    elif all(hasattr(comparison, n) for n in STRATEGY_COLORS):
        comparison = {n: getattr(comparison, n) for n in STRATEGY_COLORS}
    if not isinstance(comparison, Mapping) or not comparison:
        raise TypeError(
            "comparison must be the result of compare_strategies or a dict {strategy: {'accuracy', 'time'}}; "
            f"got {type(comparison).__name__}"
        )
    table = {}
    for name, result in comparison.items():
        if isinstance(result, Mapping):
            table[name] = {"accuracy": float(result["accuracy"]), "time": float(result["time"])}
        else:
            table[name] = {"accuracy": float(result.accuracy), "time": float(result.time)}
    return table


def plot_strategy_comparison(comparison, ax=None, title: str | None = None):
    """Two bar charts: held-out accuracy and training time (s) of each strategy.

    ``comparison``: what ``TransferLearningManager.compare_strategies`` returns (or a dict
    ``{strategy: {"accuracy": a, "time": t}}``). Returns the two Axes.
    """
    table = comparison_table(comparison)
    names = list(table)
    acc_ax, time_ax = get_axes(ax, 2, figsize=(9.0, 3.2))
    colors = [strategy_color(n, i) for i, n in enumerate(names)]
    labels = [strategy_label(n) for n in names]
    accuracies = [table[n]["accuracy"] for n in names]
    times = [table[n]["time"] for n in names]
    bars = acc_ax.bar(labels, accuracies, color=colors)
    acc_ax.bar_label(bars, fmt="%.3f", fontsize=8)
    acc_ax.set_ylim(0, 1.1)
    acc_ax.set_ylabel("accuracy")
    acc_ax.set_title("accuracy" if title is None else f"{title}: accuracy")
    bars = time_ax.bar(labels, times, color=colors)
    time_ax.bar_label(bars, fmt="%.2f s", fontsize=8)
    time_ax.set_ylabel("training time (s)")
    time_ax.set_title("training time" if title is None else f"{title}: time")
    for axis in (acc_ax, time_ax):
        axis.tick_params(axis="x", labelsize=8)
        axis.grid(axis="y", alpha=0.3)
    return np.array([acc_ax, time_ax], dtype=object)


# -- sweeps: learning curves and the winner map -------------------------------------------

def check_results(results) -> list[dict]:
    """Validate a sweep's results (a list of dicts with task, strategy, n_train, seed, accuracy)."""
    if isinstance(results, Mapping) or not hasattr(results, "__iter__"):
        raise TypeError(f"results must be a list of dicts {{{', '.join(RESULT_KEYS)}}}; got {type(results).__name__}")
    rows = list(results)
    if not rows:
        raise ValueError("results is empty; give at least one run")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"results[{i}] must be a dict; got {type(row).__name__}")
        missing = [k for k in RESULT_KEYS if k not in row]
        if missing:
            raise ValueError(f"results[{i}] lacks key(s) {missing}; every run needs {list(RESULT_KEYS)}")
    return rows


def summarize_results(results) -> dict[tuple[str, str, int], dict[str, float]]:
    """``{(task, strategy, n_train): {"mean", "std", "min", "max", "n_seeds"}}`` over the seeds."""
    groups: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for row in check_results(results):
        groups[(str(row["task"]), str(row["strategy"]), int(row["n_train"]))].append(float(row["accuracy"]))
    return {
        key: {"mean": float(np.mean(v)), "std": float(np.std(v)), "min": float(np.min(v)),
              "max": float(np.max(v)), "n_seeds": len(v)}
        for key, v in groups.items()
    }


def plot_learning_curves(results, ax=None, band: str = "minmax", tasks=None):
    """Accuracy against the number of training examples, one line per strategy.

    The line is the mean over seeds; the band is the spread over seeds (``band="minmax"``:
    lowest to highest, ``"std"``: mean +- one standard deviation, ``None``: no band). One
    panel per task (in ``tasks`` order, default: first appearance). Returns the Axes.
    """
    if band not in ("minmax", "std", None):
        raise ValueError(f"band must be 'minmax', 'std' or None; got {band!r}")
    results = check_results(results)
    summary = summarize_results(results)
    found = list(dict.fromkeys(str(r["task"]) for r in results))
    tasks = found if tasks is None else [str(t) for t in tasks]
    unknown = [t for t in tasks if t not in found]
    if unknown:
        raise ValueError(f"tasks contains {unknown}, not in the results; tasks there: {found}")
    strategies = list(dict.fromkeys(str(r["strategy"]) for r in results))
    axes = get_axes(ax, len(tasks), figsize=(4.3 * len(tasks), 3.4))
    for axis, task in zip(axes, tasks, strict=True):
        for index, strategy in enumerate(strategies):
            keys = sorted((k for k in summary if k[0] == task and k[1] == strategy), key=lambda k: k[2])
            if not keys:
                continue
            n = np.array([k[2] for k in keys])
            stats = [summary[k] for k in keys]
            mean = np.array([s["mean"] for s in stats])
            color = strategy_color(strategy, index)
            axis.plot(n, mean, marker="o", color=color, label=strategy_label(strategy))
            if band == "minmax":
                axis.fill_between(n, [s["min"] for s in stats], [s["max"] for s in stats], color=color, alpha=0.2)
            elif band == "std":
                std = np.array([s["std"] for s in stats])
                axis.fill_between(n, mean - std, mean + std, color=color, alpha=0.2)
        axis.set_xscale("log")
        axis.set_xlabel("training examples")
        axis.set_ylabel("test accuracy")
        axis.set_title(f"task: {task}")
        axis.set_ylim(-0.02, 1.02)
        axis.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    return axes


def _similarity_of(row: Mapping, similarity) -> str:
    if "similarity" in row:
        return str(row["similarity"])
    task = str(row["task"])
    if similarity is not None:
        if task not in similarity:
            raise ValueError(f"similarity has no entry for task {task!r}; it maps {sorted(similarity)}")
        return str(similarity[task])
    return task


def winner_table(results, similarity: Mapping | None = None) -> dict[tuple[str, int], dict]:
    """The measured winner and the rule's choice for each (similarity, n_train).

    The winner has the highest mean accuracy over seeds; a tie (within 1e-9) is reported as
    ``"tie"``. ``similarity`` maps task names to "high" | "medium" | "low" (default: a row's
    ``"similarity"`` key, else its task name). Values: ``{"winner", "accuracy", "rule",
    "agrees", "means"}``.
    """
    rows = check_results(results)
    groups: dict[tuple[str, int, str], list[float]] = defaultdict(list)
    for row in rows:
        sim = _similarity_of(row, similarity)
        if sim not in strategy_rule.SIMILARITIES:
            raise ValueError(
                f"task {row['task']!r} has similarity {sim!r}; valid: {list(strategy_rule.SIMILARITIES)} "
                "(pass similarity={task: 'high' | 'medium' | 'low'} or a 'similarity' key)"
            )
        groups[(sim, int(row["n_train"]), str(row["strategy"]))].append(float(row["accuracy"]))
    cells: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
    for (sim, n, strategy), values in groups.items():
        cells[(sim, n)][strategy] = float(np.mean(values))
    table = {}
    for (sim, n), means in sorted(cells.items(), key=lambda kv: (strategy_rule.SIMILARITIES.index(kv[0][0]),
                                                                  kv[0][1])):
        ranked = sorted(means.items(), key=lambda kv: -kv[1])
        best, best_acc = ranked[0]
        if len(ranked) > 1 and best_acc - ranked[1][1] <= TIE_TOLERANCE:
            best = "tie"
        rule = strategy_rule.choose_strategy(n, sim)
        table[(sim, n)] = {"winner": best, "accuracy": best_acc, "rule": rule, "agrees": best == rule,
                           "means": dict(means)}
    return table


def plot_winner_map(results, similarity: Mapping | None = None, ax=None):
    """Left: the measured winner for each similarity (rows) and training-set size (columns);
    right: what the course's rule recommends there. Cells where they differ are outlined red.

    ``results`` and ``similarity`` as in :func:`winner_table`. Returns the two Axes.
    """
    from matplotlib.patches import Patch, Rectangle

    table = winner_table(results, similarity)
    sims = [s for s in strategy_rule.SIMILARITIES if any(k[0] == s for k in table)]
    sizes = sorted({k[1] for k in table})
    names = list(strategy_rule.STRATEGIES) + ["tie"]
    color_of = {**STRATEGY_COLORS, "tie": "lightgrey"}
    own_figure = ax is None
    measured_ax, rule_ax = get_axes(ax, 2, figsize=(max(8.0, 1.5 * len(sizes) * 2 + 2), 1.0 * len(sims) + 2.2))
    import matplotlib.colors as mcolors

    for axis, field, title in ((measured_ax, "winner", "measured winner (mean over seeds)"),
                               (rule_ax, "rule", "the rule recommends")):
        for r, sim in enumerate(sims):
            for c, n in enumerate(sizes):
                cell = table.get((sim, n))
                if cell is None:
                    axis.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="white", edgecolor="lightgrey"))
                    axis.text(c, r, "not run", ha="center", va="center", fontsize=7, color="grey")
                    continue
                name = cell[field]
                face = mcolors.to_rgba(color_of.get(name, "white"), alpha=0.75)
                axis.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=face, edgecolor="white", linewidth=1.0))
                if not cell["agrees"]:
                    axis.add_patch(Rectangle((c - 0.45, r - 0.45), 0.9, 0.9, facecolor="none", edgecolor="red",
                                             linewidth=2.0, zorder=3))
                text = strategy_label(name).replace(" ", "\n", 1)
                if field == "winner":
                    text += f"\n{cell['accuracy']:.2f}"
                axis.text(c, r, text, ha="center", va="center", fontsize=7)
        axis.set_xlim(-0.5, len(sizes) - 0.5)
        axis.set_ylim(len(sims) - 0.5, -0.5)
        axis.set_xticks(range(len(sizes)), [f"{n:,}" for n in sizes])
        axis.set_yticks(range(len(sims)), [f"{s} similarity" for s in sims])
        axis.set_xlabel("training examples")
        axis.set_title(title, fontsize=10)
        axis.set_aspect("auto")
    if own_figure:  # side by side: the row labels of the left panel serve both
        rule_ax.tick_params(labelleft=False)
    handles = [Patch(facecolor=color_of[n], label=strategy_label(n)) for n in names]
    handles.append(Patch(facecolor="white", edgecolor="red", linewidth=2, label="measured != rule"))
    rule_ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return np.array([measured_ax, rule_ax], dtype=object)
