"""A feed-forward network of dense layers, and its backpropagation.

Layers l = 1..L, inputs X of shape (batch, n_0), targets Y of shape (batch, n_L):

    a⁰ = X
    zˡ = aˡ⁻¹ · Wˡ + bˡ,   aˡ = fˡ(zˡ)                  (batch, n_l)
    δᴸ = ∂L/∂zᴸ                                        from the loss
    δˡ = (δˡ⁺¹ · Wˡ⁺¹ᵀ) ⊙ fˡ'(zˡ)                       carried backwards
    dWˡ = aˡ⁻¹ᵀ · δˡ,   dbˡ = Σ_rows δˡ                 (n_{l-1}, n_l), (n_l,)

Regularisation adds its penalty to L and its gradient to every dWˡ (never to biases).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import activations, losses
from engine.layers import INITS, Dense, init_weights

# Outputs whose range includes negative values code the two classes as −1 / +1, the others as 0 / 1.
SIGNED_OUTPUTS = ("tanh", "linear", "leaky_relu")


@dataclass
class Pass:
    """Everything one forward and backward pass computed, layer by layer (index 0 = layer 1)."""

    X: np.ndarray
    Y: np.ndarray
    z: list[np.ndarray]
    a: list[np.ndarray]
    delta: list[np.ndarray]
    dW: list[np.ndarray]
    db: list[np.ndarray]
    loss: float


class Network:
    """Dense layers plus a loss, by name. Build one with ``Network.create``."""

    def __init__(self, layers: list[Dense], loss: str):
        if not layers:
            raise ValueError("layers=[] is empty: a network needs at least one layer")
        for l, (prev, layer) in enumerate(zip(layers, layers[1:]), start=1):
            if prev.n_out != layer.n_in:
                raise ValueError(f"layer {l} has {prev.n_out} outputs but layer {l + 1} expects {layer.n_in} inputs")
        for l, layer in enumerate(layers[:-1], start=1):
            if layer.activation.output_only:
                raise ValueError(f"activation {layer.activation.name!r} in hidden layer {l} is only allowed on the output layer")
        self.layers = layers
        self.loss = losses.get(loss)
        out = layers[-1].activation.name
        if self.loss.outputs is not None and out not in self.loss.outputs:
            raise ValueError(f"loss={loss!r} needs a {' or '.join(self.loss.outputs)} output layer, not {out!r}")
        if loss == "binary_cross_entropy" and layers[-1].n_out != 1:
            raise ValueError(f"loss='binary_cross_entropy' needs exactly 1 output, not {layers[-1].n_out}")

    @classmethod
    def create(cls, sizes, activations_, loss="squared_error", init="xavier", seed=0, dtype=np.float32):
        """A new network: ``sizes`` = [n_0, n_1, ..., n_L], one activation name per layer."""
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes={sizes} is too short: give at least the input and output sizes")
        for i, n in enumerate(sizes):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"sizes[{i}]={n!r} is invalid: each size must be a whole number >= 1")
        if isinstance(activations_, str):
            activations_ = [activations_] * (len(sizes) - 1)
        activations_ = list(activations_)
        if len(activations_) != len(sizes) - 1:
            raise ValueError(f"activations has {len(activations_)} names but there are {len(sizes) - 1} layers")
        for name in activations_:
            activations.get(name)
        if init not in INITS:
            raise ValueError(f"init={init!r} is unknown: choose one of {', '.join(INITS)}")
        rng = np.random.default_rng(seed)
        layers = [Dense(*init_weights(n_in, n_out, init, rng, dtype), f)
                  for n_in, n_out, f in zip(sizes, sizes[1:], activations_)]
        return cls(layers, loss)

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def activations(self) -> list[str]:
        return [layer.activation.name for layer in self.layers]

    @property
    def dtype(self):
        return self.layers[0].W.dtype

    def _check_input(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=self.dtype)
        n_0 = self.layers[0].n_in
        if X.ndim != 2 or X.shape[1] != n_0:
            raise ValueError(f"X has shape {X.shape}: expected (batch, {n_0})")
        if len(X) == 0:
            raise ValueError("X is empty: give at least one sample")
        return X

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The output aᴸ, shape (batch, n_L)."""
        a = self._check_input(X)
        for layer in self.layers:
            a = layer.forward(a)[1]
        return a

    def forward_all(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(z, a): one (batch, n_l) array per layer for each."""
        return self._forward_all(self._check_input(X))

    def _forward_all(self, a_prev: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        zs, as_ = [], []
        for layer in self.layers:
            z, a_prev = layer.forward(a_prev)
            zs.append(z)
            as_.append(a_prev)
        return zs, as_

    def backprop(self, X: np.ndarray, Y: np.ndarray, regularizer=None) -> Pass:
        """One forward and backward pass: the loss and ∂L/∂W, ∂L/∂b of every layer."""
        X = self._check_input(X)
        Y = np.asarray(Y, dtype=self.dtype)
        n_L = self.layers[-1].n_out
        if Y.shape != (len(X), n_L):
            raise ValueError(f"Y has shape {Y.shape}: expected ({len(X)}, {n_L})")
        z, a = self._forward_all(X)
        output = self.layers[-1]
        delta = self.loss.delta(output.activation, z[-1], a[-1], Y)
        L = len(self.layers)
        deltas, dWs, dbs = [None] * L, [None] * L, [None] * L
        for l in range(L - 1, -1, -1):
            a_prev = a[l - 1] if l > 0 else X
            deltas[l] = delta
            dWs[l], dbs[l], grad_a_prev = self.layers[l].backward(a_prev, delta, need_grad_input=l > 0)
            if l > 0:
                delta = self.layers[l - 1].activation.backward(z[l - 1], a[l - 1], grad_a_prev)
        loss = self.loss.f(a[-1], Y)
        if regularizer is not None and regularizer.active:
            loss += regularizer.penalty([layer.W for layer in self.layers])
            for l, layer in enumerate(self.layers):
                dWs[l] += regularizer.grad(layer.W)
        return Pass(X, Y, z, a, deltas, dWs, dbs, loss)

    def parameters(self) -> list[np.ndarray]:
        """[W¹, b¹, W², b², ...]: the arrays an optimiser updates in place."""
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    # -- classification helpers --------------------------------------------------------------
    @property
    def threshold(self) -> float:
        """The output value separating the two classes of a single-output classifier."""
        return 0.0 if self.activations[-1] in SIGNED_OUTPUTS else 0.5

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """Class labels (batch,) -> targets (batch, n_L): one-hot, or ±1 / 0-1 for one output."""
        labels = np.asarray(labels).astype(int)
        k = self.sizes[-1]
        if k == 1:
            low = -1.0 if self.threshold == 0.0 else 0.0
            return np.where(labels > 0, 1.0, low).astype(self.dtype)[:, None]
        if labels.min(initial=0) < 0 or labels.max(initial=0) >= k:
            raise ValueError(f"labels range {labels.min()}..{labels.max()} does not fit {k} outputs: must be 0..{k - 1}")
        return np.eye(k, dtype=self.dtype)[labels]

    def classify(self, a: np.ndarray) -> np.ndarray:
        """Network outputs (batch, n_L) -> class labels (batch,)."""
        if a.shape[1] == 1:
            return (a[:, 0] > self.threshold).astype(int)
        return a.argmax(axis=1)

    def accuracy(self, X: np.ndarray, labels: np.ndarray) -> float:
        return float(np.mean(self.classify(self.forward(X)) == np.asarray(labels)))

    def copy(self) -> "Network":
        return Network([Dense(l.W.copy(), l.b.copy(), l.activation.name) for l in self.layers], self.loss.name)
