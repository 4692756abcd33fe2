"""Convolution, 2×2 max-pooling and flatten layers, for images stored batch first, channels last.

Layout (NHWC). A batch of images or feature maps is an array (N, H, W, C): sample, row, column,
channel. A network whose input shape is (H, W, C) takes its input rows (N, H·W·C) as those same
numbers in (row, column, channel) order, so a 28 × 28 MNIST row of 784 pixels is (N, 28, 28, 1).

Conv2D: k×k kernels, C → C' channels, stride 1, padding "valid" (none: H' = H − k + 1) or "same"
(p = ⌊(k − 1)/2⌋ zero rows and columns before, k − 1 − p after: H' = H), x_p the padded input:

    W (k, k, C, C')    b (C',)
    z[n, y, x, o] = b[o] + Σ_{i, j, c} x_p[n, y + i, x + j, c] · W[i, j, c, o]       z, a: (N, H', W', C')
    a = f(z)

  as one matrix product over the im2col columns, W_mat = W reshaped to (k·k·C, C'):

    X_col = im2col(x_p)      (N·H'·W', k·k·C)   row (n, y, x) = patch x_p[n, y:y+k, x:x+k, :], (i, j, c) order
    Z     = X_col · W_mat + b  (N·H'·W', C')      = z reshaped

  Backward, from delta = ∂L/∂z as Δ (N·H'·W', C'):

    dW_mat  = X_colᵀ · Δ           (k·k·C, C')     dW = dW_mat reshaped (k, k, C, C')
    db      = Σ_rows Δ             (C',)
    ∂L/∂X_col = Δ · W_matᵀ         (N·H'·W', k·k·C)  computed as k·k products Δ · W[i, j]ᵀ, one per offset
    ∂L/∂x_p = col2im(∂L/∂X_col):   every column entry added back onto the input pixel it was copied
                                   from; ∂L/∂x = ∂L/∂x_p without its padding

MaxPool2D, 2×2 windows, stride 2: H' = ⌊H/2⌋, W' = ⌊W/2⌋ (an odd last row or column is dropped)

    z[n, y, x, c] = max_{i, j ∈ {0, 1}} a[n, 2y + i, 2x + j, c]          no weights, no activation
    ∂L/∂a[n, 2y + i, 2x + j, c] = delta[n, y, x, c] at ONE position per window: the first of (0, 0),
        (0, 1), (1, 0), (1, 1) that holds the maximum; 0 at the other three and at dropped rows/columns.
        With ties (MNIST's zero background makes them common) the gradient still goes to one input
        only, so the sum of ∂L/∂a over a window equals its delta.

Flatten: (N, H, W, C) → (N, H·W·C) in (row, column, channel) order; backward reshapes back.

Every layer has the same interface as engine.layers.Dense: ``in_shape`` and ``out_shape`` (one sample),
``forward(a_prev) -> (z, a, saved)`` and ``backward(a_prev, saved, delta, need_grad_input) -> (dW, db,
∂L/∂a_prev)``, where ``saved`` is what the forward pass hands to the backward pass (the conv layer's
X_col, so that im2col runs once per step). Pool and flatten have W = b = None and no activation.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine import activations

PADDINGS = ("same", "valid")
MAX_COLUMN_VALUES = 1 << 23  # Network.forward runs conv networks in chunks of at most this many im2col values


def padding_of(k: int, padding: str) -> tuple[int, int]:
    """Zero rows (and columns) added (before, after) the input for a k×k kernel."""
    if padding == "valid":
        return 0, 0
    before = (k - 1) // 2
    return before, k - 1 - before


def conv_out_side(side: int, k: int, padding: str) -> int:
    return side if padding == "same" else side - k + 1


def im2col(x_p: np.ndarray, k: int) -> np.ndarray:
    """Padded images (N, Hp, Wp, C) → X_col (N·H'·W', k·k·C), patches in (i, j, c) order.

    C > 1: the window view (N, H', W', C, k, k) is copied in (i, j, c) order; for each (n, y, x, i)
    the k·C values of a patch row are contiguous in the input too, so the copy moves runs of k·C
    numbers (14×14×8 input, 5×5 kernels, batch 64: 0.7 ms against 12 ms for k² slice copies).
    C = 1: X_col is built column by column, k² copies of whole shifted images, and returned as the
    transpose of that (k·k, N·H'·W') array (28×28×1, batch 64: 0.5 ms against 1.7 ms). Either way
    the matrix products that use X_col read the same numbers."""
    N, Hp, Wp, C = x_p.shape
    if C == 1:
        H_out, W_out = Hp - k + 1, Wp - k + 1
        columns = np.empty((k, k, N, H_out, W_out), x_p.dtype)
        for i in range(k):
            for j in range(k):
                columns[i, j] = x_p[:, i:i + H_out, j:j + W_out, 0]
        return columns.reshape(k * k, -1).T
    windows = sliding_window_view(x_p, (k, k), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
    return np.ascontiguousarray(windows).reshape(-1, k * k * C)


def col2im(d_cols: np.ndarray, shape: tuple[int, int, int, int], k: int) -> np.ndarray:
    """The sum back onto the padded input (N, Hp, Wp, C) of columns given per offset:
    d_cols (k·k, N·H'·W', C), slice i·k + j = the entries that im2col copied from offset (i, j)."""
    N, Hp, Wp, C = shape
    H_out, W_out = Hp - k + 1, Wp - k + 1
    d_x = np.zeros(shape, d_cols.dtype)
    for i in range(k):          # k·k shifted whole-batch additions: no loop over samples
        for j in range(k):
            d_x[:, i:i + H_out, j:j + W_out, :] += d_cols[i * k + j].reshape(N, H_out, W_out, C)
    return d_x


class Conv2D:
    """k×k convolution, stride 1, "same" or "valid" padding, a bias per output channel, an activation."""

    kind = "conv"

    def __init__(self, W: np.ndarray, b: np.ndarray, activation: str, in_shape, padding: str = "same"):
        if W.ndim != 4 or W.shape[0] != W.shape[1] or b.shape != (W.shape[3],):
            raise ValueError(f"W shape {W.shape} and b shape {b.shape} do not make a conv layer: "
                             "W must be (k, k, C_in, C_out) and b (C_out,)")
        if padding not in PADDINGS:
            raise ValueError(f"padding={padding!r} is unknown: choose one of {', '.join(PADDINGS)}")
        H, W_side, C = in_shape
        k = W.shape[0]
        if C != W.shape[2] or not 1 <= k <= min(H, W_side):
            raise ValueError(f"a {k}×{k}×{W.shape[2]} kernel does not fit an input of shape {tuple(in_shape)}")
        self.W, self.b, self.padding = W, b, padding
        self.activation = activations.get(activation)
        self.in_shape = (H, W_side, C)
        self.out_shape = (conv_out_side(H, k, padding), conv_out_side(W_side, k, padding), W.shape[3])

    @property
    def k(self) -> int:
        return self.W.shape[0]

    def spec(self) -> dict:
        return {"type": "conv", "size": self.k, "channels": self.W.shape[3], "padding": self.padding,
                "activation": self.activation.name}

    def pad(self, a_prev: np.ndarray) -> np.ndarray:
        before, after = padding_of(self.k, self.padding)
        if before == after == 0:
            return a_prev
        N, H, W, C = a_prev.shape
        x_p = np.zeros((N, H + before + after, W + before + after, C), a_prev.dtype)
        x_p[:, before:before + H, before:before + W, :] = a_prev
        return x_p

    def forward(self, a_prev: np.ndarray):
        """(z, a, X_col) for a_prev (N, H, W, C)."""
        X_col = im2col(self.pad(a_prev), self.k)
        Z = X_col @ self.W.reshape(-1, self.W.shape[3])
        z = Z.reshape(len(a_prev), *self.out_shape)
        # + b along whole map rows of W'·C' values: a broadcast over rows of C' = 8 took 0.29 ms, this 0.10
        H_out, W_out, C_out = self.out_shape
        rows = z.reshape(-1, W_out * C_out)
        np.add(rows, np.tile(self.b, W_out), out=rows)
        return z, self.activation.f(z), X_col

    def backward(self, a_prev: np.ndarray, X_col: np.ndarray | None, delta: np.ndarray, need_grad_input: bool = True):
        """(dW, db, ∂L/∂a_prev) from delta (N, H', W', C'); X_col from forward, or None to recompute it."""
        k, C, C_out = self.k, self.in_shape[2], self.W.shape[3]
        if X_col is None:
            X_col = im2col(self.pad(a_prev), k)
        D = delta.reshape(-1, C_out)
        # dW_mat = X_colᵀ·Δ, or (Δᵀ·X_col)ᵀ for a row-major X_col: OpenBLAS took 2.4 ms against 3.6 ms for
        # the product with the transposed (k·k·C, N·H'·W') matrix first (second conv of the LeNet bench)
        dW_mat = X_col.T @ D if X_col.flags.f_contiguous else (D.T @ X_col).T
        dW = np.ascontiguousarray(dW_mat).reshape(self.W.shape)
        # Σ over whole map rows first: D.sum(axis=0) over rows of C' = 8 values took 0.80 ms, this 0.07
        db = delta.reshape(-1, self.out_shape[1] * C_out).sum(axis=0).reshape(-1, C_out).sum(axis=0)
        if not need_grad_input:
            return dW, db, None
        # ∂L/∂X_col = Δ · W_matᵀ, as the k·k blocks Δ · W[i, j]ᵀ (N·H'·W', C): each block is contiguous,
        # so col2im adds whole shifted slices (second conv of the LeNet bench: 2.5 ms against 13 ms
        # for adding the strided columns of one (N·H'·W', k·k·C) product)
        d_cols = np.matmul(D, self.W.reshape(k * k, C, C_out).transpose(0, 2, 1))
        N, H, W, _ = a_prev.shape
        before, after = padding_of(k, self.padding)
        d_x = col2im(d_cols, (N, H + before + after, W + before + after, C), k)
        return dW, db, d_x[:, before:before + H, before:before + W, :]

    def copy(self) -> "Conv2D":
        return Conv2D(self.W.copy(), self.b.copy(), self.activation.name, self.in_shape, self.padding)


class MaxPool2D:
    """2×2 max-pooling with stride 2; each window's gradient goes to exactly one of its inputs."""

    kind = "pool"
    W = b = activation = None

    def __init__(self, in_shape):
        H, W, C = in_shape
        if H < 2 or W < 2:
            raise ValueError(f"a 2×2 pool needs a map of at least 2×2, not {H}×{W}")
        self.in_shape = (H, W, C)
        self.out_shape = (H // 2, W // 2, C)

    def spec(self) -> dict:
        return {"type": "pool"}

    def windows(self, a_prev: np.ndarray) -> np.ndarray:
        """The view (N, H', 2, W', 2, C) of a_prev: window (y, x) is [:, y, :, x, :, :]."""
        N, (H_out, W_out, C) = len(a_prev), self.out_shape
        return a_prev[:, :2 * H_out, :2 * W_out, :].reshape(N, H_out, 2, W_out, 2, C)

    def forward(self, a_prev: np.ndarray):
        """(z, z, z): the pooled maps (N, H', W', C), which the backward pass compares against."""
        v = self.windows(a_prev)
        rows = np.maximum(v[:, :, 0], v[:, :, 1])          # (N, H', W', 2, C)
        z = np.maximum(rows[:, :, :, 0], rows[:, :, :, 1])
        return z, z, z

    def backward(self, a_prev: np.ndarray, z: np.ndarray | None, delta: np.ndarray, need_grad_input: bool = True):
        """(None, None, ∂L/∂a_prev): delta routed to the first maximum of each window."""
        if not need_grad_input:
            return None, None, None
        if z is None:
            z = self.forward(a_prev)[0]
        v = self.windows(a_prev)
        d_x = np.empty(a_prev.shape, delta.dtype)  # every window position is written below
        d_x[:, 2 * z.shape[1]:] = 0                 # and a dropped odd last row or column gets 0
        d_x[:, :, 2 * z.shape[2]:] = 0
        d_v = self.windows(d_x)
        free = np.ones(z.shape, bool)   # windows whose gradient has not been placed yet
        for i, j in ((0, 0), (0, 1), (1, 0)):
            hit = v[:, :, i, :, j] == z
            hit &= free
            free ^= hit
            np.multiply(delta, hit, out=d_v[:, :, i, :, j])
        np.multiply(delta, free, out=d_v[:, :, 1, :, 1])  # the rest: their maximum is at (1, 1)
        return None, None, d_x

    def copy(self) -> "MaxPool2D":
        return MaxPool2D(self.in_shape)


class Flatten:
    """(N, H, W, C) maps → (N, H·W·C) rows for the dense layers after them."""

    kind = "flatten"
    W = b = activation = None

    def __init__(self, in_shape):
        if len(in_shape) != 3:
            raise ValueError(f"flatten needs (height, width, channels) maps, not an input of shape {tuple(in_shape)}")
        self.in_shape = tuple(in_shape)
        self.out_shape = (math.prod(in_shape),)

    def spec(self) -> dict:
        return {"type": "flatten"}

    def forward(self, a_prev: np.ndarray):
        a = a_prev.reshape(len(a_prev), -1)
        return a, a, None

    def backward(self, a_prev: np.ndarray, saved, delta: np.ndarray, need_grad_input: bool = True):
        return None, None, (delta.reshape(a_prev.shape) if need_grad_input else None)

    def copy(self) -> "Flatten":
        return Flatten(self.in_shape)
