"""Backpropagation against central finite differences, for every valid activation × loss pair."""
import numpy as np
import pytest

from engine import activations, losses
from engine.network import Network
from engine.optim import Regularizer

HIDDEN = [name for name, f in activations.ACTIVATIONS.items() if not f.output_only]


def valid_pairs():
    for loss in losses.LOSSES.values():
        for out in activations.ACTIVATIONS:
            if loss.outputs is None or out in loss.outputs:
                yield out, loss.name


def numeric_grad(net, X, Y, theta, regularizer=None, h=1e-6):
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + h
        plus = net.backprop(X, Y, regularizer).loss
        theta[i] = old - h
        minus = net.backprop(X, Y, regularizer).loss
        theta[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def problem(out, loss, hidden, seed=0):
    rng = np.random.default_rng(seed)
    k = 1 if loss == "binary_cross_entropy" else 3
    net = Network.create([4, 5, 4, k], [hidden, hidden, out], loss, init="normal", seed=seed, dtype=np.float64)
    X = rng.normal(size=(6, 4))
    if loss == "cross_entropy":
        Y = np.eye(k)[rng.integers(0, k, 6)]
    elif loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, (6, 1)).astype(float)
    else:
        Y = rng.uniform(0.1, 0.9, (6, k))
    # keep relu-like units away from their kink, where the derivative is undefined
    for layer in net.layers:
        layer.b += 0.05
    return net, X, Y


def assert_grads_match(net, X, Y, regularizer=None):
    p = net.backprop(X, Y, regularizer)
    for l, layer in enumerate(net.layers):
        if layer.W is None:  # pool and flatten: no weights (their backward is checked through the layers before)
            assert p.dW[l] is None and p.db[l] is None
            continue
        for analytic, theta in ((p.dW[l], layer.W), (p.db[l], layer.b)):
            numeric = numeric_grad(net, X, Y, theta, regularizer)
            np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("out,loss", list(valid_pairs()))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backprop_matches_finite_differences(out, loss, hidden):
    net, X, Y = problem(out, loss, hidden)
    assert_grads_match(net, X, Y)


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_regularization_gradient_matches_finite_differences(kind):
    net, X, Y = problem("sigmoid", "squared_error", "tanh", seed=3)
    assert_grads_match(net, X, Y, Regularizer(kind, 0.05))


def test_softmax_cross_entropy_shortcut_equals_full_chain():
    net, X, Y = problem("softmax", "cross_entropy", "tanh")
    z, a = net.forward_all(X)
    loss, out = net.loss, net.layers[-1].activation
    full = out.backward(z[-1], a[-1], loss.grad(a[-1], Y))
    np.testing.assert_allclose(loss.delta(out, z[-1], a[-1], Y), full, rtol=1e-9, atol=1e-12)


def test_a_broken_derivative_is_caught():
    """The check itself must be able to fail: a wrong derivative gives a mismatch."""
    net, X, Y = problem("sigmoid", "squared_error", "tanh")
    real = activations.ACTIVATIONS["tanh"]
    activations.ACTIVATIONS["tanh"] = activations.Activation("tanh", real.f, lambda z, a: 1.0 - a)
    try:
        net = Network.create([4, 5, 4, 3], ["tanh", "tanh", "sigmoid"], "squared_error", init="normal", dtype=np.float64)
        with pytest.raises(AssertionError):
            assert_grads_match(net, X, Y)
    finally:
        activations.ACTIVATIONS["tanh"] = real
