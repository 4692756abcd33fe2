"""Tests for engine.digits: ink maps in every polarity and mode, MNIST-style normalisation, stroke drawing."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine import digits, mnist

SIZE = 280
_t = np.linspace(0, 2 * np.pi, 60)
ONE = [[(140, 40), (140, 240)]]                                              # a vertical stroke, 200 px
ZERO = [list(zip(140 + 60 * np.sin(_t), 140 - 90 * np.cos(_t)))]             # an ellipse 120 × 180
WIDE = [list(zip(140 + 110 * np.sin(_t), 140 - 45 * np.cos(_t)))]            # an ellipse 220 × 90
SEVEN = [[(60, 50), (220, 50), (120, 250)]]                                  # not symmetric: no ½ px ties


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    rows, cols = np.indices(image.shape)
    return np.array([(rows * image).sum(), (cols * image).sum()]) / image.sum()


def ink_box(image: np.ndarray) -> tuple[int, int]:
    """(height, width) of the bounding box of the nonzero pixels."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def renderings(strokes) -> dict:
    """The same drawing as a browser or a user might hand it over."""
    q = digits.draw_strokes(strokes)  # white ink (255) on black (0)
    zeros = np.zeros((SIZE, SIZE, 3), np.uint8)
    navy, cream = np.array([10, 20, 60], np.uint8), np.array([250, 245, 230], np.uint8)
    navy_on_cream = np.where(q[..., None] > 0, navy, cream)
    return {
        "L white on black": Image.fromarray(q),
        "L black on white": Image.fromarray(255 - q),
        "LA black on white": Image.fromarray(np.dstack([255 - q, np.full_like(q, 255)]), "LA"),
        "RGBA ink on transparent, RGB = 0": Image.fromarray(np.dstack([zeros, q])),
        "RGBA black ink on transparent white": Image.fromarray(np.dstack([np.full_like(zeros, 255) - q[..., None],
                                                                          q])),
        "RGBA opaque black on white": Image.fromarray(np.dstack([np.repeat(255 - q[..., None], 3, 2),
                                                                 np.full_like(q, 255)])),
        "RGB black on white": Image.fromarray(np.repeat(255 - q[..., None], 3, axis=2)),
        "RGB navy on cream": Image.fromarray(navy_on_cream),
        "numpy (h, w)": q,
        "numpy (h, w, 3)": np.repeat(255 - q[..., None], 3, axis=2),
        "numpy (h, w, 4)": np.dstack([zeros, q]),
    }


@pytest.mark.parametrize("strokes", [ONE, ZERO, WIDE, SEVEN], ids=["one", "zero", "wide", "seven"])
def test_every_polarity_and_mode_gives_the_same_digit(strokes):
    images = renderings(strokes)
    reference = digits.to_mnist(images.pop("L white on black"))
    for name, image in images.items():
        out = digits.to_mnist(image)
        assert out.shape == (28, 28) and out.dtype == np.float32, name
        tolerance = 0.1 if name == "RGB navy on cream" else 1e-6  # navy on cream is 0.91 ink, not 1
        assert np.abs(out - reference).max() <= tolerance, name


@pytest.mark.parametrize("strokes", [ONE, ZERO, WIDE, SEVEN], ids=["one", "zero", "wide", "seven"])
def test_digit_is_20_px_on_its_longer_side_and_centred_by_mass(strokes):
    out = digits.to_mnist(digits.draw_strokes(strokes))
    assert 0 <= out.min() and out.max() == 1
    assert max(ink_box(out)) in (20, 21)
    assert np.abs(centre_of_mass(out) - 14).max() <= 0.52  # integer shifts: within ½ px (+ quantisation)


def test_values_are_mnist_pixel_levels():
    out = digits.to_mnist(digits.draw_strokes(ZERO))
    np.testing.assert_array_equal(out, np.round(out * 255).astype(np.uint8) / np.float32(255))
    assert 0 < (out[(out > 0) & (out < 1)]).size  # anti-aliased edges, not just 0 and 1


@pytest.mark.parametrize("strokes, aspect", [(ZERO, (180 + 18) / (120 + 18)), (WIDE, (90 + 18) / (220 + 18))],
                         ids=["tall", "wide"])
def test_aspect_ratio_is_kept(strokes, aspect):
    height, width = ink_box(digits.to_mnist(digits.draw_strokes(strokes)))
    assert abs(height / width - aspect) < 0.15 * aspect
    assert max(height, width) in (20, 21)


def test_position_and_canvas_size_do_not_matter():
    reference = digits.to_mnist(digits.draw_strokes(SEVEN))
    shifted = [[(x - 40, y + 20) for x, y in SEVEN[0]]]  # still inside the canvas
    np.testing.assert_allclose(digits.to_mnist(digits.draw_strokes(shifted)), reference, atol=1e-6)
    doubled = [[(2 * x, 2 * y) for x, y in SEVEN[0]]]
    big = digits.to_mnist(digits.draw_strokes(doubled, size=560, pen_width=36))
    assert np.abs(big - reference).mean() < 0.01


def test_tiny_speck_of_ink_still_works():
    canvas = np.full((SIZE, SIZE), 255, np.uint8)
    canvas[30:33, 250:252] = 0  # 3 × 2 px near the top right corner
    out = digits.to_mnist(canvas)
    assert out.max() == 1 and max(ink_box(out)) in (20, 21)
    assert np.abs(centre_of_mass(out) - 14).max() <= 0.52


@pytest.mark.parametrize("canvas", [
    np.full((SIZE, SIZE), 255, np.uint8),
    np.zeros((SIZE, SIZE), np.uint8),
    np.zeros((SIZE, SIZE, 4), np.uint8),                                      # cleared canvas
    np.dstack([np.full((SIZE, SIZE, 3), 255, np.uint8), np.zeros((SIZE, SIZE), np.uint8)]),
    np.full((SIZE, SIZE, 3), 128, np.uint8),
    np.full((SIZE, SIZE), 250, np.uint8) - (np.indices((SIZE, SIZE))[0] % 2 * 10).astype(np.uint8),  # faint
], ids=["white", "black", "transparent black", "transparent white", "grey", "faint stripes"])
def test_empty_canvas_raises(canvas):
    with pytest.raises(digits.EmptyCanvasError, match="^no ink: the canvas is empty — draw a digit$"):
        digits.to_mnist(canvas)
    with pytest.raises(digits.EmptyCanvasError):
        digits.to_mnist(Image.fromarray(canvas))
    assert issubclass(digits.EmptyCanvasError, ValueError)


def test_ink_is_one_on_strokes_and_zero_on_background():
    q = digits.draw_strokes(ONE)
    stroke, background = q == 255, q == 0
    for name, image in renderings(ONE).items():
        if name == "RGB navy on cream":
            continue
        ink = digits.ink(image)
        assert ink.shape == (SIZE, SIZE) and ink.dtype == np.float32, name
        assert (ink[stroke] == 1).all() and (ink[background] == 0).all(), name


def test_ink_measures_contrast_to_a_grey_paper():
    paper = np.full((40, 60), 200, np.uint8)
    paper[10:20, 20:30] = 0
    paper[25:30, 20:30] = 100
    ink = digits.ink(paper)
    assert ink[0, 0] == 0 and ink[15, 25] == 1 and ink[27, 25] == pytest.approx(0.5)


def test_to_mnist_reads_ink_inside_a_box_that_holds_all_of_it():
    """to_mnist computes q only inside the box of the pixels darker (lighter) than the paper: q must be
    0 everywhere outside it, and the same inside as ink() gives. (On speckled paper the box is the whole
    canvas.)"""
    rng = np.random.default_rng(0)
    speckled = np.clip(180 + rng.normal(0, 20, (SIZE, SIZE)), 0, 255).astype(np.uint8)
    speckled[100:180, 120:140] = 0
    for name, image in {**renderings(ONE), "speckled paper": speckled}.items():
        c = digits._channel(image)
        b = digits._background(c)
        box = digits._box(c < b if b >= 127.5 else c > b)
        outside = np.ones(c.shape, bool)
        outside[box] = False
        q = digits.ink(image)
        assert (q[outside] == 0).all(), name
        assert outside.any() or name == "speckled paper", name  # clean paper: the box is smaller than the canvas
        np.testing.assert_array_equal(q[box], digits._against_background(c[box], b), err_msg=name)


@pytest.mark.parametrize("image, message", [
    (np.zeros((28, 28), np.float32), r"image dtype float32 is not supported: must be uint8"),
    (np.zeros((28, 28, 2), np.uint8), r"image shape \(28, 28, 2\) is not supported"),
    (np.zeros((28, 28, 5), np.uint8), r"image shape \(28, 28, 5\) is not supported"),
    (np.zeros(28, np.uint8), r"image shape \(28,\) is not supported"),
    (np.zeros((0, 28), np.uint8), r"image shape \(0, 28\) is out of range: height and width must be 1..2048"),
    (np.zeros((10, 2049), np.uint8), r"image shape \(10, 2049\) is out of range"),
    (Image.new("P", (28, 28)), r"image mode 'P' is not supported: must be one of L, LA, RGB, RGBA"),
    (Image.new("I", (28, 28)), r"image mode 'I' is not supported"),
    ([[0, 255], [255, 0]], r"image is a list: must be a PIL image or a numpy uint8 array"),
])
def test_bad_images_raise_value_error(image, message):
    with pytest.raises(ValueError, match=message):
        digits.to_mnist(image)
    with pytest.raises(ValueError, match=message):
        digits.ink(image)


def test_mnist_digits_survive_upscaling_and_normalising(mnist_dir):
    images, _ = mnist.load("test", mnist_dir)
    originals = images[:100] / 255.0
    errors = {}
    for name, resample in [("nearest", Image.Resampling.NEAREST), ("bilinear", Image.Resampling.BILINEAR)]:
        errors[name] = np.array([np.abs(digits.to_mnist(Image.fromarray(im).resize((SIZE, SIZE), resample))
                                        - original).mean() for im, original in zip(images[:100], originals)])
    one_pixel_shift = np.abs(np.roll(originals, 1, axis=2) - originals).mean()  # ≈ 0.065: what misplacing costs
    assert errors["nearest"].mean() < 0.015 and errors["nearest"].max() < one_pixel_shift
    assert errors["bilinear"].mean() < 0.04  # only the blur of the bilinear round trip


def test_draw_strokes_renders_a_round_pen():
    q = digits.draw_strokes([[(40, 140), (240, 140)], [(140, 40)]], pen_width=18, background=10, ink_value=200)
    assert q.shape == (SIZE, SIZE) and q.dtype == np.uint8
    assert set(np.unique(q).tolist()) == {10, 200}
    assert q[140, 40] == q[140, 240] == q[40, 140] == 200 and q[0, 0] == 10
    assert (q[:, 140] == 200).sum() in (35, 36, 37)  # the line and the dot above it
    assert (q[:, 100] == 200).sum() in (17, 18, 19)  # line thickness = pen width
    assert (q[140, :] == 200).sum() in range(200 + 17, 200 + 20)  # round caps stick out by a radius
    assert (q[40, :] == 200).sum() in (17, 18, 19)  # a single point is a dot of the pen's diameter
    assert (digits.draw_strokes([]) == 0).all() and (digits.draw_strokes([[]], background=7) == 7).all()
    thin = digits.draw_strokes([[(10, 20)], [(30, 40), (30, 50)]], size=64, pen_width=1)
    assert thin.sum() == 255 * 12 and thin[20, 10] == thin[40, 30] == thin[50, 30] == 255


@pytest.mark.parametrize("kwargs, message", [
    ({"size": 4}, r"size=4 is out of range: must be an integer between 8 and 2048"),
    ({"pen_width": 0}, r"pen_width=0 is out of range: must be an integer between 1 and 280"),
    ({"pen_width": 2.5}, r"pen_width=2.5 is out of range"),
    ({"background": 256}, r"background=256 is out of range: must be an integer between 0 and 255"),
    ({"ink_value": -1}, r"ink_value=-1 is out of range"),
    ({"strokes": [[(1, 2, 3)]]}, r"strokes\[0\]=\[\(1, 2, 3\)\] is invalid: must be a list of .*\(x, y\) pairs"),
    ({"strokes": [[(1, 2)], [(float("nan"), 2)]]}, r"strokes\[1\]=.* is invalid: must be a list of finite"),
    ({"strokes": [[1, 2]]}, r"strokes\[0\]=\[1, 2\] is invalid"),
    ({"strokes": "1,2"}, r"strokes='1,2' is invalid: must be a list of strokes"),
])
def test_draw_strokes_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        digits.draw_strokes(**{"strokes": ONE, **kwargs})
