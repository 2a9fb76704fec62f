"""Inside the pretrained model: first-layer filters and the feature maps of one image."""

from __future__ import annotations

import numpy as np

from ..nn import Flatten
from ..pretrained import base_of
from ._axes import get_ax, get_axes, hide_ticks, mosaic


def _block(base, layer: str):
    names = base.get_layer_names()
    if layer not in names:
        raise ValueError(f"layer must be one of {names}; got {layer!r}")
    return base.network[layer]


def filter_images(model, layer: str = "layer1", in_channel: int | None = None,
                  max_filters: int = 64) -> np.ndarray:
    """The kernels of ``layer``'s first convolution as (n_filters, kh, kw) images.

    With several input channels, ``in_channel=None`` averages over them; an int picks one.
    For a dense block whose input is a square image flattened (e.g. 64 = 8x8), each unit's
    weights are reshaped back into an image.
    """
    base = base_of(model)
    block = _block(base, layer)
    weight = None
    for _, lay in block.layers:
        if "W" in getattr(lay, "params", {}):
            weight = np.asarray(lay.params["W"], dtype=np.float64)
            break
    if weight is None:
        raise ValueError(f"block {layer!r} has no weight matrix to show")
    if weight.ndim == 4:  # (kh, kw, Cin, Cout)
        if in_channel is None:
            kernels = weight.mean(axis=2)
        else:
            if not 0 <= in_channel < weight.shape[2]:
                raise ValueError(f"in_channel must be in 0..{weight.shape[2] - 1}; got {in_channel}")
            kernels = weight[:, :, in_channel, :]
        images = np.moveaxis(kernels, -1, 0)
    else:  # dense (in, out)
        side = int(round(np.sqrt(weight.shape[0])))
        if side * side != weight.shape[0]:
            raise ValueError(
                f"block {layer!r} is a dense layer with {weight.shape[0]} inputs, not a square image; "
                "its weights cannot be shown as pictures (filters are an idea of image models)"
            )
        images = weight.T.reshape(-1, side, side)
    return images[:max_filters]


def plot_filters(model, layer: str = "layer1", in_channel: int | None = None, max_filters: int = 64,
                 ncols: int = 8, normalize: bool = True, ax=None):
    """The 3x3 kernels of ``layer`` (default the first block) as small images, red + / blue -.

    Each kernel is scaled to its own largest absolute weight when ``normalize`` (its
    pattern is what matters); otherwise all share one scale. Returns the Axes.
    """
    images = filter_images(model, layer, in_channel, max_filters)
    if normalize:
        scale = np.abs(images).reshape(len(images), -1).max(axis=1)
        images = images / np.where(scale > 0, scale, 1.0)[:, None, None]
    limit = float(np.abs(images).max()) or 1.0
    ncols = max(1, min(ncols, len(images)))
    nrows = int(np.ceil(len(images) / ncols))
    ax = get_ax(ax, figsize=(0.75 * ncols + 0.6, 0.75 * nrows + 0.6))
    import matplotlib as mpl

    colormap = mpl.colormaps["RdBu_r"].with_extremes(bad="white")
    shown = ax.imshow(mosaic(images, ncols), cmap=colormap, vmin=-limit, vmax=limit, interpolation="nearest")
    hide_ticks(ax)
    ax.set_frame_on(False)
    kh, kw = images.shape[1:]
    ax.set_title(f"{layer}: {len(images)} filters of {kh}x{kw}")
    ax.figure.colorbar(shown, ax=ax, fraction=0.03, pad=0.02)
    return ax


def feature_maps(model, image, layers=None) -> dict[str, np.ndarray]:
    """Each block's output for one image, in inference mode, as (channels, H, W) (before any flatten)."""
    base = base_of(model)
    if len(base.input_shape) != 2:
        raise ValueError(
            f"feature maps need an image model; this model takes vectors of shape {base.input_shape}"
        )
    names = base.get_layer_names()
    wanted = names if layers is None else [layers] if isinstance(layers, str) else list(layers)
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise ValueError(f"layers contains unknown name(s) {unknown}; valid names are {names}")
    batch, single = base.to_network_input(image, "image")
    if not single:
        if len(batch) != 1:
            raise ValueError(f"image must be one image of shape {base.input_shape}; got a batch of {len(batch)}")
    x, maps = batch, {}
    for block in base.network.blocks:
        for _, lay in block.layers:
            if isinstance(lay, Flatten):
                continue
            x = lay.forward(x, False)
        if block.name in wanted:
            maps[block.name] = np.moveaxis(np.asarray(x[0], dtype=np.float64), -1, 0)
        if len(maps) == len(wanted):
            break
    return maps


def plot_feature_maps(model, image, layers=None, max_maps: int = 8, ax=None):
    """The input image, then up to ``max_maps`` channels of each block's output for it.

    Early blocks respond to strokes and edges at full resolution; later blocks to larger,
    more abstract patterns on smaller maps. ``ax``: 1 + len(layers) Axes. Returns the Axes.
    """
    maps = feature_maps(model, image, layers)
    base = base_of(model)
    batch, _ = base.to_network_input(image, "image")
    axes = get_axes(ax, 1 + len(maps), figsize=(2.2 + 2.6 * len(maps), 2.8))
    axes[0].imshow(batch[0, ..., 0], cmap="gray_r", interpolation="nearest")
    axes[0].set_title("input")
    hide_ticks(axes[0])
    import matplotlib as mpl

    colormap = mpl.colormaps["viridis"].with_extremes(bad="white")
    for axis, (name, fmap) in zip(axes[1:], maps.items(), strict=True):
        shown = fmap[:max_maps]
        ncols = int(np.ceil(np.sqrt(len(shown))))
        top = float(shown.max()) if shown.size else 1.0
        axis.imshow(mosaic(shown, ncols), cmap=colormap, vmin=0.0, vmax=top if top > 0 else 1.0,
                    interpolation="nearest")
        axis.set_title(f"{name}: {fmap.shape[0]} maps of {fmap.shape[1]}x{fmap.shape[2]}", fontsize=9)
        hide_ticks(axis)
        axis.set_frame_on(False)
    return axes
