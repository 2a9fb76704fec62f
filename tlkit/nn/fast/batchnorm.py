"""The tuned twin of ``tlkit/nn/batchnorm.py``: the same statistics and gradients in fewer passes
over the data. ``tests/nn/test_nn_fast_equals_readable.py`` proves it equal."""

from __future__ import annotations

import numpy as np

from tlkit.nn import batchnorm as readable
from tlkit.nn.layer import grad_buffer


class BatchNorm(readable.BatchNorm):
    """BatchNorm for (N, C) or (N, H, W, C) inputs.

    ``training=True``: normalise with the batch statistics and update
    ``running = (1 - momentum) * running + momentum * batch`` (PyTorch
    convention; the running variance uses the unbiased batch variance).
    ``training=False``: normalise with the running statistics, update nothing;
    the layer is then an affine map (how a frozen BatchNorm behaves).
    ``use_running_stats = True`` makes training behave like inference for the
    statistics (Keras's fine-tuning recipe) while ``gamma`` and ``beta`` still learn.

    Speed (the data is (M, C) with M >> C): per-channel sums are ``ones @ x`` GEMVs, per-channel
    broadcasts run over (M/k, k*C) rows, and the scratch arrays are kept between steps (the shapes
    repeat). Arrays handed back to the caller are always fresh.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reset_scratch()

    def reset_scratch(self) -> None:
        """Empty the work arrays kept between calls (at construction, and in a converted layer)."""
        self._scratch_arrays: dict[str, np.ndarray] = {}

    # -- fast per-channel arithmetic on (M, C) arrays -----------------------------------------
    def _scratch(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A work array kept between calls (the shapes repeat every step): no fresh L2-sized temporaries
        to allocate and page-fault in on every step. Never handed to a caller."""
        arr = self._scratch_arrays.get(name)
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            arr = self._scratch_arrays[name] = np.empty(shape, dtype)
        return arr

    def _constant(self, name: str, m: int, value: float, dtype) -> np.ndarray:
        vec = self._scratch_arrays.get(name)
        if vec is None or vec.shape[0] != m or vec.dtype != dtype:
            vec = self._scratch_arrays[name] = np.full(m, value, dtype)
        return vec

    def _ones(self, m: int, dtype) -> np.ndarray:
        """``ones @ x`` sums the rows of x with one BLAS call (a column sum over few channels is
        slow in NumPy; benchmarks/README.md)."""
        return self._constant("ones", m, 1.0, dtype)

    def _mean_weights(self, m: int, dtype) -> np.ndarray:
        """``w @ x`` with w = 1/m everywhere: the per-channel mean in one GEMV, no extra scaling."""
        return self._constant("mean_weights", m, 1.0 / m, dtype)

    @staticmethod
    def _rows(m: int, c: int) -> int:
        """How many channel-rows k to put side by side: per-channel broadcasting over the (M/k, k*C)
        view runs faster than over (M, C) when C is small (benchmarks/README.md)."""
        k = max(1, 8192 // c)
        while m % k:
            k //= 2
        return k

    @staticmethod
    def _tile(vectors: np.ndarray, k: int) -> np.ndarray:
        """(n, C) per-channel vectors -> (n, k*C) rows that broadcast against the wide view (one
        ``repeat`` call for all n)."""
        return np.repeat(vectors[:, None, :], k, axis=1).reshape(len(vectors), -1)

    def _compute_dtype(self, x: np.ndarray) -> np.dtype:
        gamma = self.params["gamma"]
        if x.dtype == gamma.dtype:
            return x.dtype
        dtype = np.result_type(x.dtype, gamma.dtype)
        return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)

    def _as_rows(self, x: np.ndarray) -> np.ndarray:
        """x as a contiguous (M, C) array of the compute dtype (no copy for float32 C-order input)."""
        x2 = super()._as_rows(x)
        return np.ascontiguousarray(x2, dtype=self._compute_dtype(x))

    # -- inference: an affine map -----------------------------------------------------------------
    def _running_affine(self, dtype) -> tuple[np.ndarray, np.ndarray]:
        """(inv_std, rows [scale, shift]) of the running statistics."""
        inv_std = 1.0 / np.sqrt(self.buffers["running_var"].astype(dtype) + self.eps)
        vec = self._scratch("vectors2", (2, self.num_features), dtype)
        np.multiply(self.params["gamma"], inv_std, out=vec[0])
        np.multiply(self.buffers["running_mean"], vec[0], out=vec[1])
        np.subtract(self.params["beta"], vec[1], out=vec[1])
        return inv_std, vec

    def _affine(self, x2: np.ndarray, scale_shift: np.ndarray) -> np.ndarray:
        """A fresh ``x2 * scale + shift`` (per channel)."""
        m, c = x2.shape
        k = self._rows(m, c)
        vec = self._tile(scale_shift, k)
        out = np.empty_like(x2)
        wide = out.reshape(-1, k * c)
        np.multiply(x2.reshape(-1, k * c), vec[0], out=wide)
        wide += vec[1]
        return out

    def infer(self, x: np.ndarray) -> np.ndarray:
        """The inference-mode affine map with the running statistics; keeps nothing for backward."""
        x2 = self._as_rows(x)
        return self._affine(x2, self._running_affine(x2.dtype)[1]).reshape(x.shape)

    # -- forward ----------------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        x2 = self._as_rows(x)
        if training and not self.use_running_stats:
            out = self._forward_batch_stats(x2)
        else:
            inv_std, scale_shift = self._running_affine(x2.dtype)
            out = self._affine(x2, scale_shift)
            self._cache = ("running", x2, inv_std, self.buffers["running_mean"].astype(x2.dtype))
        return out.reshape(x.shape)

    def _forward_batch_stats(self, x2: np.ndarray) -> np.ndarray:
        """Normalise with the batch mean and (biased) variance; keep ``x - mean`` for backward.

        Two passes (the mean, then the mean of the squared deviations): ``E[x^2] - E[x]^2`` would
        save one pass but cancels catastrophically in float32 when |mean| >> std.
        """
        m, c = x2.shape
        k = self._rows(m, c)
        to_mean = self._mean_weights(m, x2.dtype)
        vec = self._scratch("vectors2", (2, c), x2.dtype)  # the mean first, then [scale, shift]
        mean = vec[:1]
        np.matmul(to_mean, x2, out=mean[0])
        centred = self._scratch("centred", x2.shape, x2.dtype)  # only the last forward is kept anyway
        np.subtract(x2.reshape(-1, k * c), self._tile(mean, k), out=centred.reshape(-1, k * c))
        self._update_running_mean(mean[0])
        out = np.empty_like(x2)  # fresh; holds the squared deviations first
        np.multiply(centred, centred, out=out)
        var = to_mean @ out
        self._update_running_var(var, m)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        np.multiply(self.params["gamma"], inv_std, out=vec[0])
        vec[1] = self.params["beta"]
        tiled = self._tile(vec, k)
        wide = out.reshape(-1, k * c)
        np.multiply(centred.reshape(-1, k * c), tiled[0], out=wide)
        wide += tiled[1]
        self._cache = ("batch", centred, inv_std)
        return out

    def _update_running_mean(self, mean: np.ndarray) -> None:
        rm = self.buffers["running_mean"]
        rm *= 1.0 - self.momentum
        rm += self.momentum * mean

    def _update_running_var(self, var: np.ndarray, count: int) -> None:
        rv = self.buffers["running_var"]
        rv *= 1.0 - self.momentum
        rv += (self.momentum * count / max(count - 1, 1)) * var  # unbiased; batch of 1 gives 0

    # -- backward ---------------------------------------------------------------------------------
    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._cache is None:
            raise RuntimeError("BatchNorm.backward called before forward")
        g2 = np.ascontiguousarray(grad_out).reshape(-1, self.num_features)
        if self._cache[0] == "batch":
            dx = self._backward_batch_stats(g2, need_input_grad, need_param_grads)
        else:
            dx = self._backward_running(g2, need_input_grad, need_param_grads)
        return None if dx is None else dx.reshape(grad_out.shape)

    def _backward_batch_stats(self, g2: np.ndarray, need_input_grad: bool, need_param_grads: bool):
        """dx = gamma * inv_std * (g - mean(g) - x_hat * mean(g * x_hat)), from two channel sums.

        Written as ``a * (g + b * centred + c)`` with per-channel a, b, c so that dx is four
        in-place passes over one fresh array (which first holds ``g * centred`` for the sum).
        """
        _, centred, inv_std = self._cache
        m, c = centred.shape
        ones = self._ones(m, centred.dtype)
        dx = np.empty_like(centred) if need_input_grad else self._scratch("product", centred.shape, centred.dtype)
        np.multiply(g2, centred, out=dx)
        sum_gc = ones @ dx  # sum(g * centred) = sum(g * x_hat) / inv_std
        sum_g = ones @ g2
        if need_param_grads:
            np.multiply(sum_gc, inv_std, out=grad_buffer(self, "gamma"), casting="same_kind")
            np.copyto(grad_buffer(self, "beta"), sum_g, casting="same_kind")
        if not need_input_grad:
            return None
        k = self._rows(m, c)
        vec = self._scratch("vectors3", (3, c), dx.dtype)
        np.multiply(sum_gc, inv_std * inv_std * (-1.0 / m), out=vec[0])
        np.multiply(sum_g, -1.0 / m, out=vec[1])
        np.multiply(self.params["gamma"], inv_std, out=vec[2])
        tiled = self._tile(vec, k)
        wide = dx.reshape(-1, k * c)
        np.multiply(centred.reshape(-1, k * c), tiled[0], out=wide)
        wide += tiled[1]
        wide += g2.reshape(-1, k * c)
        wide *= tiled[2]
        return dx

    def _backward_running(self, g2: np.ndarray, need_input_grad: bool, need_param_grads: bool):
        """The statistics are constants here: dx = g * gamma * inv_std."""
        _, x2, inv_std, mean = self._cache
        m, c = x2.shape
        k = self._rows(m, c)
        if need_param_grads:
            ones = self._ones(m, x2.dtype)
            product = self._scratch("product", x2.shape, x2.dtype)
            wide = product.reshape(-1, k * c)
            np.subtract(x2.reshape(-1, k * c), self._tile(mean[None], k)[0], out=wide)
            wide *= g2.reshape(-1, k * c)
            np.multiply(ones @ product, inv_std, out=grad_buffer(self, "gamma"), casting="same_kind")
            np.copyto(grad_buffer(self, "beta"), ones @ g2, casting="same_kind")
        if not need_input_grad:
            return None
        scale = self._tile((self.params["gamma"] * inv_std)[None].astype(x2.dtype, copy=False), k)[0]
        return (g2.reshape(-1, k * c) * scale).astype(x2.dtype, copy=False)
