"""The architecture as a diagram: one box per block with its layers, output shape and size."""

from __future__ import annotations

import numpy as np

from ..pretrained import base_of
from ._axes import get_ax

COLORS = {"input": "#e6e6e6", "frozen": "#b9d3ee", "trainable": "#ffd59a", "head": "#b5e3b5"}


def _shape_text(shape) -> str:
    return "x".join(str(s) for s in shape) if len(shape) > 1 else f"{shape[0]} values"


def _layer_text(layer) -> str:
    kind = type(layer).__name__
    params = getattr(layer, "params", {})
    if kind == "Conv2D" and "W" in params:
        kh, kw, cin, cout = params["W"].shape
        return f"conv {kh}x{kw}, {cin}\u2192{cout}"
    if kind == "Dense" and "W" in params:
        fan_in, fan_out = params["W"].shape
        return f"dense {fan_in}\u2192{fan_out}"
    if kind == "BatchNorm":
        return "batchnorm"
    if kind == "MaxPool2D":
        size = getattr(layer, "pool_size", getattr(layer, "size", 2))
        return f"max-pool {size}x{size}" if isinstance(size, int) else "max-pool"
    return kind.lower().replace("2d", "")


def architecture_rows(model) -> list[dict]:
    """One dict per box: name, layers (text), output shape, parameters, state.

    ``model`` is a PretrainedModel, or a strategy (its base and then its new ``head``).
    """
    base = base_of(model)
    shape = tuple(base.input_shape) + ((1,) if len(base.input_shape) == 2 else ())
    rows = [{"name": "input", "layers": ["image" if len(base.input_shape) == 2 else "vector"],
             "shape": shape, "params": 0, "state": "input"}]
    blocks = list(base.network.blocks)
    if base is not model:
        blocks.append(model.head)
    for block in blocks:
        shape = block.output_shape(shape)
        state = "head" if block.name == "head" else ("trainable" if block.trainable else "frozen")
        rows.append({"name": block.name, "layers": [_layer_text(lay) for _, lay in block.layers],
                     "shape": tuple(shape), "params": block.count_parameters(), "state": state,
                     "trainable": bool(block.trainable)})
    return rows


def plot_architecture(model, ax=None, per_row: int | None = None, title: str | None = None):
    """A diagram of the network: input, blocks ``layer1 ... layerN`` (and the head of a
    strategy) as boxes with their layers, output shape and parameter count; frozen blocks
    blue, trainable ones orange. ``per_row`` boxes per row (default: one row up to 6 boxes,
    else two rows). Returns the Axes."""
    from matplotlib.patches import FancyBboxPatch, Patch

    rows = architecture_rows(model)
    n = len(rows)
    if per_row is None:
        per_row = n if n <= 6 else int(np.ceil(n / 2))
    per_row = max(1, min(per_row, n))
    n_lines = max(len(r["layers"]) for r in rows) + 3
    box_w, box_h, gap_x, gap_y = 2.3, 0.3 * n_lines + 0.45, 0.6, 0.8
    n_rows = int(np.ceil(n / per_row))
    ax = get_ax(ax, figsize=(0.62 * per_row * (box_w + gap_x) + 0.4, 0.62 * n_rows * (box_h + gap_y) + 0.5))
    centers = []
    for i, row in enumerate(rows):
        r, c = divmod(i, per_row)
        x = c * (box_w + gap_x)
        y = -r * (box_h + gap_y)
        centers.append((x + box_w / 2, y + box_h / 2))
        ax.add_patch(FancyBboxPatch((x, y), box_w, box_h, boxstyle="round,pad=0.04,rounding_size=0.12",
                                    facecolor=COLORS[row["state"]], edgecolor="#444444", linewidth=1.2))
        body = "\n".join(row["layers"])
        ax.text(x + box_w / 2, y + box_h - 0.12, row["name"], ha="center", va="top", fontsize=9, fontweight="bold")
        ax.text(x + box_w / 2, y + box_h - 0.5, body, ha="center", va="top", fontsize=7, linespacing=1.3)
        foot = f"out {_shape_text(row['shape'])}"
        if row["state"] != "input":
            foot += f"\n{row['params']:,} params"
            if row["state"] == "frozen":
                foot += " (frozen)"
        ax.text(x + box_w / 2, y + 0.1, foot, ha="center", va="bottom", fontsize=7)
    for i in range(n - 1):
        (x0, y0), (x1, y1) = centers[i], centers[i + 1]
        same_row = i // per_row == (i + 1) // per_row
        if same_row:
            start, end = (x0 + box_w / 2 + 0.03, y0), (x1 - box_w / 2 - 0.06, y1)
        else:
            start, end = (x0, y0 - box_h / 2 - 0.05), (x1, y1 + box_h / 2 + 0.08)
        ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": "#444444", "lw": 1.3})
    ax.set_xlim(-0.3, per_row * (box_w + gap_x) - gap_x + 0.3)
    ax.set_ylim(-(n_rows - 1) * (box_h + gap_y) - 0.3, box_h + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    total = sum(r["params"] for r in rows)
    trainable = sum(r["params"] for r in rows if r["state"] in ("trainable", "head"))
    ax.set_title(title or f"{total:,} parameters, {trainable:,} trainable", fontsize=10)
    handles = [Patch(facecolor=COLORS[k], edgecolor="#444444", label=k) for k in ("frozen", "trainable", "head")
               if any(r["state"] == k for r in rows)]
    ax.legend(handles=handles, fontsize=7, loc="upper right", bbox_to_anchor=(1.0, -0.02), ncol=len(handles),
              frameon=False)
    return ax
