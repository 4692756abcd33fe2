"""Optimisers and regularisation. Every update is in place on the parameter arrays θ.

With g = ∂L/∂θ for one mini-batch and learning rate η:

    sgd        θ ← θ − η g
    momentum   v ← μ v + g;   θ ← θ − η v                                   (μ = momentum)
    adam       m ← β₁ m + (1 − β₁) g;   s ← β₂ s + (1 − β₂) g²
               θ ← θ − η m̂ / (√ŝ + ε),   m̂ = m / (1 − β₁ᵗ),  ŝ = s / (1 − β₂ᵗ)

Regularisation of the weights W (not the biases), at rate λ:

    l1   penalty λ Σ|W|       gradient λ sign(W)
    l2   penalty λ/2 Σ W²     gradient λ W

Hyperparameters are plain attributes, checked on assignment, so they may change between steps.
"""
from __future__ import annotations

import math

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZERS = ("none", "l1", "l2")
MAX_LEARNING_RATE = 100.0
MAX_REG_RATE = 10.0


def check_range(name: str, value, low: float, high: float, low_open=False, high_open=False) -> float:
    """``value`` as a float if it lies in the range, else a ValueError naming both."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}={value!r} is not a number")
    value = float(value)
    ok = math.isfinite(value) and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{name}={value!r} is out of range: must be in {lo}{low:g}, {high:g}{hi}")
    return value


class Optimizer:
    """Base: holds the learning rate η, checked whenever it is set.

    ``STATE`` names the attributes that every update changes (velocities, moments, the step count):
    ``state()`` copies them and ``restore(state)`` puts a copy back, so a trainer can roll back to
    a checkpoint; hyperparameters such as η are not part of it."""

    name = "sgd"
    STATE: tuple[str, ...] = ()
    ARRAYS: tuple[str, ...] = ()  # the STATE that holds one array per parameter array

    def __init__(self, learning_rate: float = 0.1):
        self.learning_rate = learning_rate

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = check_range("learning_rate", value, 0.0, MAX_LEARNING_RATE, low_open=True)

    def update(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        raise NotImplementedError

    def state(self) -> dict:
        return {name: _copied(getattr(self, name)) for name in self.STATE}

    def restore(self, state: dict) -> None:
        for name in self.STATE:
            setattr(self, name, _copied(state[name]))


def _copied(value):
    """A list of arrays copied array by array; numbers and None as they are."""
    return [a.copy() for a in value] if isinstance(value, list) else value


class SGD(Optimizer):
    name = "sgd"

    def update(self, params, grads):
        eta = self.learning_rate
        for theta, g in zip(params, grads):
            theta -= eta * g


class Momentum(Optimizer):
    name = "momentum"
    STATE = ARRAYS = ("v",)

    def __init__(self, learning_rate: float = 0.1, momentum: float = 0.9):
        super().__init__(learning_rate)
        self.momentum = check_range("momentum", momentum, 0.0, 1.0, high_open=True)
        self.v: list[np.ndarray] | None = None

    def update(self, params, grads):
        if self.v is None:
            self.v = [np.zeros_like(theta) for theta in params]
        for theta, g, v in zip(params, grads, self.v):
            v *= self.momentum
            v += g
            theta -= self.learning_rate * v


class Adam(Optimizer):
    name = "adam"
    ARRAYS = ("m", "s")
    STATE = ("t", *ARRAYS)

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(learning_rate)
        self.beta1 = check_range("beta1", beta1, 0.0, 1.0, high_open=True)
        self.beta2 = check_range("beta2", beta2, 0.0, 1.0, high_open=True)
        self.eps = check_range("eps", eps, 0.0, 1.0, low_open=True)
        self.t = 0
        self.m: list[np.ndarray] | None = None
        self.s: list[np.ndarray] | None = None

    def update(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(theta) for theta in params]
            self.s = [np.zeros_like(theta) for theta in params]
        self.t += 1
        step = self.learning_rate * math.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        eps_hat = self.eps * math.sqrt(1 - self.beta2 ** self.t)  # ε applied to √ŝ, folded into √s
        for theta, g, m, s in zip(params, grads, self.m, self.s):
            m *= self.beta1
            m += (1 - self.beta1) * g
            s *= self.beta2
            s += (1 - self.beta2) * (g * g)
            theta -= step * m / (np.sqrt(s) + eps_hat)


def optimizer_class(name: str) -> type[Optimizer]:
    """The optimiser class called ``name``: ``sgd``, ``momentum`` or ``adam``."""
    kinds = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
    if name not in kinds:
        raise ValueError(f"optimizer={name!r} is unknown: choose one of {', '.join(OPTIMIZERS)}")
    return kinds[name]


def make_optimizer(name: str, learning_rate: float, **options) -> Optimizer:
    """A fresh optimiser by name: ``sgd``, ``momentum`` or ``adam``."""
    return optimizer_class(name)(learning_rate, **options)


class Regularizer:
    """L1 or L2 weight penalty at ``rate`` λ; kind ``none`` adds nothing."""

    def __init__(self, kind: str = "none", rate: float = 0.0):
        if kind not in REGULARIZERS:
            raise ValueError(f"regularization={kind!r} is unknown: choose one of {', '.join(REGULARIZERS)}")
        self.kind = kind
        self.rate = check_range("regularization_rate", rate, 0.0, MAX_REG_RATE)

    @property
    def active(self) -> bool:
        """False when the penalty is zero anyway (kind none, or rate 0): then backprop skips it."""
        return self.kind != "none" and self.rate > 0.0

    def penalty(self, weights: list[np.ndarray]) -> float:
        if self.kind == "l1":
            return self.rate * float(sum(np.abs(W).sum() for W in weights))
        if self.kind == "l2":
            return 0.5 * self.rate * float(sum((W * W).sum() for W in weights))
        return 0.0

    def grad(self, W: np.ndarray) -> np.ndarray | float:
        if self.kind == "l1":
            return self.rate * np.sign(W)
        if self.kind == "l2":
            return self.rate * W
        return 0.0
