"""The tuned twin of ``tlkit/nn/conv.py``: same function, reused buffers, bias in the product,
a padding-free path for tiny maps. ``tests/nn/test_nn_fast_equals_readable.py`` proves it equal."""

from __future__ import annotations

import numpy as np

from tlkit.nn import conv as readable
from tlkit.nn.fast import winograd
from tlkit.nn.layer import grad_buffer

_sliding_window_view = np.lib.stride_tricks.sliding_window_view


class Conv2D(readable.Conv2D):
    """Convolution with stride 1 on NHWC images.

    params ``W`` (kh, kw, Cin, Cout) and ``b`` (Cout,). Three ways to compute the
    same thing, chosen by the input's size:

    * **im2col** (the general case): forward copies every kh x kw window into one
      row of a matrix ``cols`` (N*Ho*Wo, kh*kw*Cin + 1) kept between calls, whose
      last column is all ones so that one matrix product ``cols @ [W; b]`` gives
      the output with its bias; backward gets ``[dW; db] = cols.T @ dout`` from one
      product too, and ``dx`` (col2im) from one product per filter tap, each added
      into the input positions that tap saw (padding positions are skipped).
    * **dense** (small maps, H*W <= kh*kw, e.g. 2x2 maps under a 3x3 kernel): the
      convolution is a linear map from the whole (H*W*Cin) input to the whole
      (Ho*Wo*Cout) output, so it is one product with a block matrix built from
      ``W``. It does no multiplication by padding zeros (im2col would: 5/9 of
      them on a 2x2 map) and no im2col copy.
    * **Winograd** (4x4 maps, 3x3 kernel, 'same', at least ``winograd_min_channels`` input
      channels): the whole padded map is one F(4x4, 3x3) tile, 36 products per channel pair
      instead of 144 (``tlkit/nn/fast/winograd.py``).
    """

    winograd_min_channels = 8

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reset_scratch()

    def reset_scratch(self) -> None:
        """Empty the buffers kept between calls (at construction, and in a layer converted to this twin)."""
        self.__dict__.update(_empty_scratch())

    def __getstate__(self) -> dict:
        """Copies and pickles carry the parameters and settings, never the scratch buffers.

        ``_fill_plan`` holds views of ``_xpad`` and ``_cols``; a deep copy would turn them into
        detached arrays while the identity check still matched, and the copy would fill those
        instead of its own buffers and compute from stale windows. A copy starts empty instead.
        """
        return {**self.__dict__, **_empty_scratch()}

    def _use_dense(self, h: int, w: int) -> bool:
        kh, kw = self.kernel_size
        return h * w <= kh * kw and h * w * max(self.in_channels, self.out_channels) <= 4096

    def _use_winograd(self, shape: tuple[int, ...]) -> bool:
        return self.in_channels >= self.winograd_min_channels and winograd.applies(
            shape, self.kernel_size, self._pads)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self._apply(x, self.params["W"], self.params["b"])

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Inference-mode output; shares the forward's buffers, so a later ``backward`` raises."""
        return self.infer_with(x, self.params["W"], self.params["b"])

    def infer_with(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """``infer`` with other weights (a BatchNorm folded in: tlkit/nn/fast/inference.py), which
        must not change in place between calls (the matrices built from them are reused)."""
        out = self._apply(x, weight, bias)
        self._in_shape = None  # the buffers no longer hold this layer's training forward
        return out

    def _apply(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        self._check_input(x)
        n, h, w, c = x.shape
        ho, wo = self._out_hw(h, w)
        self._in_shape = x.shape
        self._v = None
        if self._use_winograd(x.shape):
            return self._forward_winograd(x, weight, bias)
        if self._use_dense(h, w):
            return self._forward_dense(x, ho, wo, weight, bias)
        self._x = None
        k = self.kernel_size[0] * self.kernel_size[1] * c
        split = self._split_rows(h, c)
        bias_at = self.kernel_size[1] * c if split else k
        if bias_at != self._bias_at:  # another layout: rebuild both matrices
            self._wb = self._cols = None
            self._bias_at = bias_at
        dtype = np.result_type(x, weight)
        if self._wb is None or self._wb.shape != (k + 1, self.out_channels) or self._wb.dtype != dtype:
            self._wb = np.empty((k + 1, self.out_channels), dtype=dtype)
            self._wb_from = None
        if not self._holds(self._wb_from, weight, bias):
            w2 = weight.reshape(k, self.out_channels)
            self._wb[:bias_at], self._wb[bias_at], self._wb[bias_at + 1:] = w2[:bias_at], bias, w2[bias_at:]
            self._wb_from = self._source(weight, bias)
        cols = self._im2col(x, ho, wo)
        if split:
            return self._split_product(cols, n, ho, wo)
        return (cols @ self._wb).reshape(n, ho, wo, self.out_channels)

    def _split_rows(self, h: int, c: int) -> bool:
        """Whether to skip the padding products of the top and bottom output rows (3-row kernels with
        one padding row each side, on maps of 4-6 rows, where those rows are a large share).

        im2col rows are then ordered (output row, image, column), and the bias column sits between
        kernel row 0 and the others: the top output row's valid columns (kernel rows 1-2 and the
        bias) and the bottom row's (kernel rows 0-1 and the bias) are each one contiguous range.
        """
        top, bottom, _, _ = self._pads
        return self.kernel_size[0] == 3 and top == bottom == 1 and c > 1 and 4 <= h <= 6

    def _split_product(self, cols: np.ndarray, n: int, ho: int, wo: int) -> np.ndarray:
        """``cols @ [W; b]`` on the split layout, without the padding products, back in NHWC order."""
        a, end, rows = self._bias_at, cols.shape[1], n * wo  # rows: one output row of every image
        wb = self._wb
        out = np.empty((ho * rows, self.out_channels), dtype=np.result_type(cols, wb))
        np.matmul(cols[:rows, a:], wb[a:], out=out[:rows])  # top row: kernel row 0 sees padding
        np.matmul(cols[rows:-rows], wb, out=out[rows:-rows])
        np.matmul(cols[-rows:, :end - a], wb[:end - a], out=out[-rows:])  # bottom row: kernel row 2 does
        return np.ascontiguousarray(out.reshape(ho, n, wo, self.out_channels).transpose(1, 0, 2, 3))

    def _source(self, weight: np.ndarray, bias: np.ndarray) -> tuple | None:
        """What a weight buffer was filled from, if it may be reused: only weights passed to ``infer``
        (folded copies, made for one call of ``Network.infer`` and never changed in place). The
        layer's own parameters change in place at every update, so those are always copied."""
        return None if weight is self.params["W"] else (weight, bias)

    @staticmethod
    def _holds(source: tuple | None, weight: np.ndarray, bias: np.ndarray) -> bool:
        return source is not None and source[0] is weight and source[1] is bias

    def _im2col(self, x: np.ndarray, ho: int, wo: int) -> np.ndarray:
        """The (N*Ho*Wo, kh*kw*C + 1) matrix of every window, plus a ones column for the bias.

        Filled from a zero-bordered copy of ``x`` kept between calls. With one input channel
        the matrix is stored transposed (one contiguous row per tap, faster to fill) and
        returned as a transposed view: BLAS reads either layout at the same speed.
        """
        n, h, w, c = x.shape
        kh, kw = self.kernel_size
        top, bottom, left, right = self._pads
        k = kh * kw * c
        pshape = (n, h + top + bottom, w + left + right, c)
        if self._xpad is None or self._xpad.shape != pshape or self._xpad.dtype != x.dtype:
            self._xpad = np.zeros(pshape, dtype=x.dtype)  # borders stay zero for good
        tap_major = self._tap_major = c == 1
        cshape = (k + 1, n * ho * wo) if tap_major else (n * ho * wo, k + 1)
        if self._cols is None or self._cols.shape != cshape or self._cols.dtype != x.dtype:
            self._cols = np.empty(cshape, dtype=x.dtype)
            if tap_major:
                self._cols[k] = 1  # the bias row, never overwritten
            else:
                self._cols[:, self._bias_at] = 1  # the bias column, never overwritten
        plan = self._fill_plan
        if plan is None or plan[0] is not self._xpad or plan[1] is not self._cols:
            plan = self._fill_plan = (self._xpad, self._cols, *self._fill_views(h, w, ho, wo))
        interior, copies = plan[2:]
        np.copyto(interior, x)
        for cols_view, windows in copies:
            np.copyto(cols_view, windows)
        return self._cols.T if tap_major else self._cols

    def _fill_views(self, h: int, w: int, ho: int, wo: int) -> tuple[np.ndarray, list]:
        """(interior of the padded copy, [(im2col buffer as windows, windows of the padded copy)]): views of
        the kept buffers, made once per pair of buffers rather than at every call (the calls that make
        them cost about as much as the copies on small maps)."""
        n, c = self._xpad.shape[0], self._xpad.shape[3]
        kh, kw = self.kernel_size
        top, _, left, _ = self._pads
        k = kh * kw * c
        interior = self._xpad[:, top:top + h, left:left + w, :]
        if self._tap_major:  # (N, Ho, Wo, kh, kw) windows of the one channel -> (kh, kw, N, Ho, Wo) rows
            windows = _sliding_window_view(self._xpad[..., 0], (kh, kw), axis=(1, 2))
            return interior, [(self._cols[:k].reshape(kh, kw, n, ho, wo), windows.transpose(3, 4, 0, 1, 2))]
        # (N, Ho, Wo, C, kh, kw) view -> (N, Ho, Wo, kh, kw, C) copied into the cols buffer
        windows = _sliding_window_view(self._xpad, (kh, kw), axis=(1, 2))
        if self._bias_at == k:
            cols_view = self._cols.reshape(n, ho, wo, k + 1)[..., :k].reshape(n, ho, wo, kh, kw, c)
            return interior, [(cols_view, windows.transpose(0, 1, 2, 4, 5, 3))]
        # the split layout (_split_rows): rows (Ho, N, Wo), kernel row 0, the bias, kernel rows 1..
        a, cols4, windows = self._bias_at, self._cols.reshape(ho, n, wo, k + 1), windows.transpose(1, 0, 2, 4, 5, 3)
        return interior, [(cols4[..., :a].reshape(ho, n, wo, kw, c), windows[..., 0, :, :]),
                          (cols4[..., a + 1:].reshape(ho, n, wo, kh - 1, kw, c), windows[..., 1:, :, :])]

    # -- Winograd path: 4x4 maps ------------------------------------------------------------------
    def _forward_winograd(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        self._x = None
        dtype = np.result_type(x, weight)
        if self._u is None or self._u.dtype != dtype or not self._holds(self._u_from, weight, bias):
            self._u = winograd.filter_transform(weight, dtype)
            self._u_from = self._source(weight, bias)
        out, self._v = winograd.forward(x, self._u, bias)
        return out

    def _backward_winograd(self, grad_out, need_input_grad, need_param_grads):
        dx, dw, db = winograd.backward(grad_out, self._v, self._u, need_input_grad, need_param_grads)
        if need_param_grads:
            grad_buffer(self, "W")[...] = dw
            grad_buffer(self, "b")[...] = db
        return dx

    # -- dense path: the whole map at once -------------------------------------------------
    def _dense_taps(self, h: int, w: int, ho: int, wo: int) -> tuple:
        """Index arrays of the (input pixel, output pixel) pairs some tap connects, grouped by tap."""
        kh, kw = self.kernel_size
        top, _, left, _ = self._pads
        q_idx, p_idx, t_idx = [], [], []
        for yo in range(ho):
            for xo in range(wo):
                for i in range(kh):
                    for j in range(kw):
                        yi, xi = yo + i - top, xo + j - left
                        if 0 <= yi < h and 0 <= xi < w:
                            q_idx.append(yi * w + xi)
                            p_idx.append(yo * wo + xo)
                            t_idx.append(i * kw + j)
        q, p, t = (np.asarray(a, dtype=np.intp) for a in (q_idx, p_idx, t_idx))
        taps, which = np.unique(t, return_inverse=True)
        summing = np.zeros((len(taps), len(t)))  # summing @ per-pair blocks = per-tap sums, in one GEMM
        summing[which, np.arange(len(t))] = 1.0
        return q, p, t, taps, summing

    def _forward_dense(self, x: np.ndarray, ho: int, wo: int, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        n, h, w, c = x.shape
        cout = self.out_channels
        dtype = np.result_type(x, weight)
        key = (h, w, ho, wo, dtype)
        if self._dense is None or self._dense[0] != key:
            big = np.zeros((h * w, c, ho * wo, cout), dtype=dtype)  # never-connected blocks stay zero
            self._dense = (key, big, self._dense_taps(h, w, ho, wo))
            self._big_from = None
        _, big, (q, p, t, _, _) = self._dense
        if not self._holds(self._big_from, weight, bias):
            big[q, :, p, :] = weight.reshape(-1, c, cout)[t]
            self._big_from = self._source(weight, bias)
        self._x = x.reshape(n, h * w * c)
        out = self._x @ big.reshape(h * w * c, ho * wo * cout)
        out.reshape(n, ho * wo, cout)[...] += bias
        return out.reshape(n, ho, wo, cout)

    def _backward_dense(self, grad_out, need_input_grad, need_param_grads):
        n, h, w, c = self._in_shape
        ho, wo, cout = grad_out.shape[1:]
        _, big, (q, p, _, taps, summing) = self._dense
        dout = grad_out.reshape(n, ho * wo * cout)
        if need_param_grads:
            dbig = (self._x.T @ dout).reshape(h * w, c, ho * wo, cout)
            per_pair = dbig[q, :, p, :].reshape(len(q), c * cout)  # one (Cin, Cout) block per pair
            dw = grad_buffer(self, "W").reshape(-1, c * cout)
            if len(taps) < len(dw):
                dw[...] = 0
            dw[taps] = summing.astype(per_pair.dtype, copy=False) @ per_pair
            np.sum(grad_out.reshape(-1, cout), axis=0, out=grad_buffer(self, "b"))
        if not need_input_grad:
            return None
        return (dout @ big.reshape(h * w * c, ho * wo * cout).T).reshape(n, h, w, c)

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._in_shape is None or (self._cols is None and self._x is None and self._v is None):
            raise RuntimeError("Conv2D.backward called before forward")
        if self._v is not None:
            return self._backward_winograd(grad_out, need_input_grad, need_param_grads)
        if self._x is not None:
            return self._backward_dense(grad_out, need_input_grad, need_param_grads)
        k = self._wb.shape[0] - 1
        dout = grad_out.reshape(-1, self.out_channels)
        split_dout = self._split_dout(grad_out) if self._bias_at != k else None  # rows in the split layout's order
        if need_param_grads:
            cols = self._cols.T if self._tap_major else self._cols  # (M, k+1) either way
            dtype = np.result_type(cols, dout)
            if self._dwb is None or self._dwb.shape != (k + 1, self.out_channels) or self._dwb.dtype != dtype:
                self._dwb = np.empty((k + 1, self.out_channels), dtype=dtype)
            a = self._bias_at
            if a == k:
                np.matmul(cols.T, dout, out=self._dwb)  # the ones column gives db
            else:
                self._split_weight_grad(cols, split_dout, grad_out.shape)
            dw = grad_buffer(self, "W").reshape(k, self.out_channels)
            dw[:a], dw[a:] = self._dwb[:a], self._dwb[a + 1:]
            grad_buffer(self, "b")[...] = self._dwb[a]
        if not need_input_grad:
            return None
        n, h, w, c = self._in_shape
        kh, kw = self.kernel_size
        ho, wo = grad_out.shape[1:3]
        # col2im: each tap's contribution is one GEMM, added into the input positions it saw.
        top, _, left, _ = self._pads
        dtype = np.result_type(grad_out, self.params["W"])
        # with 64 channels on both sides the padded columns' extra products cost more than the copies saved
        if (ho, wo) == (h, w) and split_dout is not None and min(c, self.out_channels) <= 32:
            return self._col2im_split(split_dout, (n, h, w, c), dtype)
        dx = np.zeros((n, h, w, c), dtype=dtype)
        if (ho, wo) == (h, w) and min(h, w) >= 8:
            return self._col2im_shifted(dout, dx)
        weights = self.params["W"]
        dout4 = grad_out.reshape(n, ho, wo, self.out_channels)
        for i in range(kh):
            y0, y1 = max(0, top - i), min(ho, h + top - i)  # outputs whose tap-i row is inside x
            for j in range(kw):
                x0, x1 = max(0, left - j), min(wo, w + left - j)
                if y0 >= y1 or x0 >= x1:
                    continue
                if (y1 - y0) * (x1 - x0) == ho * wo:
                    tap = (dout @ weights[i, j].T).reshape(n, ho, wo, c)
                else:  # only the outputs that saw real input: skip the padding rows of the product
                    part = np.ascontiguousarray(dout4[:, y0:y1, x0:x1, :])
                    tap = (part.reshape(-1, self.out_channels) @ weights[i, j].T).reshape(n, y1 - y0, x1 - x0, c)
                dx[:, y0 + i - top:y1 + i - top, x0 + j - left:x1 + j - left, :] += tap
        return dx

    @staticmethod
    def _split_dout(grad_out: np.ndarray) -> np.ndarray:
        """``grad_out`` as (Ho*N*Wo, Cout) rows ordered (output row, image, column), as in the split layout's cols."""
        return np.ascontiguousarray(grad_out.transpose(1, 0, 2, 3)).reshape(-1, grad_out.shape[3])

    def _split_weight_grad(self, cols: np.ndarray, dout: np.ndarray, out_shape: tuple[int, ...]) -> None:
        """``[dW; db] = cols.T @ dout`` on the split layout (_split_rows), without the padding products."""
        n, ho, wo, cout = out_shape
        a, end, rows = self._bias_at, cols.shape[1], n * wo
        np.matmul(cols[rows:-rows].T, dout[rows:-rows], out=self._dwb)
        self._dwb[a:] += cols[:rows, a:].T @ dout[:rows]
        self._dwb[:end - a] += cols[-rows:, :end - a].T @ dout[-rows:]

    def _col2im_split(self, dout: np.ndarray, shape: tuple[int, ...], dtype) -> np.ndarray:
        """col2im for "same"-sized maps on the split layout (_split_rows), from ``dout`` in its row order.

        dx is built as (H, N, W, C): a tap's outputs whose input row is inside the image are one
        contiguous block of ``dout`` rows (no copy), and their GEMM is added to the flattened dx at the
        tap's offset in one contiguous add. As in ``_col2im_shifted``, the outputs whose input column is
        outside the image are zeroed first (they would wrap into the neighbouring image or row).
        """
        n, h, w, c = shape
        kh, kw = self.kernel_size
        top, _, left, _ = self._pads
        rows = n * w  # one output row of every image
        if self._tap is None or self._tap.shape != (h * rows, c) or self._tap.dtype != dtype:
            self._tap = np.empty((h * rows, c), dtype=dtype)
        dx = np.zeros(h * rows * c, dtype=dtype)
        weights = self.params["W"]
        for i in range(kh):
            dy = i - top  # input row = output row + dy
            y0, y1 = max(0, -dy), min(h, h - dy)
            if y0 >= y1:
                continue
            tap = self._tap[:(y1 - y0) * rows]
            tap3, flat = tap.reshape(-1, w, c), tap.reshape(-1)
            for j in range(kw):
                np.matmul(dout[y0 * rows:y1 * rows], weights[i, j].T, out=tap)
                dxx = j - left
                if dxx < 0:
                    tap3[:, :-dxx] = 0
                elif dxx > 0:
                    tap3[:, w - dxx:] = 0
                start = ((y0 + dy) * rows + dxx) * c
                lo, hi = max(0, -start), min(flat.size, dx.size - start)  # the cut-off ends are zeroed columns
                dx[start + lo:start + hi] += flat[lo:hi]
        return np.ascontiguousarray(dx.reshape(h, n, w, c).transpose(1, 0, 2, 3))

    def _col2im_shifted(self, dout: np.ndarray, dx: np.ndarray) -> np.ndarray:
        """col2im for "same"-sized maps of 8x8 or more: every tap's GEMM over all outputs, added to
        the flattened dx (all images) shifted by the tap's offset.

        Why: on larger maps the padding rows are a small share of the products, and one add over
        one long contiguous range is much faster than over the (rows, columns) view of the valid part
        (or over each image's own shifted range). The outputs whose tap falls outside the image would
        land in the next or previous row or image: they are zeroed first.
        """
        n, h, w, c = dx.shape
        kh, kw = self.kernel_size
        top, _, left, _ = self._pads
        if self._tap is None or self._tap.shape != (n * h * w, c) or self._tap.dtype != dx.dtype:
            self._tap = np.empty((n * h * w, c), dtype=dx.dtype)
        tap, tap4 = self._tap.reshape(-1), self._tap.reshape(n, h, w, c)
        dx_flat = dx.reshape(-1)
        weights = self.params["W"]
        for i in range(kh):
            for j in range(kw):
                np.matmul(dout, weights[i, j].T, out=self._tap)
                dy, dxx = i - top, j - left  # input pixel = output pixel + (dy, dxx)
                if dy < 0:
                    tap4[:, :-dy] = 0
                elif dy > 0:
                    tap4[:, h - dy:] = 0
                if dxx < 0:
                    tap4[:, :, :-dxx] = 0
                elif dxx > 0:
                    tap4[:, :, w - dxx:] = 0
                shift = (dy * w + dxx) * c
                if shift >= 0:
                    dx_flat[shift:] += tap[:tap.size - shift]
                else:
                    dx_flat[:shift] += tap[-shift:]
        return dx


def _empty_scratch() -> dict:
    """The fast Conv2D's buffers kept between calls, empty: set at construction and in every copy."""
    return {
        "_xpad": None,        # zero-bordered copy of the input
        "_cols": None,        # im2col matrix of the last forward, plus a ones column
        "_wb": None,          # [W; b] as one (kh*kw*Cin + 1, Cout) matrix
        "_dwb": None,         # [dW; db] from one product
        "_dense": None,       # (block matrix, tap indices) for small maps
        "_x": None,           # the input, on the dense path
        "_tap_major": False,  # cols stored transposed (one input channel)
        "_wb_from": None,     # the (weight, bias) that _wb holds, when reusable
        "_big_from": None,    # the same for the dense path's block matrix
        "_in_shape": None,
        "_tap": None,         # one tap's share of dx, on the shifted col2im path
        "_fill_plan": None,   # (xpad, cols, views of them that _im2col copies through)
        "_bias_at": None,     # the bias row of _wb (column of _cols): last, or after kernel row 0
        "_u": None,           # Winograd path: the transformed filter U (36, Cin, Cout)
        "_u_from": None,      # the (weight, bias) that _u holds, when reusable
        "_v": None,           # Winograd path: the transformed input V of the last forward
    }
