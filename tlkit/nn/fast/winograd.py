"""Winograd's minimal filtering F(4x4, 3x3): a 3x3 'same' convolution of a 4x4 map in 36
products per (input, output) channel pair instead of im2col's 144 (Lavin & Gray, 2016).

In one dimension, F(4, 3) gives 4 outputs of a 3-tap correlation of 6 inputs ``d`` with
filter ``g`` as

    y = A^T [(G g) * (B^T d)]        (* elementwise, over 6 "frequencies")

for matrices built from 5 interpolation points (below). In two dimensions the same holds
with ``B^T d B``, ``G g G^T`` and ``A^T (.) A``: a 4x4 map padded to 6x6 is ONE tile. So,
for the whole batch,

    V[f] = transformed input (N, Cin)         one product: Tin (36, 16) @ pixels
    U[f] = transformed filter (Cin, Cout)     one product: KG (36, 9) @ taps
    M[f] = V[f] @ U[f]                        36 matrix products: the real work
    y    = Tout (16, 36) @ M                  back to the 16 output pixels

and backward is the chain rule through those linear maps (their transposes). The results
equal the direct convolution in exact arithmetic; in float32 they differ by rounding (a few
1e-6 of the output's scale with the points chosen here, against ~5e-7 for im2col).
"""

from __future__ import annotations

from functools import cache

import numpy as np

# Interpolation points for F(4, 3) (plus the point at infinity). Points of small magnitude and
# mixed sign keep the transforms' entries small, so float32 rounding stays small (0, +-1, +-2,
# the textbook choice, gives about twice the error).
POINTS = (0.0, -1.0, 1.0, 0.5, -2.0)


def toom_cook(points: tuple[float, ...], m: int = 4, r: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A^T (m, n), G (n, r), B^T (n, n)) of F(m, r) on ``points`` (n - 1 finite ones, then infinity).

    A^T evaluates the output polynomial at the points (Vandermonde), G evaluates the filter and
    divides by the Lagrange denominators; B^T is then the unique matrix with
    ``sum_i A^T[j, i] G[i, k] B^T[i, l] = [l == j + k]`` (the correlation, term by term).
    """
    a = np.asarray(points, dtype=np.float64)
    n = m + r - 1
    if len(a) != n - 1:
        raise ValueError(f"F({m}, {r}) needs {n - 1} finite points, got {len(a)}")
    at = np.zeros((m, n))
    at[:, :n - 1] = a[None, :] ** np.arange(m)[:, None]
    at[m - 1, n - 1] = 1.0
    g = np.zeros((n, r))
    for i in range(n - 1):
        g[i] = a[i] ** np.arange(r) / np.prod([a[i] - a[j] for j in range(n - 1) if j != i])
    g[n - 1, r - 1] = 1.0
    # Solve for B^T: one equation per (j, k, l), unknowns B^T[i, l].
    coef = at[:, None, :] * g.T[None, :, :]                     # (j, k, i)
    system = np.einsum("jki,lL->jklLi", coef, np.eye(n)).reshape(m * r * n, n * n)
    target = np.zeros((m, r, n))
    for j in range(m):
        for k in range(r):
            target[j, k, j + k] = 1.0
    bt = np.linalg.lstsq(system, target.ravel(), rcond=None)[0].reshape(n, n).T
    return at, g, bt


@cache
def transforms(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Tin (36, 16), KG (36, 9), Tout (16, 36)) for a 4x4 map with one pixel of zero padding."""
    at, g, bt = toom_cook(POINTS)
    embed = np.zeros((6, 4))
    embed[1:5] = np.eye(4)                       # the 4 pixels inside the 6-wide padded tile
    bt_padded = bt @ embed
    return tuple(np.ascontiguousarray(t, dtype=dtype)
                 for t in (np.kron(bt_padded, bt_padded), np.kron(g, g), np.kron(at, at)))


def applies(shape: tuple[int, ...], kernel_size: tuple[int, int], pads: tuple[int, int, int, int]) -> bool:
    """Whether an (N, H, W, C) input takes this path: 4x4 maps, 3x3 kernel, one pixel of padding."""
    return shape[1:3] == (4, 4) and kernel_size == (3, 3) and pads == (1, 1, 1, 1)


def filter_transform(weight: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """U (36, Cin, Cout) from W (3, 3, Cin, Cout)."""
    _, kg, _ = transforms(np.dtype(dtype))
    cin, cout = weight.shape[2:]
    return (kg @ weight.reshape(9, cin * cout).astype(dtype, copy=False)).reshape(36, cin, cout)


def pixel_major(x: np.ndarray) -> np.ndarray:
    """(N, 4, 4, C) -> (16, N*C): one row per pixel, the layout the transforms multiply."""
    n, c = x.shape[0], x.shape[3]
    return np.ascontiguousarray(x.reshape(n, 16, c).transpose(1, 0, 2)).reshape(16, n * c)


def forward(x: np.ndarray, u: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(y (N, 4, 4, Cout), V (36, N, Cin) kept for backward)."""
    tin, _, tout = transforms(u.dtype)
    n, cin, cout = x.shape[0], u.shape[1], u.shape[2]
    v = (tin @ pixel_major(x.astype(u.dtype, copy=False))).reshape(36, n, cin)
    m = np.matmul(v, u)                                          # (36, N, Cout)
    y = (tout @ m.reshape(36, n * cout)).reshape(4, 4, n, cout)
    out = np.empty((n, 4, 4, cout), dtype=u.dtype)
    np.add(y.transpose(2, 0, 1, 3), bias, out=out)               # back to NHWC, bias on the way
    return out, v


def backward(
    grad_out: np.ndarray, v: np.ndarray, u: np.ndarray, need_input_grad: bool, need_param_grads: bool
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(dx (N, 4, 4, Cin), dW (3, 3, Cin, Cout), db (Cout,)), each None when not asked for."""
    tin, kg, tout = transforms(u.dtype)
    n, cin, cout = v.shape[1], u.shape[1], u.shape[2]
    dm = (tout.T @ pixel_major(grad_out)).reshape(36, n, cout)  # through y = Tout @ M
    dw = db = dx = None
    if need_param_grads:
        du = np.matmul(v.transpose(0, 2, 1), dm)                 # through M = V @ U
        dw = (kg.T @ du.reshape(36, cin * cout)).reshape(3, 3, cin, cout)
        db = grad_out.reshape(-1, cout).sum(axis=0)
    if need_input_grad:
        u_t = np.ascontiguousarray(u.transpose(0, 2, 1))  # BLAS runs the batched product ~1.6x faster on a copy
        dv = np.matmul(dm, u_t)                                  # (36, N, Cin)
        pixels = (tin.T @ dv.reshape(36, n * cin)).reshape(4, 4, n, cin)
        dx = np.ascontiguousarray(pixels.transpose(2, 0, 1, 3))
    return dx, dw, db
