"""A drawn digit → a 28 × 28 MNIST-style image, the way the MNIST images themselves were made.

Ink. Any picture of shape (h, w) becomes an ink map q (h, w) in [0, 1], 1 = full ink, 0 = background:

    channel c (h, w) in [0, 1]: the alpha channel if it varies by more than INK_THRESHOLD (strokes on a
        transparent canvas, whose RGB may be all 0), else the luminance 0.299 R + 0.587 G + 0.114 B
    background b = median of c over the border pixels (top and bottom rows, left and right columns)
    q = clip((b − c) / b, 0, 1)          if b ≥ 0.5   (dark ink on a light background)
    q = clip((c − b) / (1 − b), 0, 1)    if b < 0.5   (light ink on a dark background)

A fully transparent picture has no ink.

MNIST form (LeCun et al.: size-normalised to 20 × 20 keeping the aspect ratio, anti-aliased, then
centred by centre of mass in a 28 × 28 field):

    1. max q < INK_THRESHOLD → EmptyCanvasError
    2. crop q to the bounding box of the pixels with q ≥ INK_THRESHOLD: (h', w')
    3. resize by s = 20 / max(h', w') to (round(s·h'), round(s·w')) with a Lanczos filter, clip to [0, 1]
    4. centre of mass (r̄, c̄) = Σ p·(row, col) / Σ p over the resized pixels p;
       paste at offset (⌊14 − r̄ + ½⌋, ⌊14 − c̄ + ½⌋) into a zero 28 × 28 field, clipped to the frame,
       so the centre of mass lands within ½ px of (14, 14) (MNIST's own mean in these coordinates)
    5. quantise to k / 255: the same values as MNIST training pixels uint8 / 255, as float32
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from PIL import Image, ImageDraw

INK_THRESHOLD = 0.1   # ink below this counts as background
MNIST_SIZE = 28       # side of the output field
DIGIT_SIZE = 20       # longer side of the digit's bounding box after scaling
MAX_SIDE = 2048       # larger pictures are refused (the canvas is 280 × 280)
MODES = ("L", "LA", "RGB", "RGBA")
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


class EmptyCanvasError(ValueError):
    """The picture has no ink to read a digit from."""

    def __init__(self, message: str = "no ink: the canvas is empty — draw a digit"):
        super().__init__(message)


def _check(image) -> None:
    """A ValueError naming the problem unless ``image`` is a PIL image (L, LA, RGB, RGBA) or a uint8
    array (h, w), (h, w, 3) or (h, w, 4), with sides of 1..MAX_SIDE."""
    if isinstance(image, Image.Image):
        if image.mode not in MODES:
            raise ValueError(f"image mode {image.mode!r} is not supported: must be one of {', '.join(MODES)}")
        bands = len(image.getbands())
        shape = (image.height, image.width) + ((bands,) if bands > 1 else ())
    elif isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise ValueError(f"image dtype {image.dtype} is not supported: must be uint8 (0..255)")
        if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
            raise ValueError(f"image shape {image.shape} is not supported: must be (h, w), (h, w, 3) or (h, w, 4)")
        shape = image.shape
    else:
        raise ValueError(f"image is a {type(image).__name__}: must be a PIL image or a numpy uint8 array")
    if not (1 <= shape[0] <= MAX_SIDE and 1 <= shape[1] <= MAX_SIDE):
        raise ValueError(f"image shape {shape} is out of range: height and width must be 1..{MAX_SIDE}")


def _alpha(image) -> np.ndarray | None:
    """The alpha channel (h, w) uint8, or None; a PIL image hands over that one channel only."""
    if isinstance(image, Image.Image):
        return np.asarray(image.getchannel("A")) if image.mode in ("LA", "RGBA") else None
    return image[..., -1] if image.ndim == 3 and image.shape[2] == 4 else None


def _luminance(image) -> np.ndarray:
    """Grey level (h, w) float32 in [0, 255]: 0.299 R + 0.587 G + 0.114 B, or the L channel."""
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        return pixels.astype(np.float32)
    if pixels.shape[2] == 2:
        return pixels[..., 0].astype(np.float32)
    return pixels[..., :3] @ _LUMA


def _channel(image) -> np.ndarray | None:
    """The channel c (h, w) that ink is read from, in 0..255 (uint8 or float32): the alpha channel if
    it varies by more than INK_THRESHOLD, else the luminance; None when the picture is fully transparent."""
    alpha = _alpha(image)
    if alpha is not None:
        low, high = int(alpha.min()), int(alpha.max())
        if (high - low) / 255 > INK_THRESHOLD:
            return alpha
        if high == 0:
            return None  # nothing is visible
    return _luminance(image)


def _background(c: np.ndarray) -> float:
    """b: the median of c over the border pixels."""
    return float(np.median(np.concatenate([c[0], c[-1], c[:, 0], c[:, -1]])))


def _against_background(c: np.ndarray, b: float) -> np.ndarray:
    """Ink q float32 in [0, 1] of (part of) a channel c in [0, 255] against its background b, in the
    background's polarity (the formulas of the module docstring, with c and b in 0..255)."""
    if b >= 127.5:  # dark ink on a light background: q = (b − c) / b
        q = np.subtract(b, c, dtype=np.float32)
        q /= np.float32(b)
    else:           # light ink on a dark background: q = (c − b) / (255 − b)
        q = np.subtract(c, b, dtype=np.float32)
        q /= np.float32(255 - b)
    return np.clip(q, 0, 1, out=q)


def _box(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The bounding box of the True pixels of a (h, w) mask, or None if there are none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)) if rows.size else None


def ink(image) -> np.ndarray:
    """Ink map (h, w) float32 in [0, 1] (1 = ink) of a PIL image (L, LA, RGB, RGBA) or uint8 array.
    Only the channel that is used gets converted: a canvas drawn on transparency costs one channel."""
    _check(image)
    c = _channel(image)
    if c is None:
        return np.zeros((image.height, image.width) if isinstance(image, Image.Image) else image.shape[:2],
                        np.float32)
    return _against_background(c, _background(c))


def to_mnist(image) -> np.ndarray:
    """(28, 28) float32 in [0, 1], multiples of 1/255 like MNIST pixels / 255 (steps: module docstring).
    The ink map is computed only inside the box of the pixels that differ from the background in the
    ink's direction (outside it q = 0): the same result as ink(image), without full-size float passes."""
    _check(image)
    c = _channel(image)
    if c is None:
        raise EmptyCanvasError()
    b = _background(c)
    box = _box(c < b if b >= 127.5 else c > b)
    if box is None:
        raise EmptyCanvasError()
    q = _against_background(c[box], b)
    if q.max() < INK_THRESHOLD:
        raise EmptyCanvasError()
    crop = q[_box(q >= INK_THRESHOLD)]
    h, w = crop.shape
    s = DIGIT_SIZE / max(h, w)
    size = (max(1, round(s * w)), max(1, round(s * h)))  # Pillow wants (width, height)
    p = Image.fromarray(np.ascontiguousarray(crop)).resize(size, Image.Resampling.LANCZOS)
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    mass = p.sum()
    if mass <= 0.0:
        raise EmptyCanvasError()
    r_bar = p.sum(axis=1) @ np.arange(p.shape[0]) / mass
    c_bar = p.sum(axis=0) @ np.arange(p.shape[1]) / mass
    centre = MNIST_SIZE / 2
    # rounded to 1e-6 px first, so that a symmetric digit whose centre falls exactly between two pixels
    # goes the same way in every colour scheme, whatever the last bit of its arithmetic
    dr, dc = math.floor(round(centre - r_bar, 6) + 0.5), math.floor(round(centre - c_bar, 6) + 0.5)
    field = np.zeros((MNIST_SIZE, MNIST_SIZE))
    r0, c0 = max(dr, 0), max(dc, 0)
    r1, c1 = min(dr + p.shape[0], MNIST_SIZE), min(dc + p.shape[1], MNIST_SIZE)
    field[r0:r1, c0:c1] = p[r0 - dr:r1 - dr, c0 - dc:c1 - dc]
    return (np.round(field * 255.0) / 255.0).astype(np.float32)


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name}={value!r} is out of range: must be an integer between {low} and {high}")
    return int(value)


def draw_strokes(strokes, size: int = 280, pen_width: int = 18, background: int = 0,
                 ink_value: int = 255) -> np.ndarray:
    """Render polylines [[(x, y), ...], ...] (pixel coordinates, x to the right, y down) with a round pen.

    Returns a (size, size) uint8 image filled with ``background``; each stroke is a line of width
    ``pen_width`` through its points, with a disc of that diameter at every point (round caps and
    joints; a single point is a dot). Empty strokes draw nothing.
    """
    size = _check_int("size", size, 8, MAX_SIDE)
    pen_width = _check_int("pen_width", pen_width, 1, size)
    background = _check_int("background", background, 0, 255)
    ink_value = _check_int("ink_value", ink_value, 0, 255)
    if isinstance(strokes, (str, bytes)) or not hasattr(strokes, "__iter__"):
        raise ValueError(f"strokes={strokes!r:.60} is invalid: must be a list of strokes [[(x, y), ...], ...]")
    polylines = []
    for i, stroke in enumerate(strokes):
        try:
            points = np.asarray(stroke, dtype=np.float64).reshape(-1, 2) if len(stroke) else np.zeros((0, 2))
        except (TypeError, ValueError) as e:
            raise ValueError(f"strokes[{i}]={stroke!r:.60} is invalid: must be a list of (x, y) pairs") from e
        if points.shape[0] != len(stroke) or not np.isfinite(points).all():
            raise ValueError(f"strokes[{i}]={stroke!r:.60} is invalid: must be a list of finite (x, y) pairs")
        polylines.append(points)
    canvas = Image.new("L", (size, size), background)
    draw = ImageDraw.Draw(canvas)
    r = (pen_width - 1) / 2
    for points in polylines:
        xy = [tuple(pt) for pt in points.tolist()]
        if len(xy) > 1:
            draw.line(xy, fill=ink_value, width=pen_width, joint="curve")
        if pen_width == 1:
            draw.point(xy, fill=ink_value)  # a zero-size ellipse would draw nothing
        else:
            for x, y in xy:
                draw.ellipse([x - r, y - r, x + r, y + r], fill=ink_value)
    return np.asarray(canvas).copy()
