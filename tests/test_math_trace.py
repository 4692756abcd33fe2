"""The trace fields the Math page shows beyond the step's own matrices: f'(z) and ∂L/∂a.

The page never computes a number of the step, so the trace must carry every matrix it draws,
and the two notations it offers (the gradient form and the tutorials' form) must agree.
"""
import json

import numpy as np
import pytest

from app.frames import trace_message
from engine import data
from engine.network import Network
from engine.optim import make_optimizer
from engine.train import Trainer


def xor_trace(hidden=(2,), activation="sigmoid", output="sigmoid", loss="squared_error", lr=0.5, seed=0):
    ds = data.small("xor_table")
    net = Network.create([2, *hidden, 1 if output != "softmax" else 2], [activation] * len(hidden) + [output], loss, seed=seed)
    t = Trainer(net, ds.X_train, net.targets(ds.y_train), make_optimizer("sgd", lr), batch_size=4, seed=seed)
    return t.step(trace=True).trace


def derivative(name, z, a):
    return {"sigmoid": a * (1 - a), "tanh": 1 - a**2, "relu": (z > 0) * 1.0, "linear": np.ones_like(z)}[name]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_fprime_is_the_derivative_at_z_of_every_layer(activation):
    tr = xor_trace(hidden=(3, 2), activation=activation, output="tanh")
    for l, name in enumerate([activation, activation, "tanh"]):
        z, a = tr.z[l].astype(np.float64), tr.a[l].astype(np.float64)
        np.testing.assert_allclose(tr.fprime[l], derivative(name, z, a), rtol=1e-5, atol=1e-7)


def test_grad_a_carries_the_next_delta_back_through_the_old_weights():
    tr = xor_trace(hidden=(3, 2))
    assert tr.grad_a[-1] is None
    for l in range(len(tr.W) - 1):
        want = tr.delta[l + 1].astype(np.float64) @ tr.W[l + 1].T.astype(np.float64)
        np.testing.assert_allclose(tr.grad_a[l], want, rtol=1e-5, atol=1e-8)
        # the page shows δˡ = grad_aˡ ⊙ f'(zˡ); these are the very numbers backprop multiplied
        assert np.array_equal(tr.delta[l], tr.grad_a[l] * tr.fprime[l])


def test_output_delta_is_minus_error_times_fprime_over_n():
    tr = xor_trace()
    n = len(tr.X)
    np.testing.assert_allclose(tr.delta[-1], -(tr.error * tr.fprime[-1]) / n, rtol=1e-6, atol=1e-9)


def test_the_tutorial_form_takes_the_same_step_as_the_gradient_form():
    """W + η·aᵀ·Δ with Δᴸ = (e ⊙ σ'(z))/n and Δˡ = (Δˡ⁺¹·Wˡ⁺¹ᵀ) ⊙ σ'(zˡ), all in float64."""
    tr = xor_trace(lr=0.5)
    f64 = lambda m: np.asarray(m, dtype=np.float64)
    X, Y, W, b = f64(tr.X), f64(tr.Y), [f64(w) for w in tr.W], [f64(v) for v in tr.b]
    a1 = 1 / (1 + np.exp(-(X @ W[0] + b[0])))
    a2 = 1 / (1 + np.exp(-(a1 @ W[1] + b[1])))
    Delta2 = (Y - a2) * a2 * (1 - a2) / len(X)
    Delta1 = (Delta2 @ W[1].T) * a1 * (1 - a1)
    np.testing.assert_allclose(W[1] + 0.5 * a1.T @ Delta2, tr.W_new[1], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(W[0] + 0.5 * X.T @ Delta1, tr.W_new[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b[0] + 0.5 * Delta1.sum(0), tr.b_new[0], rtol=1e-5, atol=1e-7)
    # the page shows the tutorials' Δ as the engine's δ with the sign flipped
    np.testing.assert_allclose(-tr.delta[0], Delta1, rtol=1e-5, atol=1e-8)


def test_softmax_output_has_no_elementwise_fprime():
    tr = xor_trace(hidden=(2,), activation="tanh", output="softmax", loss="cross_entropy")
    assert tr.fprime[-1] is None and tr.grad_a[-1] is None
    assert tr.fprime[0].shape == tr.z[0].shape


def test_the_trace_message_carries_fprime_and_grad_a_as_strict_json():
    tr = xor_trace(hidden=(2,), activation="tanh", output="softmax", loss="cross_entropy")
    message = json.loads(json.dumps(trace_message(tr, 1), allow_nan=False))
    assert message["fprime"][1] is None and message["grad_a"][1] is None
    assert message["fprime"][0] == tr.fprime[0].tolist()
    assert message["grad_a"][0] == tr.grad_a[0].tolist()
