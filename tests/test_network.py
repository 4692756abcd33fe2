"""Network construction, shapes and the errors bad settings get."""
import numpy as np
import pytest

from engine import probe
from engine.network import Network
from engine.optim import Regularizer, make_optimizer


def test_shapes_of_every_layer():
    net = Network.create([3, 5, 4, 2], ["relu", "tanh", "softmax"], "cross_entropy")
    X = np.ones((7, 3))
    z, a = net.forward_all(X)
    assert [x.shape for x in z] == [(7, 5), (7, 4), (7, 2)]
    assert [layer.W.shape for layer in net.layers] == [(3, 5), (5, 4), (4, 2)]
    np.testing.assert_allclose(a[-1].sum(axis=1), 1.0, rtol=1e-6)
    assert net.forward(X).dtype == np.float32


@pytest.mark.parametrize("init", ["uniform", "normal", "xavier", "he"])
def test_init_is_seeded(init):
    a = Network.create([4, 3, 1], "tanh", init=init, seed=9)
    b = Network.create([4, 3, 1], "tanh", init=init, seed=9)
    c = Network.create([4, 3, 1], "tanh", init=init, seed=10)
    assert np.array_equal(a.layers[0].W, b.layers[0].W)
    assert not np.array_equal(a.layers[0].W, c.layers[0].W)


@pytest.mark.parametrize("args,match", [
    (([2, 3, 1], "swish"), r"activation='swish' is unknown: choose one of sigmoid, tanh"),
    (([2, 3, 1], "sigmoid", "hinge"), r"loss='hinge' is unknown: choose one of squared_error"),
    (([2, 3, 1], ["softmax", "sigmoid"]), r"'softmax' in hidden layer 1 is only allowed on the output"),
    (([2, 3, 2], "sigmoid", "cross_entropy"), r"loss='cross_entropy' needs a softmax output layer, not 'sigmoid'"),
    (([2, 3, 2], "sigmoid", "binary_cross_entropy"), r"needs exactly 1 output, not 2"),
    (([2], "sigmoid"), r"sizes=\[2\] is too short"),
    (([2, 0, 1], "sigmoid"), r"sizes\[1\]=0 is invalid"),
    (([2, 3, 1], ["tanh"]), r"activations has 1 names but there are 2 layers"),
])
def test_bad_architecture_names_the_problem(args, match):
    with pytest.raises(ValueError, match=match):
        Network.create(*args)


def test_bad_init_and_input_shapes():
    with pytest.raises(ValueError, match=r"init='zeros' is unknown: choose one of uniform, normal, xavier, he"):
        Network.create([2, 1], "sigmoid", init="zeros")
    net = Network.create([2, 1], "sigmoid")
    with pytest.raises(ValueError, match=r"X has shape \(4, 3\): expected \(batch, 2\)"):
        net.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Y has shape \(4, 2\): expected \(4, 1\)"):
        net.backprop(np.zeros((4, 2)), np.zeros((4, 2)))


@pytest.mark.parametrize("make,match", [
    (lambda: make_optimizer("sgd", 0), r"learning_rate=0.0 is out of range: must be in \(0, 100\]"),
    (lambda: make_optimizer("sgd", float("nan")), r"learning_rate=nan is out of range"),
    (lambda: make_optimizer("sgd", float("inf")), r"learning_rate=inf is out of range"),
    (lambda: make_optimizer("sgd", "fast"), r"learning_rate='fast' is not a number"),
    (lambda: make_optimizer("rmsprop", 0.1), r"optimizer='rmsprop' is unknown: choose one of sgd, momentum, adam"),
    (lambda: make_optimizer("momentum", 0.1, momentum=1.0), r"momentum=1.0 is out of range: must be in \[0, 1\)"),
    (lambda: make_optimizer("adam", 0.1, beta2=-1), r"beta2=-1.0 is out of range"),
    (lambda: Regularizer("l3", 0.1), r"regularization='l3' is unknown: choose one of none, l1, l2"),
    (lambda: Regularizer("l2", -0.1), r"regularization_rate=-0.1 is out of range: must be in \[0, 10\]"),
])
def test_bad_hyperparameters_name_value_and_range(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_learning_rate_is_checked_when_changed():
    opt = make_optimizer("adam", 0.01)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    with pytest.raises(ValueError, match="learning_rate=-1.0"):
        opt.learning_rate = -1


def test_targets_and_classify_for_each_output_kind():
    labels = np.array([0, 1, 1])
    sig = Network.create([2, 1], "sigmoid")
    tanh = Network.create([2, 1], "tanh")
    soft = Network.create([2, 3], "softmax", "cross_entropy")
    assert sig.targets(labels)[:, 0].tolist() == [0, 1, 1]
    assert tanh.targets(labels)[:, 0].tolist() == [-1, 1, 1]
    assert soft.targets(np.array([2, 0])).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert tanh.classify(np.array([[-0.2], [0.3]])).tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"labels range 0..5 does not fit 3 outputs"):
        soft.targets(np.array([0, 5]))


def test_probe_outputs_and_weight_images():
    net = Network.create([784, 16, 10], ["relu", "softmax"], "cross_entropy")
    outs = probe.layer_outputs(net, np.zeros((2, 784)))
    assert [o.shape for o in outs] == [(2, 784), (2, 16), (2, 10)]
    images = probe.weight_images(net)
    assert images.shape == (16, 28, 28)
    assert np.array_equal(images[3].ravel(), net.layers[0].W[:, 3])
    small = Network.create([2, 3, 1], "tanh")
    g = np.stack(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(1, -1, 5)), -1).reshape(-1, 2)
    maps = probe.neuron_maps(small, g, 5)
    assert [m.shape for m in maps] == [(2, 5, 5), (3, 5, 5), (1, 5, 5)]
    assert maps[0][0, 0, 4] == 1.0 and maps[0][1, 0, 0] == 1.0  # x1 grows rightwards, x2 upwards
