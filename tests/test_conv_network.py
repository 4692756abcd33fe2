"""Conv networks from a layer spec: shapes, errors that name the setting, training, traces, determinism."""
import numpy as np
import pytest

from engine import probe
from engine.network import Network
from engine.optim import make_optimizer
from engine.train import Trainer

LENET = [{"type": "conv", "size": 5, "channels": 4, "padding": "same", "activation": "relu"}, {"type": "pool"},
         {"type": "conv", "size": 3, "channels": 6, "padding": "valid", "activation": "relu"}, {"type": "pool"},
         {"type": "flatten"}, {"type": "dense", "size": 16, "activation": "relu"},
         {"type": "dense", "size": 10, "activation": "softmax"}]


def lenet(seed=0, dtype=np.float32):
    return Network.from_spec([28, 28, 1], LENET, "cross_entropy", init="he", seed=seed, dtype=dtype)


def test_shapes_sizes_and_spec():
    net = lenet()
    z, a = net.forward_all(np.zeros((3, 784)))
    assert [x.shape for x in a] == [(3, 28, 28, 4), (3, 14, 14, 4), (3, 12, 12, 6), (3, 6, 6, 6), (3, 216),
                                    (3, 16), (3, 10)]
    assert net.sizes == [784, 3136, 784, 864, 216, 216, 16, 10]
    assert net.activations == ["relu", None, "relu", None, None, "relu", "softmax"]
    assert [layer.W.shape for layer in net.layers if layer.W is not None] == [(5, 5, 1, 4), (3, 3, 4, 6), (216, 16), (16, 10)]
    assert net.spec == LENET and net.input_shape == (28, 28, 1) and not net.is_dense
    same = net.forward(np.ones((2, 28, 28, 1)))  # maps or rows: the same numbers
    np.testing.assert_array_equal(same, net.forward(np.ones((2, 784))))


def test_defaults_fill_the_spec():
    net = Network.from_spec([8, 8, 1], [{"type": "conv", "size": 3, "channels": 2}, {"type": "flatten"},
                                        {"type": "dense", "size": 2, "activation": "softmax"}], "cross_entropy")
    assert net.spec[0] == {"type": "conv", "size": 3, "channels": 2, "padding": "same", "activation": "relu"}


def test_a_dense_spec_builds_the_same_network_as_create():
    a = Network.create([5, 4, 3], ["tanh", "softmax"], "cross_entropy", init="he", seed=3)
    b = Network.from_spec([5], a.spec, "cross_entropy", init="he", seed=3)
    assert a.is_dense and a.input_shape == (5,) and a.sizes == b.sizes == [5, 4, 3]
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p, q)


CONV = {"type": "conv", "size": 3, "channels": 2}
OUT = {"type": "dense", "size": 2, "activation": "softmax"}


@pytest.mark.parametrize("shape,layers,match", [
    ([4, 4, 1], [{**CONV, "size": 5}, {"type": "flatten"}, OUT],
     r"layers\[0\]\.size=5 is out of range: must be a whole number from 1 to 4 \(the kernel must fit the 4×4 maps"),
    ([8, 8, 1], [{**CONV, "channels": 0}, {"type": "flatten"}, OUT],
     r"layers\[0\]\.channels=0 is out of range: must be a whole number >= 1"),
    ([2, 2, 1], [{"type": "pool"}, {"type": "pool"}, {"type": "flatten"}, OUT],
     r"layers\[1\] \(pool\) needs maps of at least 2×2, but its input is 1×1×1"),
    ([8, 8, 1], [CONV, OUT], r'layers\[1\] \(dense\) follows 8×8×2 maps: put {"type": "flatten"} before it'),
    ([64], [CONV, OUT], r"layers\[0\] \(conv\) needs \(height, width, channels\) maps, but its input is 64 values"),
    ([8, 8, 1], [CONV, {"type": "flatten"}, {"type": "flatten"}, OUT], r"layers\[2\] \(flatten\) needs"),
    ([8, 8, 1], [{**CONV, "padding": "full"}, {"type": "flatten"}, OUT],
     r"layers\[0\]\.padding='full' is unknown: choose one of same, valid"),
    ([8, 8, 1], [{**CONV, "activation": "swish"}, {"type": "flatten"}, OUT],
     r"layers\[0\]\.activation='swish' is unknown: choose one of sigmoid"),
    ([8, 8, 1], [{**CONV, "stride": 2}, {"type": "flatten"}, OUT],
     r"layers\[0\] has an unknown setting 'stride': a conv layer takes type, size, channels, padding, activation"),
    ([8, 8, 1], [{"type": "deconv"}, OUT], r"layers\[0\]\.type='deconv' is unknown: choose one of dense, conv, pool"),
    ([8, 8, 1], [CONV, {"type": "flatten"}], r"layers\[1\] is a flatten layer: the last \(output\) layer must be dense"),
    ([8, 8, 1], [{**CONV, "size": 2.5}, {"type": "flatten"}, OUT], r"layers\[0\]\.size=2\.5 is out of range"),
    ([8, 8, 1], [{**CONV, "channels": True}, {"type": "flatten"}, OUT], r"layers\[0\]\.channels=True is out of range"),
    ([8, 8, 1], [7, OUT], r"layers\[0\]=7 is not a layer"),
    ([8, 8, 1], [], r"layers=\[\] is empty"),
    ([8, 8], [OUT], r"input_shape=\[8, 8\] is invalid: give \[n\] features or \[height, width, channels\]"),
    ([8, 8, 1], [{**CONV, "activation": "softmax"}, {"type": "flatten"}, OUT], r"'softmax' in hidden layer 1 is only"),
])
def test_bad_specs_name_the_layer_setting_value_and_range(shape, layers, match):
    with pytest.raises(ValueError, match=match):
        Network.from_spec(shape, layers, "cross_entropy")


def digits_task(n=64, seed=0):
    """Tiny images whose label is the quadrant holding a bright blob."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 0.1, (n, 12, 12, 1))
    labels = rng.integers(0, 4, n)
    for i, q in enumerate(labels):
        r, c = (q // 2) * 6 + rng.integers(0, 3), (q % 2) * 6 + rng.integers(0, 3)
        X[i, r:r + 3, c:c + 3, 0] = 1.0
    return X.reshape(n, -1), labels


SMALL = [{"type": "conv", "size": 3, "channels": 4}, {"type": "pool"}, {"type": "flatten"},
         {"type": "dense", "size": 4, "activation": "softmax"}]


def small_trainer(seed=0, optimizer="adam"):
    X, labels = digits_task()
    net = Network.from_spec([12, 12, 1], SMALL, "cross_entropy", init="he", seed=seed)
    return Trainer(net, X, net.targets(labels), make_optimizer(optimizer, 0.01), batch_size=16, labels=labels, seed=seed)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_same_seed_same_conv_weights_bit_for_bit(optimizer):
    a, b = small_trainer(optimizer=optimizer), small_trainer(optimizer=optimizer)
    for _ in range(30):
        a.step(), b.step()
    for p, q in zip(a.network.parameters(), b.network.parameters()):
        assert np.array_equal(p, q)
    c = small_trainer(seed=1, optimizer=optimizer)
    for _ in range(30):
        c.step()
    assert not np.array_equal(c.network.layers[0].W, a.network.layers[0].W)


def test_a_conv_network_learns():
    t = small_trainer()
    first = t.step()
    assert first.grad_norms[1] == 0.0 and first.grad_norms[2] == 0.0 and first.grad_norms[0] > 0  # pool, flatten
    for _ in range(100):
        last = t.step()
    assert last.loss < first.loss / 4
    assert t.network.accuracy(t.X, t.labels) >= 0.95


def test_trace_of_a_conv_step():
    t = small_trainer(optimizer="sgd")
    before = t.network.copy()
    tr = t.step(trace=True).trace
    assert tr.X.shape == (16, 12, 12, 1)
    assert [None if w is None else w.shape for w in tr.W] == [(3, 3, 1, 4), None, None, (144, 4)]
    assert tr.activations == ["relu", None, None, "softmax"] and tr.fprime[1] is None and tr.fprime[3] is None
    assert tr.fprime[0].shape == tr.z[0].shape == (16, 12, 12, 4)
    assert [g.shape for g in tr.grad_a[:3]] == [(16, 12, 12, 4), (16, 6, 6, 4), (16, 144)] and tr.grad_a[3] is None
    assert np.array_equal(tr.delta[0], tr.grad_a[0] * tr.fprime[0])  # δ = ∂L/∂a ⊙ f'(z), as backprop did it
    assert np.array_equal(tr.delta[1], tr.grad_a[1])                 # no activation on a pool layer
    for l in (0, 3):
        assert np.array_equal(tr.W[l], before.layers[l].W)
        np.testing.assert_allclose(tr.W_new[l], tr.W[l] - 0.01 * tr.dW[l], rtol=1e-6, atol=1e-7)
        assert np.array_equal(tr.W_new[l], t.network.layers[l].W)


def test_chunked_forward_equals_one_pass(monkeypatch):
    net = lenet()
    X = np.random.default_rng(0).uniform(0, 1, (50, 784)).astype(np.float32)
    whole = net.forward(X)
    net._chunk = 7
    np.testing.assert_allclose(net.forward(X), whole, rtol=1e-6, atol=1e-7)
    assert net.accuracy(X, whole.argmax(axis=1)) == 1.0


def test_copy_and_probe_of_a_conv_network():
    net = lenet()
    twin = net.copy()
    twin.layers[0].W += 1
    assert not np.array_equal(twin.layers[0].W, net.layers[0].W) and twin.spec == net.spec
    outputs = probe.layer_outputs(net, np.zeros((1, 784)))
    assert [o.shape for o in outputs][:2] == [(1, 784), (1, 28, 28, 4)]
    assert probe.weight_images(net).shape == (4, 5, 5)  # the first conv layer's kernels
