"""Losses L(a, y), averaged over the batch, each with its gradient ∂L/∂a beside it.

Shapes: output a and target y are (batch, outputs); n is the batch size.

    half squared error     L = 1/(2n) Σ (a − y)²                         ∂L/∂a = (a − y) / n
    cross-entropy          L = −1/n Σ y log a        (softmax output)     ∂L/∂a = −y / (n a)
    binary cross-entropy   L = −1/n Σ [y log a + (1 − y) log(1 − a)]     ∂L/∂a = (a − y) / (n a (1 − a))
                                                     (one sigmoid output)

Cross-entropy after softmax, and binary cross-entropy after sigmoid, simplify to the
output delta ∂L/∂z = (a − y) / n; ``delta`` uses that form, which is exact and stable.
Every loss is registered by name in ``LOSSES``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np



@dataclass(frozen=True)
class Loss:
    """A named loss; ``outputs`` lists the output activations it accepts (None: any)."""

    name: str
    f: Callable[[np.ndarray, np.ndarray], float]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]
    outputs: tuple[str, ...] | None = None
    simplifies_with: str | None = None

    def delta(self, activation, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Output delta ∂L/∂z, shape (batch, outputs)."""
        if activation.name == self.simplifies_with:
            delta = a - y
            delta /= len(a)
            return delta
        return activation.backward(z, a, self.grad(a, y))


LOSSES: dict[str, Loss] = {}


def register(name, f, grad, outputs=None, simplifies_with=None) -> Loss:
    LOSSES[name] = Loss(name, f, grad, outputs, simplifies_with)
    return LOSSES[name]


def get(name: str) -> Loss:
    if name not in LOSSES:
        raise ValueError(f"loss={name!r} is unknown: choose one of {', '.join(LOSSES)}")
    return LOSSES[name]


def squared_error(a, y):
    return float(0.5 * np.sum((a - y) ** 2) / len(a))


def squared_error_grad(a, y):
    return (a - y) / len(a)


def positive(x):
    """x with zeros raised to the smallest positive float, so that log x stays finite."""
    return np.maximum(x, np.finfo(x.dtype).tiny)


def cross_entropy(a, y):
    return -float(np.vdot(y, np.log(positive(a)))) / len(a)


def cross_entropy_grad(a, y):
    return -y / (len(a) * positive(a))


def binary_cross_entropy(a, y):
    return float(-np.sum(y * np.log(positive(a)) + (1.0 - y) * np.log(positive(1.0 - a))) / len(a))


def binary_cross_entropy_grad(a, y):
    return (a - y) / (len(a) * positive(a * (1.0 - a)))


register("squared_error", squared_error, squared_error_grad)
register("cross_entropy", cross_entropy, cross_entropy_grad, ("softmax",), "softmax")
register("binary_cross_entropy", binary_cross_entropy, binary_cross_entropy_grad, ("sigmoid",), "sigmoid")
