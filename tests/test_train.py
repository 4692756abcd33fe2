"""Training: reproducibility, learning, the trace, divergence and changing settings mid-run."""
import numpy as np
import pytest

from engine.network import Network
from engine.optim import Regularizer, make_optimizer
from engine.train import DivergenceError, Trainer, evaluate

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_y = np.array([0, 1, 1, 0])


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)
    return X, y


def make_trainer(optimizer="sgd", lr=0.5, seed=1, reg="none", batch=16):
    X, y = blobs()
    net = Network.create([2, 6, 1], ["tanh", "sigmoid"], "binary_cross_entropy", seed=seed)
    return Trainer(net, X, net.targets(y), make_optimizer(optimizer, lr), batch, Regularizer(reg, 0.001), y, seed=seed)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_same_seed_same_weights_bit_for_bit(optimizer):
    a, b = make_trainer(optimizer, reg="l2"), make_trainer(optimizer, reg="l2")
    for _ in a.steps(57):
        pass
    for _ in b.steps(57):
        pass
    for la, lb in zip(a.network.layers, b.network.layers):
        assert la.W.tobytes() == lb.W.tobytes() and la.b.tobytes() == lb.b.tobytes()


def test_different_seed_different_weights():
    a, b = make_trainer(seed=1), make_trainer(seed=2)
    a.step(), b.step()
    assert not np.array_equal(a.network.layers[0].W, b.network.layers[0].W)


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.5), ("momentum", 0.1), ("adam", 0.01)])
def test_loss_falls_on_a_small_set(optimizer, lr):
    t = make_trainer(optimizer, lr)
    first = evaluate(t.network, t.X, t.Y, t.labels)
    stats = list(t.steps(200))
    last = evaluate(t.network, t.X, t.Y, t.labels)
    assert last[0] < 0.5 * first[0]
    assert last[1] > 0.95
    assert stats[-1].accuracy is not None and len(stats[-1].grad_norms) == 2


def test_xor_2_2_1_sigmoid_learns_below_0_01():
    net = Network.create([2, 2, 1], "sigmoid", "squared_error", init="normal", seed=0)
    t = Trainer(net, XOR_X, net.targets(XOR_y), make_optimizer("sgd", 3.0), batch_size=4, labels=XOR_y)
    for s in t.steps(5000):
        pass
    assert s.loss < 0.01
    assert net.accuracy(XOR_X, XOR_y) == 1.0


def test_epochs_visit_every_row_once_in_a_shuffled_order():
    t = make_trainer(batch=7)
    seen = np.concatenate([t.next_batch() for _ in range(t.steps_per_epoch)])
    assert t.epoch == 1
    assert sorted(seen) == list(range(len(t.X)))
    assert not np.array_equal(seen, np.arange(len(t.X)))


def test_trace_equals_what_the_step_did():
    net = Network.create([2, 3, 1], "sigmoid", "squared_error", seed=4)
    t = Trainer(net, XOR_X, net.targets(XOR_y), make_optimizer("sgd", 0.7), batch_size=4, labels=XOR_y)
    before = net.copy()
    tr = t.step(trace=True).trace
    W1, b1, W2, b2 = (p.copy() for p in before.parameters())
    z1 = tr.X @ W1 + b1
    a1 = 1 / (1 + np.exp(-z1))
    z2 = a1 @ W2 + b2
    a2 = 1 / (1 + np.exp(-z2))
    delta2 = (a2 - tr.Y) / 4 * a2 * (1 - a2)
    delta1 = (delta2 @ W2.T) * a1 * (1 - a1)
    for got, want in [(tr.z[0], z1), (tr.a[0], a1), (tr.z[1], z2), (tr.a[1], a2), (tr.error, tr.Y - a2),
                      (tr.delta[1], delta2), (tr.delta[0], delta1), (tr.dW[1], a1.T @ delta2),
                      (tr.dW[0], tr.X.T @ delta1), (tr.db[0], delta1.sum(0))]:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tr.W_new[0], W1 - 0.7 * tr.dW[0], rtol=1e-6)
    for l, layer in enumerate(net.layers):
        assert np.array_equal(tr.W_new[l], layer.W) and np.array_equal(tr.b_new[l], layer.b)
        assert np.array_equal(tr.W[l], before.layers[l].W)


def test_settings_change_between_steps_without_reset():
    t = make_trainer()
    t.step()
    t.optimizer.learning_rate = 0.05
    t.batch_size = 50
    t.regularizer = Regularizer("l1", 0.01)
    s = t.step()
    assert s.batch_size == 50 and s.step == 2


def test_divergence_raises_and_keeps_the_last_good_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2)) * 100
    net = Network.create([2, 8, 1], ["relu", "linear"], "squared_error", seed=0)
    t = Trainer(net, X, X[:, :1] * 100, make_optimizer("sgd", 100.0), batch_size=32)
    with pytest.raises(DivergenceError, match="learning_rate=100 is probably too high"):
        for _ in t.steps(100):
            snapshot = [p.copy() for p in net.parameters()]
    for p, q in zip(net.parameters(), snapshot):
        assert np.isfinite(p).all()


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, "batch_size=0 is out of range"),
    ({"batch_size": 2.5}, "batch_size=2.5"),
])
def test_bad_batch_size(kwargs, match):
    net = Network.create([2, 1], "sigmoid")
    with pytest.raises(ValueError, match=match):
        Trainer(net, XOR_X, net.targets(XOR_y), make_optimizer("sgd", 0.1), **kwargs)


def test_empty_or_mismatched_data_is_refused():
    net = Network.create([2, 1], "sigmoid")
    with pytest.raises(ValueError, match="training set is empty"):
        Trainer(net, np.zeros((0, 2)), np.zeros((0, 1)), make_optimizer("sgd", 0.1))
    with pytest.raises(ValueError, match=r"do not fit a \[2, 1\] network"):
        Trainer(net, np.zeros((4, 3)), np.zeros((4, 1)), make_optimizer("sgd", 0.1))


def exploding_trainer(optimizer="sgd", lr=1.0):
    """The Playground's plane set with a linear 2-4-2-1 network at learning rate 1 (issue 14): the first
    step's loss is finite, the second is 10⁸ times larger, the third is infinite."""
    from engine import data
    ds = data.toy("plane", 500, 0.0, 0.5, 0)
    net = Network.create([2, 4, 2, 1], "linear", "squared_error", init="xavier", seed=0)
    return Trainer(net, ds.X_train, ds.y_train[:, None], make_optimizer(optimizer, lr), batch_size=10, seed=0)


@pytest.mark.parametrize("optimizer,lower", [("sgd", 0.01), ("momentum", 0.001)])
def test_divergence_rolls_back_to_weights_whose_loss_is_finite(optimizer, lower):
    t = exploding_trainer(optimizer)
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as caught:
        for _ in t.steps(1000):
            pass
    e = caught.value
    assert e.restored_step < e.step and t.step_count == e.restored_step
    loss, _ = evaluate(t.network, t.X, t.Y)
    assert np.isfinite(loss) and loss < 100   # the weights before the explosion, not its last finite step
    # the same seed replayed to that step gives the same weights: data order and optimiser state came back too
    twin = exploding_trainer(optimizer)
    for _ in twin.steps(e.restored_step):
        pass
    for a, b in zip(t.network.parameters(), twin.network.parameters()):
        assert a.tobytes() == b.tobytes()
    # a lower rate (kept, not rolled back) goes on from there and learns
    t.optimizer.learning_rate = lower
    for _ in t.steps(300):
        pass
    assert t.optimizer.learning_rate == lower and t.step_count == e.restored_step + 300
    assert evaluate(t.network, t.X, t.Y)[0] < 0.01


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_rollback_restores_weights_optimiser_state_and_data_order(optimizer):
    t, twin = make_trainer(optimizer, 0.05), make_trainer(optimizer, 0.05)
    for _ in t.steps(25):
        pass
    t.network.layers[0].W[0, 0] = np.nan      # by hand: the next loss is NaN
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as caught:
        t.step()
    assert (caught.value.step, caught.value.restored_step, t.step_count) == (26, 20, 20)
    for _ in twin.steps(20):
        pass
    for a, b in zip(t.network.parameters(), twin.network.parameters()):
        assert a.tobytes() == b.tobytes()
    for _ in range(30):                       # and from there both runs take the same steps
        assert t.step().loss == twin.step().loss
    for a, b in zip(t.network.parameters(), twin.network.parameters()):
        assert a.tobytes() == b.tobytes()


def test_divergence_on_the_very_first_step_keeps_the_weights():
    t = exploding_trainer()
    t.network.layers[0].W[:] = 1e30   # by hand: the first loss is already infinite
    before = [p.copy() for p in t.network.parameters()]
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as caught:
        t.step()
    assert caught.value.restored_step == 0 and t.step_count == 0
    for p, q in zip(t.network.parameters(), before):
        assert p.tobytes() == q.tobytes()
