"""Activation functions a = f(z), each with its derivative right beside it.

Shapes: z and a are (batch, units); batches are rows.

Every activation is registered by name in ``ACTIVATIONS``. Its ``backward`` turns the
gradient of the loss with respect to the activation, ∂L/∂a, into ∂L/∂z:

    element-wise f:  ∂L/∂z = ∂L/∂a ⊙ f'(z)
    softmax:         ∂L/∂z = a ⊙ (∂L/∂a − Σ_j (∂L/∂a)_j a_j)      (row by row)

    sigmoid      f(z) = 1 / (1 + e^−z)                 f'(z) = a (1 − a)
    tanh         f(z) = tanh z                         f'(z) = 1 − a²
    relu         f(z) = max(0, z)                      f'(z) = 1 if z > 0 else 0
    leaky_relu   f(z) = z if z > 0 else 0.01 z         f'(z) = 1 if z > 0 else 0.01
    linear       f(z) = z                              f'(z) = 1
    softmax      f(z)_i = e^{z_i} / Σ_j e^{z_j}        (output layer only; Jacobian above)

``output_only`` activations (softmax) may only end a network; ``hidden_only`` ones (relu, leaky_relu)
are offered for hidden layers only: an output of ReLUs cannot go below 0, and a unit whose z < 0
stops learning. The app's choice lists are read from this registry, so registering an activation
here is all it takes for it to appear on every page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

LEAKY_SLOPE = 0.01


@dataclass(frozen=True)
class Activation:
    """A named activation: ``f(z)`` and its derivative ``df(z, a)`` with ``a = f(z)``."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    output_only: bool = False
    hidden_only: bool = False

    def backward(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
        """∂L/∂z from ∂L/∂a, shape (batch, units)."""
        if self.df is not None:
            return grad_a * self.df(z, a)
        return softmax_backward(a, grad_a)


ACTIVATIONS: dict[str, Activation] = {}


def register(name: str, f, df, output_only: bool = False, hidden_only: bool = False) -> Activation:
    ACTIVATIONS[name] = Activation(name, f, df, output_only, hidden_only)
    return ACTIVATIONS[name]


def get(name: str) -> Activation:
    """The activation called ``name``; a ValueError names the choices otherwise."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation={name!r} is unknown: choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1/(1+e^-z) without overflow


def sigmoid_prime(z, a):
    return a * (1.0 - a)


def tanh(z):
    return np.tanh(z)


def tanh_prime(z, a):
    return 1.0 - a * a


def relu(z):
    return np.maximum(z, 0.0)


def relu_prime(z, a):
    return (z > 0).astype(z.dtype)


def leaky_relu(z):
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_prime(z, a):
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)


def linear(z):
    return z


def linear_prime(z, a):
    return np.ones_like(z)


def softmax(z):
    e = z - z.max(axis=1, keepdims=True)  # shifted so that e^z cannot overflow
    np.exp(e, out=e)
    e /= e.sum(axis=1, keepdims=True)
    return e


def softmax_backward(a, grad_a):
    return a * (grad_a - (grad_a * a).sum(axis=1, keepdims=True))


register("sigmoid", sigmoid, sigmoid_prime)
register("tanh", tanh, tanh_prime)
register("relu", relu, relu_prime, hidden_only=True)
register("leaky_relu", leaky_relu, leaky_relu_prime, hidden_only=True)
register("linear", linear, linear_prime)
register("softmax", softmax, None, output_only=True)
