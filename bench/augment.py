"""Augmentation that looks like drawing, for training the digit models (bench/pretrain.py).

``augment(images, rng)`` takes uint8 digits (n, 28, 28) and returns float32 rows (n, 784) in [0, 1],
each changed afresh by draws from ``rng``:

    stroke width   blend towards a grey erosion (thinner) or one or two grey dilations (thicker)
                   with the 4-neighbourhood: w ~ U(WIDTH_RANGE), −1 = eroded, 0 = as is, 2 = dilated twice
    affine         rotation ~ U(±ROTATION°), scale ~ U(SCALE_RANGE) per axis, shear ~ U(±SHEAR),
                   shift ~ U(±SHIFT px) per axis, about the image centre
    wobble         a smooth random displacement field (a 4 × 4 grid of N(0, WOBBLE²) px offsets,
                   interpolated bilinearly), like the unsteady hand of a person drawing
    sampling       bilinear, zero outside the image
"""
from __future__ import annotations

import numpy as np

WIDTH_RANGE = (-0.6, 1.6)
ROTATION = 15.0
SCALE_RANGE = (0.85, 1.15)
SHEAR = 0.2
SHIFT = 2.0
WOBBLE = 0.8


def grey_dilate(x, op):
    """op (np.maximum or np.minimum) of every pixel of images (n, h, w) and its 4 neighbours."""
    p = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    return op.reduce([p[:, 1:-1, 1:-1], p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:]])


def change_stroke_width(x, w):
    """Images (n, h, w) with strokes made thinner (w < 0) or thicker (w > 0), w (n,) in [−1, 2]:
    piecewise-linear between eroded (−1), as is (0), dilated once (1) and twice (2)."""
    eroded, dilated = grey_dilate(x, np.minimum), grey_dilate(x, np.maximum)
    twice = grey_dilate(dilated, np.maximum)
    w = w[:, None, None]
    thinner = x + np.minimum(w, 0) * (x - eroded)
    thicker = np.where(w <= 1, x + np.clip(w, 0, 1) * (dilated - x), dilated + (w - 1) * (twice - dilated))
    return np.where(w < 0, thinner, thicker)


def bilinear_sample(x, rows, cols):
    """Images (n, h, w) sampled at fractional positions rows, cols (n, h, w); zero outside."""
    n, h, w = x.shape
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2))).reshape(n, -1)
    r0 = np.clip(np.floor(rows), -2, h).astype(np.int64)
    c0 = np.clip(np.floor(cols), -2, w).astype(np.int64)
    fr = np.clip(rows - r0, 0, 1).astype(x.dtype)
    fc = np.clip(cols - c0, 0, 1).astype(x.dtype)
    stride = w + 4
    top_left = ((r0 + 2) * stride + (c0 + 2)).reshape(n, -1)
    corner = lambda offset: np.take_along_axis(padded, top_left + offset, axis=1).reshape(n, h, w)  # noqa: E731
    top = corner(0) * (1 - fc) + corner(1) * fc
    bottom = corner(stride) * (1 - fc) + corner(stride + 1) * fc
    return top * (1 - fr) + bottom * fr


def wobble_field(rng, n, size, amplitude, grid=4):
    """(n, 2, size, size) smooth displacements: N(0, amplitude²) on a grid × grid, bilinearly upsampled."""
    at = np.linspace(0, grid - 1, size)
    U = np.maximum(0, 1 - np.abs(at[:, None] - np.arange(grid)[None, :]))  # (size, grid) hat functions
    G = rng.normal(0, amplitude, (n, 2, grid, grid))
    return np.einsum("ri,nkij,cj->nkrc", U, G, U)


def augment(images, rng):
    """uint8 images (n, 28, 28) → augmented float32 rows (n, 784) in [0, 1] (module docstring)."""
    n, size = len(images), images.shape[1]
    x = change_stroke_width(images.astype(np.float32) / 255.0, rng.uniform(*WIDTH_RANGE, n).astype(np.float32))
    angle = np.radians(rng.uniform(-ROTATION, ROTATION, n))
    sr, sc = rng.uniform(*SCALE_RANGE, (2, n))
    shear = rng.uniform(-SHEAR, SHEAR, n)
    cos, sin = np.cos(angle), np.sin(angle)
    # Inverse map, output pixel → source position: rotate, shear, then scale, about the centre.
    A = np.stack([np.stack([cos / sr, (-sin + shear * cos) / sr], -1),
                  np.stack([sin / sc, (cos + shear * sin) / sc], -1)], -2).astype(np.float32)  # on (row, col)
    shift = rng.uniform(-SHIFT, SHIFT, (n, 2)).astype(np.float32)
    centre = (size - 1) / 2
    r, c = (np.mgrid[0:size, 0:size] - centre).astype(np.float32)
    field = wobble_field(rng, n, size, WOBBLE).astype(np.float32)
    rows = A[:, 0, 0, None, None] * r + A[:, 0, 1, None, None] * c + centre + shift[:, 0, None, None] + field[:, 0]
    cols = A[:, 1, 0, None, None] * r + A[:, 1, 1, None, None] * c + centre + shift[:, 1, None, None] + field[:, 1]
    out = bilinear_sample(x, rows, cols)
    return np.clip(out, 0, 1).reshape(n, -1).astype(np.float32)
