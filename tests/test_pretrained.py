"""The committed digit model, engine/pretrained/digits_dense.npz: small, an MLP the engine runs, and accurate
on the MNIST test set and on MNIST test digits redrawn as on the app's canvas (bench/drawn_digits.py)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import digits, mnist, modelfile

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL = REPO_ROOT / "engine" / "pretrained" / "digits_dense.npz"
MAX_BYTES = 1_000_000


@pytest.fixture(scope="module")
def drawn_digits():
    """bench/drawn_digits.py, imported by path (bench/ holds scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_drawn_digits", REPO_ROOT / "bench" / "drawn_digits.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture(scope="module")
def model():
    return modelfile.load(MODEL)


@pytest.fixture(scope="module")
def test_set(mnist_dir):
    return mnist.load("test", mnist_dir)


def test_file_is_small():
    assert MODEL.stat().st_size <= MAX_BYTES


def test_is_a_relu_mlp_with_softmax_over_ten_digits(model):
    network, meta = model
    assert network.sizes[0] == 784 and network.sizes[-1] == 10 and len(network.sizes) >= 3
    assert network.activations == ["relu"] * (len(network.sizes) - 2) + ["softmax"]
    assert network.loss.name == "cross_entropy"
    assert network.dtype == np.float32
    assert meta["command"].startswith("python bench/pretrain.py")
    assert isinstance(meta["seed"], int)


def test_at_least_98_5_percent_on_the_mnist_test_set(model, test_set):
    network, meta = model
    images, labels = test_set
    accuracy = network.accuracy(images.reshape(len(images), -1) / 255.0, labels)
    assert accuracy >= 0.985
    assert accuracy == pytest.approx(meta["test_accuracy"], abs=1e-4)  # the file tells the truth


@pytest.mark.slow
def test_at_least_97_percent_on_1000_drawn_test_digits(model, test_set, drawn_digits):
    network, _ = model
    images, labels = test_set
    images, labels = images[::10], labels[::10]  # 1000 digits from both halves of the test set
    X, strokes = drawn_digits.drawn_set(images, seed=0)
    assert {s.style for s in strokes} == set(drawn_digits.STYLES)
    assert network.accuracy(X, labels) >= 0.97


def test_a_drawn_digit_is_read_the_way_the_server_reads_it(model, test_set, drawn_digits):
    """One canvas per style through engine.digits.to_mnist gives the digit's own label."""
    network, _ = model
    images, labels = test_set
    seven = images[0]
    assert labels[0] == 7
    segments = drawn_digits.skeleton_segments(drawn_digits.skeletons(seven[None])[0])
    rng = np.random.default_rng(1)
    for style in drawn_digits.STYLES:
        stroke = drawn_digits.Stroke(size=180.0, pen_width=18, x=50.0, y=50.0, style=style)
        canvas = drawn_digits.draw(segments, stroke, rng)
        x = digits.to_mnist(canvas).reshape(1, 784)
        assert network.classify(network.forward(x))[0] == 7, style


def test_digits_can_be_drawn_outside_the_sets_ranges(test_set, drawn_digits):
    """drawn_digits.py --sizes and --pens: every stroke within the ranges asked for; without them, the
    set's own ranges (tests/test_pretrained_cnn.py checks that the whole set still scores what the
    model file records)."""
    images = test_set[0][:40]
    X, strokes = drawn_digits.drawn_set(images, seed=3, sizes=(40, 60), pens=(18, 22))
    assert all(40 <= s.size <= 60 and 18 <= s.pen_width <= 22 for s in strokes)
    assert X.shape == (40, 784) and X.max() == 1.0
    _, strokes = drawn_digits.drawn_set(images, seed=3)
    (low, high), (thinnest, widest) = drawn_digits.SIZE_RANGE, drawn_digits.PEN_RANGE
    assert all(low <= s.size <= high and thinnest <= s.pen_width <= widest for s in strokes)
