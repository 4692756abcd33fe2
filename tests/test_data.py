"""Tests for engine.data: toy sets, truth tables, feature maps, one-hot, added points, the heatmap grid."""
from __future__ import annotations

import numpy as np
import pytest

from engine import data

TOYS = data.CLASSIFICATION + data.REGRESSION


def all_points(ds: data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    return np.vstack([ds.X_train, ds.X_test]), np.concatenate([ds.y_train, ds.y_test])


def test_name_tuples_are_the_published_api():
    assert data.CLASSIFICATION == ("circle", "xor", "gaussian", "spiral")
    assert data.REGRESSION == ("plane", "multigauss")
    assert data.SMALL == ("xor_table", "one_neuron")
    assert data.FEATURES == ("x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2")


@pytest.mark.parametrize("name", TOYS)
@pytest.mark.parametrize("n, train_ratio", [(500, 0.5), (301, 0.7), (4, 0.1), (4, 0.9)])
def test_toy_shapes_dtypes_and_split_sizes(name, n, train_ratio):
    ds = data.toy(name, n=n, noise=0.2, train_ratio=train_ratio, seed=3)
    n_train = min(max(round(n * train_ratio), 1), n - 1)
    assert ds.name == name
    assert ds.X_train.shape == (n_train, 2) and ds.X_test.shape == (n - n_train, 2)
    assert ds.y_train.shape == (n_train,) and ds.y_test.shape == (n - n_train,)
    assert ds.X_train.dtype == np.float64 and np.isfinite(ds.X_train).all()
    if name in data.CLASSIFICATION:
        assert ds.task == "classification"
        assert ds.y_train.dtype.kind == "i" and set(np.unique(all_points(ds)[1])) <= {0, 1}
    else:
        assert ds.task == "regression"
        assert ds.y_train.dtype == np.float64
        y = all_points(ds)[1]
        assert y.min() >= -1 and y.max() <= 1


@pytest.mark.parametrize("name", data.CLASSIFICATION)
@pytest.mark.parametrize("n", [1000, 999])
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_classes_are_balanced_at_every_noise_level(name, n, noise):
    counts = np.bincount(all_points(data.toy(name, n=n, noise=noise))[1], minlength=2)
    assert counts.sum() == n and abs(counts[0] - counts[1]) <= 1


@pytest.mark.parametrize("name", TOYS)
def test_toy_is_deterministic_in_its_seed(name):
    a, b = data.toy(name, n=200, noise=0.3, seed=7), data.toy(name, n=200, noise=0.3, seed=7)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = data.toy(name, n=200, noise=0.3, seed=8)
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("name", TOYS)
def test_split_is_a_permutation_of_one_point_set(name):
    small_train, large_train = data.toy(name, n=300, train_ratio=0.2), data.toy(name, n=300, train_ratio=0.8)
    Xa, ya = all_points(small_train)
    Xb, yb = all_points(large_train)
    order_a, order_b = np.lexsort(Xa.T), np.lexsort(Xb.T)
    np.testing.assert_array_equal(Xa[order_a], Xb[order_b])
    np.testing.assert_array_equal(ya[order_a], yb[order_b])
    if name in data.CLASSIFICATION:  # shuffled: 60 training rows are not just the first class generated
        assert set(small_train.y_train.tolist()) == {0, 1}


def test_circle_is_a_disc_inside_a_ring():
    X, y = all_points(data.toy("circle", n=2000))
    r = np.linalg.norm(X, axis=1)
    assert r[y == 1].max() < 2.5 and r[y == 0].min() >= 3.5 and r.max() <= 5
    X_noisy, y_noisy = all_points(data.toy("circle", n=2000, noise=0.5))
    r_noisy = np.linalg.norm(X_noisy, axis=1)
    assert (r_noisy[y_noisy == 1] > 2.5).any() and (r_noisy[y_noisy == 0] < 3.5).any()


def test_xor_labels_by_quadrant_with_a_gap_at_the_axes():
    X, y = all_points(data.toy("xor", n=2000))
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    assert np.abs(X).min() >= 0.3 and np.abs(X).max() <= 5.3
    X_noisy, y_noisy = all_points(data.toy("xor", n=2000, noise=0.5))
    assert ((X_noisy[:, 0] * X_noisy[:, 1] > 0) != (y_noisy == 1)).any()


def test_gaussian_blobs_sit_at_their_centres_and_spread_with_noise():
    for noise, variance in [(0.0, 0.5), (0.5, 4.0)]:
        X, y = all_points(data.toy("gaussian", n=4000, noise=noise))
        np.testing.assert_allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.15)
        np.testing.assert_allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.15)
        np.testing.assert_allclose(X[y == 1].var(axis=0), [variance, variance], rtol=0.1)


def test_spiral_arms_follow_their_formula():
    X, y = all_points(data.toy("spiral", n=1000))
    r = np.linalg.norm(X, axis=1)
    t = np.arctan2(X[:, 0], X[:, 1])  # x = (r sin t, r cos t)
    delta = np.where(y == 1, 0.0, np.pi)
    wrapped = np.angle(np.exp(1j * (t - 0.7 * np.pi * r - delta)))  # t = 3.5π·(r/5) + δ, modulo 2π
    assert r.max() < 5
    np.testing.assert_allclose(wrapped[r > 1e-9], 0, atol=1e-9)


def test_plane_is_a_clipped_linear_ramp():
    X, y = all_points(data.toy("plane", n=1000))
    np.testing.assert_allclose(y, np.clip((X[:, 0] + X[:, 1]) / 10, -1, 1))
    assert np.abs(X).max() <= 6 and y.min() < -0.8 and y.max() > 0.8
    X_noisy, y_noisy = all_points(data.toy("plane", n=1000, noise=0.5))
    assert np.abs(y_noisy - np.clip((X_noisy[:, 0] + X_noisy[:, 1]) / 10, -1, 1)).mean() > 0.05


def test_multigauss_is_a_sum_of_signed_bumps():
    X, y = all_points(data.toy("multigauss", n=2000))
    expected = np.zeros(len(X))
    for c1, c2, sign in [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]:
        expected += sign * np.exp(-((X[:, 0] - c1) ** 2 + (X[:, 1] - c2) ** 2) / 2)
    np.testing.assert_allclose(y, np.clip(expected, -1, 1))
    near_positive = np.linalg.norm(X - [-4, 2.5], axis=1) < 0.5
    near_negative = np.linalg.norm(X - [0, 2.5], axis=1) < 0.5
    assert near_positive.any() and (y[near_positive] > 0.8).all()
    assert near_negative.any() and (y[near_negative] < -0.8).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "moons"},
     r"name='moons' is unknown: choose one of circle, xor, gaussian, spiral, plane, multigauss"),
    ({"n": 3}, r"n=3 is out of range: must be between 4 and 5000"),
    ({"n": 5001}, r"n=5001 is out of range: must be between 4 and 5000"),
    ({"n": 10.5}, r"n=10.5 is not an integer: must be an integer between 4 and 5000"),
    ({"n": True}, r"n=True is not an integer"),
    ({"noise": 1.5}, r"noise=1.5 is out of range: must be between 0 and 0.5"),
    ({"noise": -0.1}, r"noise=-0.1 is out of range: must be between 0 and 0.5"),
    ({"noise": float("nan")}, r"noise=nan is not a finite number: must be between 0 and 0.5"),
    ({"noise": "0.1"}, r"noise='0.1' is not a finite number"),
    ({"train_ratio": 0.05}, r"train_ratio=0.05 is out of range: must be between 0.1 and 0.9"),
    ({"train_ratio": 0.95}, r"train_ratio=0.95 is out of range: must be between 0.1 and 0.9"),
    ({"seed": -1}, r"seed=-1 is out of range: must be between 0 and"),
    ({"seed": 1.0}, r"seed=1.0 is not an integer"),
])
def test_toy_rejects_bad_arguments(kwargs, message):
    args = {"name": "circle", **kwargs}
    with pytest.raises(ValueError, match=message):
        data.toy(**args)


def test_small_truth_tables():
    xor = data.small("xor_table")
    np.testing.assert_array_equal(xor.X_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(xor.y_train, [0, 1, 1, 0])
    one = data.small("one_neuron")
    np.testing.assert_array_equal(one.X_train, [[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]])
    np.testing.assert_array_equal(one.y_train, [0, 1, 1, 0])
    for ds in (xor, one):
        assert ds.task == "classification" and ds.X_train.dtype == np.float64
        np.testing.assert_array_equal(ds.X_test, ds.X_train)
        np.testing.assert_array_equal(ds.y_test, ds.y_train)
        assert not np.shares_memory(ds.X_test, ds.X_train) and not np.shares_memory(ds.y_test, ds.y_train)
    with pytest.raises(ValueError, match=r"name='and_table' is unknown: choose one of xor_table, one_neuron"):
        data.small("and_table")


def test_features_compute_each_map_in_the_order_given():
    X = np.array([[1.0, 2.0], [-0.5, 3.0], [0.0, -1.0]])
    x1, x2 = X[:, 0], X[:, 1]
    expected = {"x1": x1, "x2": x2, "x1^2": x1**2, "x2^2": x2**2, "x1x2": x1 * x2,
                "sin_x1": np.sin(x1), "sin_x2": np.sin(x2)}
    names = ["sin_x2", "x1x2", "x1", "x2^2", "x1^2", "sin_x1", "x2"]
    out = data.features(X, names)
    assert out.shape == (3, 7) and out.dtype == np.float64
    np.testing.assert_allclose(out, np.column_stack([expected[f] for f in names]))
    np.testing.assert_array_equal(data.features(X, ("x2",)), X[:, 1:])


@pytest.mark.parametrize("X, names, message", [
    (np.zeros((3, 2)), [], r"names=\[\] is empty: choose at least one of x1, x2"),
    (np.zeros((3, 2)), ["x1", "x3"], r"names=\['x1', 'x3'\] has unknown \['x3'\]: choose from x1, x2, x1\^2"),
    (np.zeros((3, 2)), ["x1", "x1"], r"names=\['x1', 'x1'\] has duplicates"),
    (np.zeros((3, 2)), "x1", r"names='x1' is a string: must be a list of feature names"),
    (np.zeros((3, 3)), ["x1"], r"X has shape \(3, 3\): must be \(n, 2\)"),
    (np.zeros(4), ["x1"], r"X has shape \(4,\): must be \(n, 2\)"),
])
def test_features_rejects_bad_arguments(X, names, message):
    with pytest.raises(ValueError, match=message):
        data.features(X, names)


def test_one_hot():
    Y = data.one_hot(np.array([2, 0, 1, 2]), 3)
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert Y.dtype.kind == "f"
    np.testing.assert_array_equal(data.one_hot(np.array([], dtype=int), 4), np.zeros((0, 4)))


@pytest.mark.parametrize("y, k, message", [
    (np.array([0, 3]), 3, r"y contains 3: labels must be integers in \[0, 3\) for k=3"),
    (np.array([-1, 0]), 2, r"y contains -1: labels must be integers in \[0, 2\)"),
    (np.array([0.0, 1.0]), 2, r"y has shape \(2,\) and dtype float64: must be a 1-D array of integers"),
    (np.array([[0, 1]]), 2, r"y has shape \(1, 2\)"),
    (np.array([0]), 0, r"k=0 is out of range: must be between 1 and"),
])
def test_one_hot_rejects_bad_arguments(y, k, message):
    with pytest.raises(ValueError, match=message):
        data.one_hot(y, k)


def test_add_point_appends_to_train_only_and_keeps_the_original():
    ds = data.toy("xor", n=20)
    grown = data.add_point(ds, 1.5, -6.0, 1)
    assert grown.X_train.shape == (11, 2) and grown.y_train.shape == (11,)
    np.testing.assert_array_equal(grown.X_train[:-1], ds.X_train)
    np.testing.assert_array_equal(grown.X_train[-1], [1.5, -6.0])
    assert grown.y_train[-1] == 1 and grown.y_train.dtype == ds.y_train.dtype
    assert grown.X_test is ds.X_test and ds.X_train.shape == (10, 2)  # the original is untouched
    reg = data.add_point(data.toy("plane", n=20), 0.0, 0.0, -0.25)
    assert reg.y_train[-1] == -0.25


@pytest.mark.parametrize("name, x1, x2, label, message", [
    ("xor", 6.5, 0.0, 1, r"x1=6.5 is out of range: must be between -6 and 6"),
    ("xor", 0.0, float("inf"), 1, r"x2=inf is not a finite number: must be between -6 and 6"),
    ("xor", 0.0, 0.0, 2, r"label=2 is invalid: must be 0 or 1 for a classification set"),
    ("xor", 0.0, 0.0, 0.5, r"label=0.5 is invalid: must be 0 or 1"),
    ("xor", 0.0, 0.0, True, r"label=True is invalid"),
    ("plane", 0.0, 0.0, 1.5, r"label=1.5 is out of range: must be between -1 and 1"),
])
def test_add_point_rejects_bad_points(name, x1, x2, label, message):
    with pytest.raises(ValueError, match=message):
        data.add_point(data.toy(name, n=20), x1, x2, label)


def test_add_point_refuses_a_dataset_that_is_not_2d():
    with pytest.raises(ValueError, match=r"dataset='one_neuron' has \(3,\) inputs"):
        data.add_point(data.small("one_neuron"), 0.0, 0.0, 1)


def test_grid_is_in_heatmap_drawing_order():
    g = data.grid(4, extent=6.0)
    assert g.shape == (16, 2)
    image = g.reshape(4, 4, 2)  # rows top to bottom, columns left to right
    np.testing.assert_allclose(image[0, :, 0], [-6, -2, 2, 6])  # x1 varies fastest
    np.testing.assert_allclose(image[:, 0, 1], [6, 2, -2, -6])  # x2 from +extent (top) down
    assert (image[:, :, 1] == image[:, :1, 1]).all() and (image[:, :, 0] == image[:1, :, 0]).all()
    assert data.grid().shape == (2500, 2) and np.abs(data.grid()).max() == 6
    assert data.grid(2, extent=1.5).tolist() == [[-1.5, 1.5], [1.5, 1.5], [-1.5, -1.5], [1.5, -1.5]]


@pytest.mark.parametrize("kwargs, message", [
    ({"resolution": 1}, r"resolution=1 is out of range: must be between 2 and 200"),
    ({"resolution": 201}, r"resolution=201 is out of range: must be between 2 and 200"),
    ({"resolution": 50.0}, r"resolution=50.0 is not an integer"),
    ({"extent": 0}, r"extent=0 is out of range: must be a finite number greater than 0"),
    ({"extent": float("inf")}, r"extent=inf is out of range"),
])
def test_grid_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.grid(**kwargs)
