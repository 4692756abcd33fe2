"""The committed convolutional digit model, engine/pretrained/digits.npz: small, a CNN the engine
runs, accurate on the MNIST test set, on test digits redrawn as on the app's canvas and on digits
printed in font families it never saw (bench/drawn_digits.py, bench/printed_digits.py).

Every figure here is measured afresh against the digits' labels (`python bench/drawn_digits.py
--model engine/pretrained/digits.npz` prints the same figures; bench/README.md records them)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import digits, mnist, modelfile

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL = REPO_ROOT / "engine" / "pretrained" / "digits.npz"
MAX_BYTES = 2_000_000


def bench_module(name):
    """bench/<name>.py, imported as bench.<name> (bench/ holds scripts, not an installed package)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    return importlib.import_module(f"bench.{name}")


@pytest.fixture(scope="module")
def model():
    return modelfile.load(MODEL)


@pytest.fixture(scope="module")
def test_set(mnist_dir):
    return mnist.load("test", mnist_dir)


def test_file_is_small_and_a_conv_network(model):
    network, meta = model
    assert MODEL.stat().st_size <= MAX_BYTES
    assert network.input_shape == (28, 28, 1) and network.sizes[-1] == 10 and not network.is_dense
    assert [layer.kind for layer in network.layers].count("conv") >= 2
    assert network.activations[-1] == "softmax" and network.loss.name == "cross_entropy"
    assert meta["command"].startswith("python bench/pretrain.py --arch cnn") and isinstance(meta["seed"], int)


def test_at_least_99_3_percent_on_the_mnist_test_set(model, test_set):
    network, meta = model
    images, labels = test_set
    accuracy = network.accuracy(images.reshape(len(images), -1) / 255.0, labels)
    assert accuracy >= 0.993
    assert accuracy == pytest.approx(meta["test_accuracy"], abs=1e-4)  # the file tells the truth


@pytest.mark.slow
def test_drawn_test_digits_in_every_style(model, test_set):
    """All 10,000 test digits redrawn (seed 0, about 45 s): at least 98 % in every colour scheme,
    and exactly the figures the file records. The dense digits_dense.npz reads 97.4-97.9 % per scheme
    here, so it would fail; the issue's target of 99 % is not met (bench/README.md)."""
    network, meta = model
    drawn_digits = bench_module("drawn_digits")
    images, labels = test_set
    X, strokes = drawn_digits.drawn_set(images, seed=0)
    by_style = drawn_digits.accuracy_by_style(network, X, labels, strokes)
    assert set(by_style) == {"all", *drawn_digits.STYLES}
    assert min(by_style.values()) >= 0.98, by_style
    assert by_style == pytest.approx(meta["drawn_test_accuracy_by_style"], abs=1e-4)  # the file tells the truth


@pytest.mark.slow
def test_printed_digits_in_fonts_it_never_saw(model):
    printed_digits = bench_module("printed_digits")
    fonts = printed_digits.fonts("held_out")
    if not fonts:
        pytest.skip("no held-out font family on this machine (bench/get_fonts.sh fetches some)")
    network, _ = model
    X, labels, info = printed_digits.printed_set(fonts, 500, seed=1)  # not the seed of the file's figure
    assert printed_digits.accuracy_by(network, X, labels, info)["all"] >= 0.98  # the dense digits_dense.npz: 0.958


def test_one_drawn_digit_in_each_style_the_way_the_server_reads_it(model, test_set):
    network, _ = model
    drawn_digits = bench_module("drawn_digits")
    images, labels = test_set
    assert labels[0] == 7
    segments = drawn_digits.skeleton_segments(drawn_digits.skeletons(images[:1])[0])
    rng = np.random.default_rng(1)
    for style in drawn_digits.STYLES:
        canvas = drawn_digits.draw(segments, drawn_digits.Stroke(180.0, 18, 50.0, 50.0, style), rng)
        assert network.classify(network.forward(digits.to_mnist(canvas).reshape(1, 784)))[0] == 7, style
