"""Built-in data sets: two tiny truth tables, 2-D toy sets, input feature maps.

A data set holds rows of raw inputs and their targets:

    X_train: (n_train, d) float64     y_train: (n_train,)   int64 0/1 (classification)
    X_test:  (n_test, d)  float64     y_test:  (n_test,)    float64 in [−1, 1] (regression)

Toy sets (d = 2, x = (x1, x2), in about [−6, 6]²), after TensorFlow Playground; ``noise`` ν ∈ [0, 0.5],
U(a, b) uniform, N(μ, σ²) normal, every class gets ⌊n/2⌋ or ⌈n/2⌉ points:

    circle      label 1: disc r ~ U(0, 2.5), label 0: ring r ~ U(3.5, 5); angle θ ~ U(0, 2π),
                x = (r sin θ, r cos θ) + e with jitter e ~ U(−5ν, 5ν)²
    xor         |x1|, |x2| ~ U(0, 5) + 0.3 (a gap around the axes); label 1: quadrants where x1·x2 > 0,
                label 0: the other two; x += e ~ U(−5ν, 5ν)²
    gaussian    label 1: x ~ N((2, 2), s²I), label 0: x ~ N((−2, −2), s²I), variance s² = 0.5 + 7ν
    spiral      i = 0..m−1, r = 5i/m, t = 3.5π i/m + δ, x = (r sin t, r cos t) + U(−ν, ν)²;
                δ = 0 → label 1, δ = π → label 0
    plane       x ~ U(−6, 6)², y = clip((x1 + x2 + e1 + e2) / 10, −1, 1) with e ~ U(−6ν, 6ν)²
    multigauss  x ~ U(−6, 6)², y = clip(Σ_k s_k exp(−‖x + e − c_k‖² / 2), −1, 1), e as for plane,
                bumps c_k = (−4, ±2.5), (0, ±2.5), (4, ±2.5) with signs s_k = ±1 in a checkerboard

Noise moves points, never relabels them (TensorFlow Playground relabels circle and xor points
instead), so the classes stay balanced at every noise level. The points are split into train and test
by a permutation drawn from ``np.random.default_rng(seed)``; n_train = round(n · train_ratio), kept
within [1, n − 1]. The same arguments always give identical arrays.

Feature maps turn x (n, 2) into the network's input columns (n, k), in the order asked for:

    x1, x2, x1^2 = x1², x2^2 = x2², x1x2 = x1·x2, sin_x1 = sin(x1), sin_x2 = sin(x2)
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Sequence

import numpy as np

CLASSIFICATION = ("circle", "xor", "gaussian", "spiral")
REGRESSION = ("plane", "multigauss")
SMALL = ("xor_table", "one_neuron")
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2")

EXTENT = 6.0  # the plot shows [−EXTENT, EXTENT]²; clicked points must lie inside it
SAMPLES = (4, 5000)          # n, the number of points of a toy set: (low, high)
NOISE = (0.0, 0.5)           # ν
TRAIN_RATIO = (0.1, 0.9)

_FEATURE_MAPS = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1**2,
    "x2^2": lambda x1, x2: x2**2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
}
# multigauss bumps: (c1, c2, sign)
_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


@dataclass(frozen=True)
class Dataset:
    """Inputs as rows and their targets, split into train and test (shapes in the module docstring)."""

    name: str
    task: str  # "classification" | "regression"
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _check_int(name: str, value, low: int, high: int) -> int:
    value = value.item() if isinstance(value, np.generic) else value  # show 3, not np.int64(3)
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValueError(f"{name}={value!r} is not an integer: must be an integer between {low} and {high}")
    if not low <= value <= high:
        raise ValueError(f"{name}={value!r} is out of range: must be between {low} and {high}")
    return int(value)


def _check_real(name: str, value, low: float, high: float) -> float:
    value = value.item() if isinstance(value, np.generic) else value
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name}={value!r} is not a finite number: must be between {low:g} and {high:g}")
    if not low <= value <= high:
        raise ValueError(f"{name}={value!r} is out of range: must be between {low:g} and {high:g}")
    return float(value)


def _class_sizes(n: int) -> tuple[int, int]:
    """(label-1 count, label-0 count) for n points, differing by at most one."""
    return n // 2, n - n // 2


def _circle(n, noise, rng):
    n1, n0 = _class_sizes(n)
    r = np.concatenate([rng.uniform(0.0, 2.5, n1), rng.uniform(3.5, 5.0, n0)])
    theta = rng.uniform(0.0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(theta), r * np.cos(theta)]) + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    y = np.repeat(np.array([1, 0], dtype=np.int64), [n1, n0])
    return X, y


def _xor(n, noise, rng):
    n1, n0 = _class_sizes(n)
    magnitude = rng.uniform(0.0, 5.0, (n, 2)) + 0.3
    s1 = rng.choice([-1.0, 1.0], n)
    s2 = s1 * np.concatenate([np.ones(n1), -np.ones(n0)])  # same signs → label 1
    X = magnitude * np.column_stack([s1, s2]) + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    y = np.repeat(np.array([1, 0], dtype=np.int64), [n1, n0])
    return X, y


def _gaussian(n, noise, rng):
    n1, n0 = _class_sizes(n)
    s = np.sqrt(0.5 + 7.0 * noise)
    centre = np.repeat([[2.0, 2.0], [-2.0, -2.0]], [n1, n0], axis=0)
    X = centre + rng.normal(0.0, s, (n, 2))
    y = np.repeat(np.array([1, 0], dtype=np.int64), [n1, n0])
    return X, y


def _spiral(n, noise, rng):
    n1, n0 = _class_sizes(n)
    m = np.repeat([n1, n0], [n1, n0]).astype(float)
    i = np.concatenate([np.arange(n1), np.arange(n0)])
    delta = np.repeat([0.0, np.pi], [n1, n0])
    r = 5.0 * i / m
    t = 3.5 * np.pi * i / m + delta
    X = np.column_stack([r * np.sin(t), r * np.cos(t)]) + rng.uniform(-1.0, 1.0, (n, 2)) * noise
    y = np.repeat(np.array([1, 0], dtype=np.int64), [n1, n0])
    return X, y


def _plane(n, noise, rng):
    X = rng.uniform(-EXTENT, EXTENT, (n, 2))
    e = rng.uniform(-EXTENT, EXTENT, (n, 2)) * noise
    y = np.clip((X + e).sum(axis=1) / 10.0, -1.0, 1.0)
    return X, y


def _multigauss(n, noise, rng):
    X = rng.uniform(-EXTENT, EXTENT, (n, 2))
    e = rng.uniform(-EXTENT, EXTENT, (n, 2)) * noise
    d2 = (((X + e)[:, None, :] - _BUMPS[None, :, :2]) ** 2).sum(axis=2)  # (n, bumps)
    y = np.clip(np.exp(-d2 / 2.0) @ _BUMPS[:, 2], -1.0, 1.0)
    return X, y


_TOY_MAKERS = {
    "circle": _circle, "xor": _xor, "gaussian": _gaussian, "spiral": _spiral,
    "plane": _plane, "multigauss": _multigauss,
}


def toy(name: str, n: int = 500, noise: float = 0.0, train_ratio: float = 0.5, seed: int = 0) -> Dataset:
    """A 2-D toy set (see the module docstring), shuffled and split into train and test."""
    if not isinstance(name, str) or name not in _TOY_MAKERS:
        raise ValueError(f"name={name!r} is unknown: choose one of {', '.join(CLASSIFICATION + REGRESSION)}")
    n = _check_int("n", n, *SAMPLES)
    noise = _check_real("noise", noise, *NOISE)
    train_ratio = _check_real("train_ratio", train_ratio, *TRAIN_RATIO)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    rng = np.random.default_rng(seed)
    X, y = _TOY_MAKERS[name](n, noise, rng)
    order = rng.permutation(n)
    n_train = min(max(round(n * train_ratio), 1), n - 1)
    train, test = order[:n_train], order[n_train:]
    task = "classification" if name in CLASSIFICATION else "regression"
    return Dataset(name, task, X[train], y[train], X[test], y[test])


def small(name: str) -> Dataset:
    """A four-row truth table, for stepping through training by hand.

    xor_table:  X = [[0,0],[0,1],[1,0],[1,1]],            y = [0,1,1,0]  (x1 XOR x2)
    one_neuron: X = [[0,0,1],[1,1,1],[1,0,1],[0,1,1]],    y = [0,1,1,0]  (y = x1, one neuron suffices)

    There is nothing to hold out, so the test set equals the train set (separate copies).
    """
    if name == "xor_table":
        X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    elif name == "one_neuron":
        X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=np.float64)
    else:
        raise ValueError(f"name={name!r} is unknown: choose one of {', '.join(SMALL)}")
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return Dataset(name, "classification", X, y, X.copy(), y.copy())


def features(X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Feature columns of X (n, 2) → (n, len(names)) float64, in the order of ``names``."""
    if isinstance(names, str):
        raise ValueError(f"names={names!r} is a string: must be a list of feature names, e.g. [{names!r}]")
    names = list(names)
    if not names:
        raise ValueError(f"names={names!r} is empty: choose at least one of {', '.join(FEATURES)}")
    unknown = [f for f in names if f not in _FEATURE_MAPS]
    if unknown:
        raise ValueError(f"names={names!r} has unknown {unknown!r}: choose from {', '.join(FEATURES)}")
    if len(set(names)) != len(names):
        raise ValueError(f"names={names!r} has duplicates: each feature may appear once")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X has shape {X.shape}: must be (n, 2) with columns x1, x2")
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([_FEATURE_MAPS[f](x1, x2) for f in names])


def one_hot(y: np.ndarray, k: int) -> np.ndarray:
    """Labels y (n,) in [0, k) → Y (n, k) float64 with Y[i, y[i]] = 1 and zeros elsewhere."""
    k = _check_int("k", k, 1, 1_000_000)
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"y has shape {y.shape} and dtype {y.dtype}: must be a 1-D array of integers")
    outside = y[(y < 0) | (y >= k)]
    if outside.size:
        raise ValueError(f"y contains {outside[0].item()!r}: labels must be integers in [0, {k}) for k={k}")
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), y] = 1.0
    return Y


def add_point(dataset: Dataset, x1: float, x2: float, label) -> Dataset:
    """A new Dataset with the training point ((x1, x2), label) appended; the test set is unchanged.

    Coordinates must lie in [−6, 6]; the label must be 0 or 1 (classification) or in [−1, 1] (regression).
    """
    if dataset.X_train.ndim != 2 or dataset.X_train.shape[1] != 2:
        raise ValueError(f"dataset={dataset.name!r} has {dataset.X_train.shape[1:]} inputs: "
                         "points can only be added to a 2-D data set")
    x1 = _check_real("x1", x1, -EXTENT, EXTENT)
    x2 = _check_real("x2", x2, -EXTENT, EXTENT)
    if dataset.task == "classification":
        if isinstance(label, bool) or not isinstance(label, numbers.Real) or label not in (0, 1):
            raise ValueError(f"label={label!r} is invalid: must be 0 or 1 for a classification set")
        label = int(label)
    else:
        label = _check_real("label", label, -1.0, 1.0)
    X_train = np.concatenate([dataset.X_train, np.array([[x1, x2]], dtype=dataset.X_train.dtype)])
    y_train = np.concatenate([dataset.y_train, np.array([label], dtype=dataset.y_train.dtype)])
    return dataclasses.replace(dataset, X_train=X_train, y_train=y_train)


def grid(resolution: int = 50, extent: float = EXTENT) -> np.ndarray:
    """(resolution², 2) points on [−extent, extent]², in the order a heatmap image is drawn.

    Row r (top to bottom), column c (left to right) of the image is point r·resolution + c, with
    x1 = −extent + 2·extent·c/(resolution − 1) and x2 = +extent − 2·extent·r/(resolution − 1).
    """
    resolution = _check_int("resolution", resolution, 2, 200)
    if isinstance(extent, bool) or not isinstance(extent, numbers.Real) or not 0 < extent < math.inf:
        raise ValueError(f"extent={extent!r} is out of range: must be a finite number greater than 0")
    extent = float(extent)
    x1 = np.linspace(-extent, extent, resolution)
    x2 = np.linspace(extent, -extent, resolution)
    X1, X2 = np.meshgrid(x1, x2)  # X1[r, c] = x1[c], X2[r, c] = x2[r]
    return np.column_stack([X1.ravel(), X2.ravel()])
