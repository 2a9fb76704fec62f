"""Where the parameter-efficient modules sit, and how few parameters buy how much accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._axes import get_ax

KIND_COLORS = {"pretrained": "#b9d3ee", "lora": "#b9d3ee", "stem": "#ffd59a", "adapter": "#ffd59a",
               "head": "#b5e3b5"}
KIND_LABELS = {"pretrained": "pretrained block (frozen)", "stem": "input stem (trains)",
               "adapter": "adapter (trains)", "lora": "frozen block + LoRA factors (train)",
               "head": "new head (trains)"}


def plot_adapter_layout(tuner, ax=None, title: str | None = None):
    """The network of an ``AdapterTuner`` from input to output, one box per block: frozen
    pretrained blocks blue and tall, the small trainable modules orange (a LoRA block is a
    frozen block with an orange band), the head green; each box says how many of its
    parameters train. Returns the Axes."""
    from matplotlib.patches import Patch, Rectangle

    if not hasattr(tuner, "layout"):
        raise TypeError(f"tuner must be a tlkit AdapterTuner (it has layout()); got {type(tuner).__name__}")
    rows = tuner.layout()
    widths = [1.5 if r["kind"] in ("pretrained", "lora") else 1.0 for r in rows]
    ax = get_ax(ax, figsize=(max(6.0, 0.95 * sum(widths) + 0.3 * len(rows)), 2.6))
    x = 0.0
    for row, width in zip(rows, widths, strict=True):
        small = row["kind"] in ("stem", "adapter")
        height = 0.9 if small else 1.6
        y = (1.6 - height) / 2
        ax.add_patch(Rectangle((x, y), width, height, facecolor=KIND_COLORS[row["kind"]], edgecolor="#444444"))
        if row["kind"] == "lora":
            ax.add_patch(Rectangle((x, y), width, 0.35, facecolor=KIND_COLORS["adapter"], edgecolor="#444444"))
        label = row["name"].replace("adapter_", "adapter\n").replace("+lora", "\n+ LoRA")
        ax.text(x + width / 2, y + height - 0.08, label, ha="center", va="top", fontsize=7.5, fontweight="bold")
        counts = f"{row['trainable']:,} train" if row["trainable"] else ""
        if row["frozen"]:
            counts += ("\n" if counts else "") + f"{row['frozen']:,} frozen"
        ax.text(x + width / 2, y + 0.42 if row["kind"] == "lora" else y + 0.08, counts,
                ha="center", va="bottom", fontsize=6.5)
        x += width + 0.3
    for start in np.cumsum([0.0] + [w + 0.3 for w in widths])[1:-1]:
        ax.annotate("", xy=(start, 0.8), xytext=(start - 0.3, 0.8),
                    arrowprops={"arrowstyle": "-|>", "color": "#444444", "lw": 1.0})
    ax.set_xlim(-0.2, x - 0.1)
    ax.set_ylim(-0.15, 1.75)
    ax.axis("off")
    trainable = sum(r["trainable"] for r in rows)
    frozen = sum(r["frozen"] for r in rows)
    ax.set_title(title or f"{trainable:,} trainable parameters on a frozen base of {frozen:,}", fontsize=10)
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    ax.legend(handles=[Patch(facecolor=KIND_COLORS[k], edgecolor="#444444", label=KIND_LABELS[k]) for k in kinds],
              fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(kinds), 3), frameon=False)
    return ax


def plot_parameter_efficiency(points: Sequence[dict], ax=None, reference: str = "from scratch",
                              title: str | None = None):
    """Accuracy difference against ``reference`` (points, with its 95% interval) versus the
    trainable parameters (log scale), one point per method: how few parameters buy how much.

    ``points``: dicts with ``"label"``, ``"trainable"`` (an int), ``"diff"`` and ``"ci95"`` (a
    pair), as fractions of accuracy; methods with the same count are drawn 4% apart so that
    none hides another. Returns the Axes."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax = get_ax(ax, figsize=(6.0, 3.6))
    if not points:
        raise ValueError("points is empty: give one dict per method")
    seen: dict[int, int] = {}
    for index, p in enumerate(points):
        lo, hi = p["ci95"]
        mean = 100 * p["diff"]
        repeat = seen.get(p["trainable"], 0)  # methods with the same count are drawn 4% apart
        seen[p["trainable"]] = repeat + 1
        x = p["trainable"] * 1.04 ** repeat
        ax.errorbar([x], [mean], yerr=[[mean - 100 * lo], [100 * hi - mean]], fmt="o",
                    color=f"C{index % 10}", capsize=3, label=p["label"])
    ax.axhline(0.0, color="#444444", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("trainable parameters (log scale)")
    ax.set_ylabel(f"accuracy minus {reference}\n(points, 95% interval)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
