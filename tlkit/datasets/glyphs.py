"""The source corpus: a procedural alphabet of random handwritten-looking glyphs.

Each class is a fixed random "letter" of 1-3 cubic Bezier strokes (later
strokes often start on an earlier one, as pen strokes of letters do). Each
sample is that letter written again: control points jittered, a small random
slant/rotation/aspect change, its own stroke thickness. It is then rendered
exactly the way the UCI digits were made: a binary bitmap at 4x the final
resolution (32x32 for 8x8), normalised to fill the frame height and
centred, then the on pixels of each 4x4 block are counted, giving levels
0..16 (divided by 16).

The corpus is generated from random numbers only: it contains no real digit
image (nor any other recorded image), by construction. Some random glyphs
may of course resemble a digit or a letter by chance.
"""

from __future__ import annotations

import numpy as np

from ..argcheck import check_int
from .domains import in_the_wild

UPSAMPLE = 4  # render at 4x, then count on pixels in 4x4 blocks (like UCI)
MAX_STROKES = 3
_POINTS_PER_STROKE = 64
_CHUNK = 4096
_MAX_STRETCH = 2.0  # at most this much vertical stretch to fill the height
_MAX_RADIUS = 3.2  # stroke half-width limit at render resolution, in pixels

# Per-sample variation of a class's letter (units: the unit square of the prototype).
_JITTER = 0.05  # std of each control point's displacement
_MAX_ROTATION = 10.0  # degrees
_MAX_SHEAR = 0.25
_MAX_ASPECT = 0.12


def _stream(seed: int, stream: int) -> np.random.Generator:
    """Independent generator number ``stream`` for ``seed``."""
    return np.random.Generator(np.random.PCG64([seed, stream]))


def _bezier(ctrl: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points of cubic Bezier curves: ctrl (..., 4, 2), t (T,) -> (..., T, 2)."""
    t = t[:, None]
    b = np.stack([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3], axis=-2)
    return np.einsum("tk...,...kd->...td", b[:, :, 0], ctrl)


def glyph_prototypes(n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The letters of the alphabet: ``(ctrl, n_strokes, thickness)``.

    ``ctrl`` (n_classes, 3, 4, 2) holds the control points in the unit square;
    unused strokes are ignored. One uniform block per class is drawn in class
    order, so the first k classes are the same for any ``n_classes >= k``.
    """
    u = _stream(seed, 0).random((n_classes, 2 + MAX_STROKES * 11))
    n_strokes = 1 + np.searchsorted([0.15, 0.55], u[:, 0], side="right")  # 15/40/45 %
    thickness = 2.0 + 1.0 * u[:, 1]  # class's typical stroke half-width (render px)
    ctrl = np.zeros((n_classes, MAX_STROKES, 4, 2))
    for s in range(MAX_STROKES):
        v = u[:, 2 + 11 * s: 2 + 11 * (s + 1)]
        p0, p3 = v[:, 0:2], v[:, 2:4]
        if s > 0:  # often start on a point of an earlier stroke
            attach = v[:, 8] < 0.6
            j = np.minimum((v[:, 9] * s).astype(int), s - 1)
            on = np.einsum("nkd,nk->nd", ctrl[np.arange(n_classes), j],
                           _bernstein(0.1 + 0.8 * v[:, 10]))
            p0 = np.where(attach[:, None], on, p0)
        d = p3 - p0  # keep strokes from collapsing to a dot
        length = np.linalg.norm(d, axis=1, keepdims=True)
        p3 = p0 + d / np.maximum(length, 1e-9) * np.maximum(length, 0.4)
        curv = 0.7 * v[:, 4:5] ** 1.5  # many nearly straight strokes, some curly
        p1 = p0 + (p3 - p0) / 3 + curv * (2 * v[:, 5:7] - 1)
        p2 = p0 + 2 * (p3 - p0) / 3 + curv * (2 * np.roll(v[:, 5:7], 1, axis=1) - 1) \
            * np.where(v[:, 7:8] < 0.5, 1.0, -1.0)
        ctrl[:, s] = np.stack([p0, p1, p2, p3], axis=1)
    return ctrl, n_strokes, thickness


def _bernstein(t: np.ndarray) -> np.ndarray:
    """Cubic Bernstein weights for a parameter per row: (n,) -> (n, 4)."""
    t = t[:, None]
    return np.concatenate([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3], 1)


def _render(points: np.ndarray, valid: np.ndarray, radius: np.ndarray, size: int) -> np.ndarray:
    """Binary bitmaps (n, size, size): the polyline points dilated by a disc of ``radius``."""
    n = points.shape[0]
    ij = np.clip(np.rint(points).astype(np.intp), 0, size - 1)
    thin = np.zeros(n * size * size, dtype=bool)
    rows = np.broadcast_to(np.arange(n)[:, None], valid.shape)
    flat = (rows * size + ij[..., 0]) * size + ij[..., 1]
    thin[flat[valid]] = True
    r = int(np.floor(_MAX_RADIUS))
    padded = np.pad(thin.reshape(n, size, size), ((0, 0), (r, r), (r, r)))
    out = np.zeros((n, size, size), dtype=bool)
    r2 = radius**2
    offsets = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
               if dy * dy + dx * dx <= _MAX_RADIUS**2]
    for d2 in sorted({dy * dy + dx * dx for dy, dx in offsets}):
        ring = np.zeros_like(out)
        for dy, dx in offsets:
            if dy * dy + dx * dx == d2:
                ring |= padded[:, r + dy: r + dy + size, r + dx: r + dx + size]
        out |= ring & (r2 >= d2)[:, None, None]
    return out


def render_glyphs(ctrl: np.ndarray, valid_strokes: np.ndarray, radius: np.ndarray,
                  image_size: int) -> np.ndarray:
    """Render glyphs given per-sample control points (n, 3, 4, 2) in any units.

    Each glyph is scaled (aspect kept) to fill the frame height (at most 3/4
    of the width, like the UCI digits) and centred, drawn as a binary bitmap
    at 4x resolution with stroke half-width ``radius`` (render pixels), and
    block-counted down to ``image_size``. Returns uint8 counts 0..16.
    """
    size = UPSAMPLE * image_size
    t = np.linspace(0.0, 1.0, _POINTS_PER_STROKE)
    pts = _bezier(ctrl, t)  # (n, S, T, 2)
    valid = np.broadcast_to(valid_strokes[:, :, None], pts.shape[:3])
    big = np.where(valid[..., None], pts, np.nan)
    lo = np.nanmin(big, axis=(1, 2))
    hi = np.nanmax(big, axis=(1, 2))
    extent = np.maximum(hi - lo, 1e-6)
    margin = 2 * radius - 1
    box = np.stack([size - margin, 0.75 * size - margin], axis=1)
    # Fill the frame height like the NIST-normalised digits; keep the aspect
    # ratio unless that leaves the glyph flatter than the frame allows, then
    # stretch it vertically by at most _MAX_STRETCH.
    sx = box[:, 1] / extent[:, 1]
    fill = box[:, 0] / extent[:, 0]
    sy = np.minimum(fill, _MAX_STRETCH * np.minimum(sx, fill))
    scale = np.stack([sy, np.minimum(sx, sy)], axis=1)
    centre = (lo + hi) / 2
    pts = (pts - centre[:, None, None]) * scale[:, None, None, :] + (size - 1) / 2
    n = ctrl.shape[0]
    bitmaps = _render(pts.reshape(n, -1, 2), valid.reshape(n, -1), radius, size)
    k = UPSAMPLE
    return bitmaps.reshape(n, image_size, k, image_size, k).sum(axis=(2, 4), dtype=np.uint8)


def make_glyphs(
    n_classes: int = 100,
    n_per_class: int = 250,
    image_size: int = 8,
    seed: int = 0,
    warp: bool = False,
    canvas: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the glyph corpus ``(X, y)``: ``n_classes`` random letters,
    ``n_per_class`` handwritten-like samples of each, in random order.

    ``X``: float32 (N, image_size, image_size) with values k/16, k in 0..16
    (the UCI digits' rendering). ``y``: int64 class ids 0..n_classes-1.
    ``warp=True`` puts each glyph on a ``canvas`` x ``canvas`` background
    (default image_size + 4) with the pose, clutter and noise of
    :func:`tlkit.datasets.domains.in_the_wild`: the source for the digits
    "in the wild" (values are then no longer multiples of 1/16).
    Deterministic given ``seed``; contains no real digit image.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    n_per_class = check_int(n_per_class, "n_per_class", minimum=1)
    image_size = check_int(image_size, "image_size", minimum=4, maximum=64)
    seed = check_int(seed, "seed", 0)
    if not isinstance(warp, (bool, np.bool_)):
        raise ValueError(f"warp must be True or False; got {warp!r}")
    if canvas is not None and not warp:
        raise ValueError(f"canvas only applies with warp=True; got canvas={canvas!r}, warp=False")
    if warp:
        canvas = check_int(image_size + 4 if canvas is None else canvas, "canvas",
                           minimum=image_size)

    proto, n_strokes, thickness = glyph_prototypes(n_classes, seed)
    rng = _stream(seed, 1)
    n = n_classes * n_per_class
    y = rng.permutation(np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class))
    ctrl = proto[y] + _JITTER * rng.standard_normal((n, MAX_STROKES, 4, 2))
    # a small per-sample slant, rotation and aspect change: the writer's hand
    ang = np.deg2rad(rng.uniform(-_MAX_ROTATION, _MAX_ROTATION, n))
    shear = rng.uniform(-_MAX_SHEAR, _MAX_SHEAR, n)
    aspect = 1 + rng.uniform(-_MAX_ASPECT, _MAX_ASPECT, n)
    c, s = np.cos(ang), np.sin(ang)
    m = np.stack([np.stack([c * aspect, -s + shear], -1), np.stack([s * aspect, c], -1)], -2)
    ctrl = np.einsum("nij,nskj->nski", m, ctrl)
    radius = np.clip(thickness[y] * (1 + 0.12 * rng.standard_normal(n)), 1.2, _MAX_RADIUS)
    radius = radius * image_size / 8  # keep stroke width relative to the glyph size
    valid = np.arange(MAX_STROKES)[None, :] < n_strokes[y][:, None]

    counts = np.empty((n, image_size, image_size), dtype=np.uint8)
    for start in range(0, n, _CHUNK):  # bounded memory; no random draws in here
        sl = slice(start, start + _CHUNK)
        counts[sl] = render_glyphs(ctrl[sl], valid[sl], radius[sl], image_size)
    X = counts.astype(np.float32) / np.float32(16.0)
    if warp:
        X = in_the_wild(X, _stream(seed, 2), canvas=canvas)
    return X, y
