"""A dense layer with a bias, and weight initialisation.

Forward, with a_prev of shape (batch, n_in):

    z = a_prev · W + b          W: (n_in, n_out)   b: (n_out,)   z, a: (batch, n_out)
    a = f(z)

Backward, given delta = ∂L/∂z of this layer, shape (batch, n_out):

    dW = a_prevᵀ · delta        (n_in, n_out)
    db = Σ_rows delta           (n_out,)
    ∂L/∂a_prev = delta · Wᵀ     (batch, n_in), so that the previous layer's
    delta_prev = (delta · Wᵀ) ⊙ f_prev'(z_prev)   — the textbook chain rule.

Initialisation (n_in inputs, n_out outputs), biases start at 0 except for ``normal``:

    uniform   W ~ U(−0.5, 0.5)
    normal    W ~ N(0, 1), b ~ N(0, 1)                 (Nielsen's network.py)
    xavier    W ~ U(−√(6/(n_in+n_out)), +√(6/(n_in+n_out)))
    he        W ~ N(0, 2/n_in)
"""
from __future__ import annotations

import numpy as np

from engine import activations

INITS = ("uniform", "normal", "xavier", "he")


def init_weights(n_in: int, n_out: int, init: str, rng: np.random.Generator, dtype=np.float32):
    """(W, b) with W (n_in, n_out) and b (n_out,), drawn from ``rng``. A conv layer's k×k×C → C' kernels
    are drawn as n_in = k·k·C (its fan-in) by n_out = C' and reshaped to (k, k, C, C')."""
    if init == "uniform":
        W = rng.uniform(-0.5, 0.5, (n_in, n_out))
        b = np.zeros(n_out)
    elif init == "normal":
        W = rng.standard_normal((n_in, n_out))
        b = rng.standard_normal(n_out)
    elif init == "xavier":
        limit = np.sqrt(6.0 / (n_in + n_out))
        W = rng.uniform(-limit, limit, (n_in, n_out))
        b = np.zeros(n_out)
    elif init == "he":
        W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        b = np.zeros(n_out)
    else:
        raise ValueError(f"init={init!r} is unknown: choose one of {', '.join(INITS)}")
    return W.astype(dtype), b.astype(dtype)


class Dense:
    """One fully connected layer: weights ``W``, bias ``b`` and an activation by name.

    The layer interface every layer kind shares (engine/conv.py has the others): ``kind``, ``in_shape``
    and ``out_shape`` of one sample, ``forward(a_prev) -> (z, a, saved)``, ``backward(a_prev, saved,
    delta, need_grad_input) -> (dW, db, ∂L/∂a_prev)``, ``spec()`` and ``copy()``."""

    kind = "dense"

    def __init__(self, W: np.ndarray, b: np.ndarray, activation: str):
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"W shape {W.shape} and b shape {b.shape} do not match: b must be (W.shape[1],)")
        self.W = W
        self.b = b
        self.activation = activations.get(activation)

    @property
    def n_in(self) -> int:
        return self.W.shape[0]

    @property
    def n_out(self) -> int:
        return self.W.shape[1]

    @property
    def in_shape(self) -> tuple[int]:
        return (self.W.shape[0],)

    @property
    def out_shape(self) -> tuple[int]:
        return (self.W.shape[1],)

    def spec(self) -> dict:
        return {"type": "dense", "size": self.n_out, "activation": self.activation.name}

    def forward(self, a_prev: np.ndarray):
        """(z, a, None) for inputs a_prev (batch, n_in)."""
        z = a_prev @ self.W
        z += self.b
        return z, self.activation.f(z), None

    def backward(self, a_prev: np.ndarray, saved, delta: np.ndarray, need_grad_input: bool = True):
        """(dW, db, ∂L/∂a_prev) from this layer's delta; the last is None when not needed."""
        dW = a_prev.T @ delta
        db = delta.sum(axis=0)
        grad_a_prev = delta @ self.W.T if need_grad_input else None
        return dW, db, grad_a_prev

    def copy(self) -> "Dense":
        return Dense(self.W.copy(), self.b.copy(), self.activation.name)
