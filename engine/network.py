"""A feed-forward network of layers (dense, conv, pool, flatten), and its backpropagation.

Layers l = 1..L, inputs X (batch, n_0) — or, for image inputs (H, W, C), the same rows read as
(batch, H, W, C), engine/conv.py — and targets Y of shape (batch, n_L):

    a⁰ = X
    zˡ = layerˡ(aˡ⁻¹),   aˡ = fˡ(zˡ)          dense: zˡ = aˡ⁻¹ · Wˡ + bˡ, (batch, n_l); conv: conv.py
                                           pool and flatten: aˡ = zˡ, no weights, no activation
    δᴸ = ∂L/∂zᴸ                                        from the loss
    ∂L/∂aˡ = layerˡ⁺¹.backward(δˡ⁺¹)                   dense: δˡ⁺¹ · Wˡ⁺¹ᵀ
    δˡ = ∂L/∂aˡ ⊙ fˡ'(zˡ)                               (= ∂L/∂aˡ for pool and flatten)
    dWˡ = aˡ⁻¹ᵀ · δˡ,   dbˡ = Σ_rows δˡ                 dense: (n_{l-1}, n_l), (n_l,); conv: conv.py

Regularisation adds its penalty to L and its gradient to every dWˡ (never to biases).
Build a dense network with ``Network.create(sizes, activations)``, any network with
``Network.from_spec(input_shape, layers)`` (engine/spec.py describes the layer objects).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine import activations, losses, spec
from engine.conv import MAX_COLUMN_VALUES
from engine.layers import INITS, init_weights

# Outputs whose range includes negative values code the two classes as −1 / +1, the others as 0 / 1.
SIGNED_OUTPUTS = ("tanh", "linear", "leaky_relu")


@dataclass
class Pass:
    """Everything one forward and backward pass computed, layer by layer (index 0 = layer 1).
    Pool and flatten layers have None in dW and db. grad_a[l] is ∂L/∂a of layer l + 1, what the next
    layer's backward pass handed back; the last is None (the loss gives the output's δᴸ directly)."""

    X: np.ndarray
    Y: np.ndarray
    z: list[np.ndarray]
    a: list[np.ndarray]
    delta: list[np.ndarray]
    dW: list[np.ndarray | None]
    db: list[np.ndarray | None]
    loss: float
    grad_a: list[np.ndarray | None] = field(default_factory=list)


class Network:
    """Layers plus a loss, by name. Build one with ``Network.create`` or ``Network.from_spec``."""

    def __init__(self, layers: list, loss: str):
        if not layers:
            raise ValueError("layers=[] is empty: a network needs at least one layer")
        for l, (prev, layer) in enumerate(zip(layers, layers[1:]), start=1):
            if prev.out_shape != layer.in_shape:
                raise ValueError(f"layer {l} has {math.prod(prev.out_shape)} outputs {prev.out_shape} but layer "
                                 f"{l + 1} expects {math.prod(layer.in_shape)} inputs {layer.in_shape}")
        if layers[-1].kind != "dense":
            raise ValueError(f"the output layer is a {layers[-1].kind} layer: it must be dense")
        self.layers = layers
        self.check_activations(self.activations, layers[-1].n_out, loss)
        self.loss = losses.get(loss)
        columns = [math.prod(l.out_shape[:2]) * l.W[..., 0].size for l in layers if l.kind == "conv"]
        self._chunk = max(1, MAX_COLUMN_VALUES // max(columns)) if columns else None  # rows per forward chunk

    @staticmethod
    def check_activations(names: list[str | None], n_out: int, loss: str) -> None:
        """A ValueError unless the activation names (one per layer, None for pool and flatten), the
        number of outputs and the loss go together."""
        for l, name in enumerate(names[:-1], start=1):
            if name is not None and activations.get(name).output_only:
                raise ValueError(f"activation {name!r} in hidden layer {l} is only allowed on the output layer")
        chosen, out = losses.get(loss), names[-1]
        if chosen.outputs is not None and out not in chosen.outputs:
            raise ValueError(f"loss={loss!r} needs a {' or '.join(chosen.outputs)} output layer, not {out!r}")
        if loss == "binary_cross_entropy" and n_out != 1:
            raise ValueError(f"loss='binary_cross_entropy' needs exactly 1 output, not {n_out}")

    @classmethod
    def create(cls, sizes, activations_, loss="squared_error", init="xavier", seed=0, dtype=np.float32):
        """A new dense network: ``sizes`` = [n_0, n_1, ..., n_L], one activation name per layer."""
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
        layers = [{"type": "dense", "size": n, "activation": f} for n, f in zip(sizes[1:], activations_)]
        return cls.from_spec([sizes[0]], layers, loss, init, seed, dtype)

    @classmethod
    def from_spec(cls, input_shape, layers, loss="squared_error", init="xavier", seed=0, dtype=np.float32):
        """A new network from a layer spec (engine/spec.py), e.g. input_shape [28, 28, 1] and
        [{"type": "conv", "size": 5, "channels": 8}, {"type": "pool"}, {"type": "flatten"},
         {"type": "dense", "size": 10, "activation": "softmax"}]. Weights are drawn layer by layer
        from ``np.random.default_rng(seed)``; a conv kernel's fan-in is k·k·C_in."""
        plans = spec.plan(input_shape, layers)
        if init not in INITS:
            raise ValueError(f"init={init!r} is unknown: choose one of {', '.join(INITS)}")
        rng = np.random.default_rng(seed)
        built = []
        for p in plans:
            W = b = None
            if p.W_shape is not None:
                W, b = init_weights(math.prod(p.W_shape[:-1]), p.W_shape[-1], init, rng, dtype)
                W = W.reshape(p.W_shape)
            built.append(spec.make_layer(p, W, b))
        return cls(built, loss)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.layers[0].in_shape

    @property
    def spec(self) -> list[dict]:
        """The layer spec that ``from_spec`` would build this architecture from."""
        return [layer.spec() for layer in self.layers]

    @property
    def sizes(self) -> list[int]:
        """Values per sample: the input's, then each layer's output (H·W·C for maps)."""
        return [math.prod(self.input_shape)] + [math.prod(layer.out_shape) for layer in self.layers]

    @property
    def activations(self) -> list[str | None]:
        """Each layer's activation name; None for pool and flatten layers."""
        return [None if layer.activation is None else layer.activation.name for layer in self.layers]

    @property
    def is_dense(self) -> bool:
        return all(layer.kind == "dense" for layer in self.layers)

    @property
    def dtype(self):
        return next(layer.W.dtype for layer in self.layers if layer.W is not None)

    def _check_input(self, X: np.ndarray) -> np.ndarray:
        """X as rows (batch, n_0), or for image inputs as (batch, H, W, C)."""
        X = np.asarray(X, dtype=self.dtype)
        shape, n_0 = self.input_shape, self.sizes[0]
        if X.ndim == 2 and X.shape[1] == n_0:
            pass
        elif X.shape[1:] != shape:
            maps = f" or (batch, {', '.join(map(str, shape))})" if len(shape) > 1 else ""
            raise ValueError(f"X has shape {X.shape}: expected (batch, {n_0}){maps}")
        if len(X) == 0:
            raise ValueError("X is empty: give at least one sample")
        return X.reshape(len(X), *shape) if len(shape) > 1 else X

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The output aᴸ, shape (batch, n_L). Conv networks run in chunks of rows (MAX_COLUMN_VALUES)."""
        a = self._check_input(X)
        if self._chunk is not None and len(a) > self._chunk:
            return np.concatenate([self._output(a[s:s + self._chunk]) for s in range(0, len(a), self._chunk)])
        return self._output(a)

    def _output(self, a: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            a = layer.forward(a)[1]
        return a

    def forward_all(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(z, a): one (batch, *out_shape) array per layer for each."""
        return self._forward_all(self._check_input(X))[:2]

    def _forward_all(self, a_prev: np.ndarray):
        zs, as_, saved = [], [], []
        for layer in self.layers:
            z, a_prev, kept = layer.forward(a_prev)
            zs.append(z)
            as_.append(a_prev)
            saved.append(kept)
        return zs, as_, saved

    def backprop(self, X: np.ndarray, Y: np.ndarray, regularizer=None) -> Pass:
        """One forward and backward pass: the loss and ∂L/∂W, ∂L/∂b of every layer."""
        X = self._check_input(X)
        Y = np.asarray(Y, dtype=self.dtype)
        n_L = self.layers[-1].n_out
        if Y.shape != (len(X), n_L):
            raise ValueError(f"Y has shape {Y.shape}: expected ({len(X)}, {n_L})")
        z, a, saved = self._forward_all(X)
        output = self.layers[-1]
        delta = self.loss.delta(output.activation, z[-1], a[-1], Y)
        L = len(self.layers)
        deltas, dWs, dbs, grads = [None] * L, [None] * L, [None] * L, [None] * L
        for l in range(L - 1, -1, -1):
            a_prev = a[l - 1] if l > 0 else X
            deltas[l] = delta
            dWs[l], dbs[l], grad_a_prev = self.layers[l].backward(a_prev, saved[l], delta, need_grad_input=l > 0)
            if l > 0:
                grads[l - 1] = grad_a_prev
                f = self.layers[l - 1].activation
                delta = grad_a_prev if f is None else f.backward(z[l - 1], a[l - 1], grad_a_prev)
        loss = self.loss.f(a[-1], Y)
        if regularizer is not None and regularizer.active:
            loss += regularizer.penalty([layer.W for layer in self.layers if layer.W is not None])
            for l, layer in enumerate(self.layers):
                if layer.W is not None:
                    dWs[l] += regularizer.grad(layer.W)
        return Pass(X, Y, z, a, deltas, dWs, dbs, loss, grads)

    def parameters(self) -> list[np.ndarray]:
        """[W¹, b¹, W², b², ...] of the layers that have weights: the arrays an optimiser updates in place."""
        return [p for layer in self.layers if layer.W is not None for p in (layer.W, layer.b)]

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
        return Network([layer.copy() for layer in self.layers], self.loss.name)
