"""Conv, pool and flatten layers against finite differences in float64, odd sizes and ties included,
and against a direct evaluation of the convolution sum."""
import numpy as np
import pytest

from engine.conv import Conv2D, MaxPool2D
from engine.network import Network
from tests.test_gradients import assert_grads_match


def conv_net(shape, layers, seed=0, loss="cross_entropy"):
    return Network.from_spec(shape, layers, loss, init="normal", seed=seed, dtype=np.float64)


def labels_for(net, n, rng):
    return np.eye(net.sizes[-1])[rng.integers(0, net.sizes[-1], n)]


@pytest.mark.parametrize("shape,layers", [
    # odd sides, an even kernel with "same" padding (1 before, 2 after), a valid conv, pool of odd maps
    ((7, 5, 2), [{"type": "conv", "size": 4, "channels": 3, "padding": "same", "activation": "tanh"},
                 {"type": "pool"},
                 {"type": "conv", "size": 2, "channels": 2, "padding": "valid", "activation": "sigmoid"},
                 {"type": "flatten"}, {"type": "dense", "size": 3, "activation": "softmax"}]),
    ((6, 6, 1), [{"type": "conv", "size": 3, "channels": 2, "activation": "leaky_relu"},
                 {"type": "conv", "size": 5, "channels": 2, "padding": "valid", "activation": "linear"},
                 {"type": "flatten"}, {"type": "dense", "size": 4, "activation": "tanh"},
                 {"type": "dense", "size": 3, "activation": "softmax"}]),
    ((9, 9, 1), [{"type": "conv", "size": 3, "channels": 2, "activation": "tanh"}, {"type": "pool"}, {"type": "pool"},
                 {"type": "flatten"}, {"type": "dense", "size": 2, "activation": "softmax"}]),
])
def test_conv_networks_match_finite_differences(shape, layers):
    rng = np.random.default_rng(1)
    net = conv_net(shape, layers)
    X = rng.normal(size=(3, int(np.prod(shape))))
    assert_grads_match(net, X, labels_for(net, 3, rng))


def test_relu_conv_pool_on_zero_background_with_ties():
    """MNIST-like inputs: blank regions make every pool window there a tie (relu(b) four times)."""
    rng = np.random.default_rng(2)
    X = np.zeros((2, 7, 7, 1))
    X[:, 2:5, 1:4, 0] = rng.uniform(0.2, 1.0, (2, 3, 3))
    net = conv_net((7, 7, 1), [{"type": "conv", "size": 3, "channels": 2, "activation": "relu"}, {"type": "pool"},
                               {"type": "flatten"}, {"type": "dense", "size": 3, "activation": "softmax"}])
    net.layers[0].b[:] = [0.3, 0.1]  # tied windows carry a nonzero activation, and so a gradient
    pool_in = net.forward_all(X)[1][0]
    windows = net.layers[1].windows(pool_in)
    assert (windows == windows.max(axis=(2, 4), keepdims=True)).sum(axis=(2, 4)).max() == 4  # real ties
    assert_grads_match(net, X.reshape(2, -1), labels_for(net, 2, rng))


def test_regularized_conv_network_matches_finite_differences():
    from engine.optim import Regularizer

    rng = np.random.default_rng(3)
    net = conv_net((5, 5, 1), [{"type": "conv", "size": 3, "channels": 2, "activation": "tanh"}, {"type": "flatten"},
                               {"type": "dense", "size": 2, "activation": "sigmoid"}], loss="squared_error")
    assert_grads_match(net, rng.normal(size=(2, 25)), rng.uniform(0.1, 0.9, (2, 2)), Regularizer("l2", 0.1))


def linear_readout_grad(layer, x, R):
    """∂/∂x of L = Σ z ⊙ R through one layer, from its backward pass."""
    z, _, saved = layer.forward(x)
    return layer.backward(x, saved, R, need_grad_input=True)


@pytest.mark.parametrize("padding,k,shape", [("same", 3, (2, 5, 6, 2)), ("same", 2, (1, 4, 3, 3)),
                                             ("valid", 3, (2, 5, 4, 1)), ("same", 5, (1, 5, 5, 2))])
def test_conv_input_gradient_col2im_matches_finite_differences(padding, k, shape):
    rng = np.random.default_rng(4)
    layer = Conv2D(rng.normal(size=(k, k, shape[3], 3)), rng.normal(size=3), "linear", shape[1:], padding)
    x = rng.normal(size=shape)
    R = rng.normal(size=(shape[0], *layer.out_shape))
    _, _, analytic = linear_readout_grad(layer, x, R)
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + 1e-6
        plus = np.vdot(layer.forward(x)[0], R)
        x[i] = old - 1e-6
        minus = np.vdot(layer.forward(x)[0], R)
        x[i] = old
        numeric[i] = (plus - minus) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_conv_forward_is_the_convolution_sum():
    """z[n, y, x, o] = b[o] + Σ x_p[n, y+i, x+j, c] W[i, j, c, o], evaluated term by term."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 5, 4, 3))
    W, b = rng.normal(size=(4, 4, 3, 2)), rng.normal(size=2)
    z = Conv2D(W, b, "linear", (5, 4, 3), "same").forward(x)[0]
    x_p = np.pad(x, ((0, 0), (1, 2), (1, 2), (0, 0)))  # k = 4: one row before, two after
    want = np.zeros((2, 5, 4, 2))
    for n, y, c, o in np.ndindex(2, 5, 4, 2):
        want[n, y, c, o] = b[o] + np.sum(x_p[n, y:y + 4, c:c + 4, :] * W[..., o])
    np.testing.assert_allclose(z, want, rtol=1e-12, atol=1e-12)


def test_pool_sends_each_gradient_to_exactly_one_tied_position():
    x = np.zeros((1, 5, 5, 2))                # 5×5: the last row and column are dropped
    x[0, 0, 0, 0] = x[0, 1, 1, 0] = 2.0      # a tie of two maxima
    x[0, 2:4, 2:4, 1] = 7.0                  # a tie of four
    pool = MaxPool2D((5, 5, 2))
    delta = np.arange(1.0, 9.0).reshape(1, 2, 2, 2)
    _, _, d_x = linear_readout_grad(pool, x, delta)
    placed = pool.windows(d_x)
    np.testing.assert_array_equal(placed.sum(axis=(2, 4)), delta)          # nothing lost, nothing doubled
    assert ((placed != 0).sum(axis=(2, 4)) == 1).all()                      # one position per window
    assert d_x[0, 0, 0, 0] == delta[0, 0, 0, 0] and d_x[0, 1, 1, 0] == 0    # the first maximum, row-major
    assert d_x[0, 2, 2, 1] == delta[0, 1, 1, 1]
    assert not d_x[0, 4].any() and not d_x[0, :, 4].any()                   # dropped row and column


def test_pool_gradient_is_a_one_sided_derivative_at_ties():
    """At a tie, raising the chosen input raises the max by as much (slope = its gradient), and
    lowering any other tied input leaves the max alone (slope 0 = its gradient)."""
    rng = np.random.default_rng(6)
    x = rng.integers(0, 3, (2, 5, 7, 2)).astype(np.float64)  # few values: many ties
    pool = MaxPool2D(x.shape[1:])
    R = rng.normal(size=(2, *pool.out_shape))
    _, _, d_x = linear_readout_grad(pool, x, R)
    f = lambda v: np.vdot(pool.forward(v)[0], R)  # noqa: E731
    h = 1e-3
    for i in np.ndindex(x.shape):
        step = h if d_x[i] != 0 else -h
        bumped = x.copy()
        bumped[i] += step
        assert (f(bumped) - f(x)) / step == pytest.approx(d_x[i], abs=1e-9), i
