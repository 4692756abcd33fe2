"""Drawn digits: MNIST digits redrawn the way a person draws on the app's 280 × 280 canvas.

    python bench/drawn_digits.py [--model engine/pretrained/digits.npz] [--split test] [--n 10000]
                                 [--seed 0] [--printed 5000] [--examples test-results/drawn_digits.png]
                                 [--sizes 110 250] [--pens 8 26]

builds the set (deterministic from the seed) and prints the model's accuracy on it, overall and
per canvas style; then on --printed digits typed in held-out font families (bench/printed_digits.py,
the same seed). --sizes and --pens draw the digits outside the set's ranges (smaller digits, thinner
or fatter pens): a robustness check, not the set. One digit is redrawn in five steps:

    1. upscale the 28 × 28 digit ×UPSCALE (bilinear) and threshold it at INK_LEVEL: a binary shape
    2. thin the shape to a one-pixel skeleton (Zhang & Suen 1984, ``thin``) and cut off the
       short spurs that thinning leaves at corners (``prune``)
    3. join 8-connected skeleton pixels by segments: the pen's path (``skeleton_segments``)
    4. scale the path to a random size (longer side SIZE_RANGE px), put it at a random place on
       the canvas, and draw it with a round pen of random uniform width PEN_RANGE px
       (engine.digits.draw_strokes): the strokes a user would have drawn
    5. hand the canvas over in a random style (STYLES): white on black, black on white, or ink on a
       transparent RGBA canvas — and read it back with engine.digits.to_mnist, as the server does

Only MNIST *test* digits are used to measure the pretrained model; bench/pretrain.py never
sees this set.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from engine import digits  # noqa: E402

CANVAS = 280
UPSCALE = 3                 # skeletons are traced on the digit upscaled to 84 × 84
INK_LEVEL = 0.4             # pixel value (0..1) above which the upscaled digit counts as ink
SIZE_RANGE = (110, 250)     # longer side of the drawn skeleton, canvas pixels
PEN_RANGE = (8, 26)         # pen width, canvas pixels (the app's default pen is 18)
SPUR_LENGTH = 2 * UPSCALE  # skeleton branches this short are thinning artefacts, not strokes
STYLES = ("white_on_black", "black_on_white", "transparent_rgba")

# The eight neighbours P2..P9 of a pixel P1, clockwise from north, as (row, column) offsets.
NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def thin(shapes: np.ndarray) -> np.ndarray:
    """Zhang–Suen thinning of boolean images (n, h, w): one-pixel-wide skeletons, same shape.

    Each pass deletes, all at once, the ink pixels P1 with 2 ≤ B ≤ 6 ink neighbours and exactly
    A = 1 background→ink transition around P2, P3, ..., P9, P2, and — alternately —
    P2·P4·P6 = P4·P6·P8 = 0 (south-east boundary) or P2·P4·P8 = P2·P6·P8 = 0 (north-west);
    until neither pass deletes anything.
    """
    ink = np.pad(np.asarray(shapes, dtype=bool), ((0, 0), (1, 1), (1, 1)))
    h, w = ink.shape[1] - 2, ink.shape[2] - 2
    first = True
    unchanged = 0
    while unchanged < 2:
        P = [ink[:, 1 + dr:1 + dr + h, 1 + dc:1 + dc + w] for dr, dc in NEIGHBOURS]  # P2..P9
        B = np.zeros((len(ink), h, w), np.uint8)
        A = np.zeros((len(ink), h, w), np.uint8)
        for i in range(8):
            B += P[i]
            A += ~P[i] & P[(i + 1) % 8]
        P2, P4, P6, P8 = P[0], P[2], P[4], P[6]
        if first:
            side = ~(P2 & P4 & P6) & ~(P4 & P6 & P8)
        else:
            side = ~(P2 & P4 & P8) & ~(P2 & P6 & P8)
        delete = ink[:, 1:-1, 1:-1] & (B >= 2) & (B <= 6) & (A == 1) & side
        unchanged = 0 if delete.any() else unchanged + 1
        ink[:, 1:-1, 1:-1] &= ~delete
        first = not first
    return ink[:, 1:-1, 1:-1]


def neighbour_count(ink: np.ndarray) -> np.ndarray:
    """How many of its eight neighbours are ink, for every pixel of boolean images (n, h, w)."""
    padded = np.pad(ink, ((0, 0), (1, 1), (1, 1)))
    h, w = ink.shape[1:]
    count = np.zeros(ink.shape, np.uint8)
    for dr, dc in NEIGHBOURS:
        count += padded[:, 1 + dr:1 + dr + h, 1 + dc:1 + dc + w]
    return count


def prune(skeleton: np.ndarray, length: int) -> np.ndarray:
    """Skeletons (n, h, w) without their spurs: side branches of at most ``length`` pixels.

    Strip every end pixel (exactly one neighbour) ``length`` times — spurs vanish, strokes get
    shorter — then grow the remaining stroke ends back ``length`` times along the old skeleton.
    """
    trimmed = skeleton.copy()
    for _ in range(length):
        trimmed &= ~(trimmed & (neighbour_count(trimmed) == 1))
    front = trimmed & (neighbour_count(trimmed) == 1)
    for _ in range(length):
        front = skeleton & ~trimmed & (neighbour_count(front) > 0)
        trimmed |= front
    return trimmed


def skeletons(images: np.ndarray) -> np.ndarray:
    """MNIST images (n, 28, 28) uint8 → skeletons (n, 28·UPSCALE, 28·UPSCALE) bool, spurs pruned."""
    size = 28 * UPSCALE
    upscaled = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.Resampling.BILINEAR))
                         for im in images])
    skeleton = thin(upscaled >= 255 * INK_LEVEL)
    pruned = prune(skeleton, SPUR_LENGTH)
    emptied = ~pruned.any(axis=(1, 2))  # a digit made only of short strokes: keep it unpruned
    pruned[emptied] = skeleton[emptied]
    return pruned


def skeleton_segments(skeleton: np.ndarray) -> np.ndarray:
    """The pen path of one skeleton (h, w): segments (k, 2, 2) of (x, y) points, one per pair of
    8-connected skeleton pixels; a pixel with no neighbour is a zero-length segment (a dot)."""
    rows, cols = np.nonzero(skeleton)
    h, w = skeleton.shape
    padded = np.pad(skeleton, 1)
    segments = []
    for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):  # each pair once: right, down-left, down, down-right
        linked = padded[rows + 1 + dr, cols + 1 + dc]
        start = np.stack([cols[linked], rows[linked]], axis=1)
        segments.append(np.stack([start, start + (dc, dr)], axis=1))
    alone = np.ones(len(rows), bool)
    for dr, dc in NEIGHBOURS:
        alone &= ~padded[rows + 1 + dr, cols + 1 + dc]
    dots = np.stack([cols[alone], rows[alone]], axis=1)
    segments.append(np.stack([dots, dots], axis=1))
    return np.concatenate(segments).astype(np.float64)


@dataclass(frozen=True)
class Stroke:
    """How one digit is drawn on the canvas."""

    size: float            # longer side of the path's bounding box, canvas pixels
    pen_width: int
    x: float               # top-left corner of the path's bounding box
    y: float
    style: str


def random_stroke(segments: np.ndarray, rng: np.random.Generator, sizes=SIZE_RANGE, pens=PEN_RANGE) -> Stroke:
    """A random size in ``sizes``, pen width in ``pens``, position and style that keep the drawing on the canvas."""
    size = rng.uniform(*sizes)
    pen_width = int(rng.integers(pens[0], pens[1] + 1))
    extent = np.ptp(segments.reshape(-1, 2), axis=0)  # (width, height) in skeleton pixels
    scale = size / max(extent.max(), 1.0)
    margin = pen_width / 2 + 2
    room = CANVAS - 2 * margin - extent * scale
    x, y = margin + rng.uniform(0, 1, 2) * np.maximum(room, 0.0)
    return Stroke(size, pen_width, float(x), float(y), STYLES[rng.integers(len(STYLES))])


def draw(segments: np.ndarray, stroke: Stroke, rng: np.random.Generator):
    """The canvas a user would hand over: a PIL image in ``stroke.style``."""
    points = segments.reshape(-1, 2)
    scale = stroke.size / max(np.ptp(points, axis=0).max(), 1.0)
    placed = (segments - points.min(axis=0)) * scale + (stroke.x, stroke.y)
    q = digits.draw_strokes(placed.tolist(), size=CANVAS, pen_width=stroke.pen_width)  # 255 = ink
    return in_style(q, stroke.style, rng)


def in_style(q: np.ndarray, style: str, rng: np.random.Generator):
    """An ink map q (h, w) uint8 (255 = ink) as a PIL image in one of the STYLES."""
    if style == "white_on_black":
        return Image.fromarray(q, "L")
    if style == "black_on_white":
        return Image.fromarray(np.repeat(255 - q[..., None], 3, axis=2), "RGB")
    colour = rng.integers(0, 256, 3).astype(np.uint8)  # ink of any colour; only alpha says where it is
    rgba = np.zeros(q.shape + (4,), np.uint8)
    rgba[q > 0, :3] = colour
    rgba[..., 3] = q
    return Image.fromarray(rgba, "RGBA")


def drawn_set(images: np.ndarray, seed: int = 0, sizes=SIZE_RANGE, pens=PEN_RANGE) -> tuple[np.ndarray, list[Stroke]]:
    """MNIST images (n, 28, 28) uint8 → their redrawn, re-read versions (n, 784) float32 in [0, 1]
    (engine.digits.to_mnist of each canvas) and how each was drawn, at sizes (longer side) and pen
    widths in canvas pixels from the given ranges. Deterministic from ``seed``."""
    rng = np.random.default_rng(seed)
    X, strokes = np.empty((len(images), 784), np.float32), []
    for start in range(0, len(images), 1000):
        for i, skeleton in enumerate(skeletons(images[start:start + 1000]), start=start):
            segments = skeleton_segments(skeleton)
            stroke = random_stroke(segments, rng, sizes, pens)
            X[i] = digits.to_mnist(draw(segments, stroke, rng)).ravel()
            strokes.append(stroke)
    return X, strokes


def accuracy_by_style(network, X: np.ndarray, labels: np.ndarray, strokes: list[Stroke]) -> dict[str, float]:
    """{"all": accuracy, style: accuracy, ...} of ``network`` on a drawn set."""
    correct = network.classify(network.forward(X)) == labels
    styles = np.array([s.style for s in strokes])
    result = {"all": float(correct.mean())}
    for style in STYLES:
        if (styles == style).any():
            result[style] = float(correct[styles == style].mean())
    return result


def save_examples(path: Path, images: np.ndarray, seed: int, count: int = 12) -> None:
    """A picture: each row an MNIST digit, its canvas (shrunk) and what to_mnist made of it."""
    rng = np.random.default_rng(seed)
    tiles = []
    for skeleton, image in zip(skeletons(images[:count]), images[:count]):
        segments = skeleton_segments(skeleton)
        canvas = draw(segments, random_stroke(segments, rng), rng)
        shown = Image.alpha_composite(Image.new("RGBA", canvas.size, (200, 220, 200, 255)), canvas.convert("RGBA")) \
            if canvas.mode == "RGBA" else canvas
        row = Image.new("L", (3 * 112, 112))
        row.paste(Image.fromarray(image).resize((112, 112), Image.Resampling.NEAREST), (0, 0))
        row.paste(shown.convert("L").resize((112, 112), Image.Resampling.BILINEAR), (112, 0))
        read = (digits.to_mnist(canvas) * 255).round().astype(np.uint8)
        row.paste(Image.fromarray(read).resize((112, 112), Image.Resampling.NEAREST), (224, 0))
        tiles.append(row)
    sheet = Image.new("L", (2 * 3 * 112 + 8, (len(tiles) + 1) // 2 * 112), 128)
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % 2) * (3 * 112 + 8), (i // 2) * 112))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def mnist_dir() -> Path:
    """$NNPLAY_DATA_DIR if set, else ../shared/mnist beside the repo (as the tests look for it)."""
    return Path(os.environ["NNPLAY_DATA_DIR"]) if os.environ.get("NNPLAY_DATA_DIR") else REPO.parent / "shared" / "mnist"


def main():
    from engine import mnist, modelfile

    parser = argparse.ArgumentParser(description="Build the drawn-digit set and measure a model on it.")
    parser.add_argument("--model", type=Path, default=REPO / "engine" / "pretrained" / "digits.npz")
    parser.add_argument("--split", choices=("train", "test"), default="test")
    parser.add_argument("--n", type=int, default=10000, help="how many digits (the first n of the split)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="MNIST folder (default: $NNPLAY_DATA_DIR, else ../shared/mnist beside the repo)")
    parser.add_argument("--examples", type=Path, default=None, help="also save a PNG of a few examples")
    parser.add_argument("--printed", type=int, default=5000, help="printed digits in held-out fonts (0: none)")
    parser.add_argument("--sizes", type=int, nargs=2, default=SIZE_RANGE, metavar=("LOW", "HIGH"),
                        help="longer side of the drawn digits, canvas px (the set: %(default)s)")
    parser.add_argument("--pens", type=int, nargs=2, default=PEN_RANGE, metavar=("LOW", "HIGH"),
                        help="pen widths, canvas px (the set: %(default)s)")
    args = parser.parse_args()
    largest = CANVAS - args.pens[1] - 4  # the drawing, its pen and a 2 px margin on each side fit the canvas
    if not 1 <= args.sizes[0] <= args.sizes[1] <= largest:
        parser.error(f"--sizes={args.sizes} is out of range: LOW <= HIGH, from 1 to {largest} with pens up to {args.pens[1]} px")
    if not 1 <= args.pens[0] <= args.pens[1] <= CANVAS // 4:
        parser.error(f"--pens={args.pens} is out of range: LOW <= HIGH, from 1 to {CANVAS // 4}")
    images, labels = mnist.load(args.split, args.data_dir or mnist_dir())
    images, labels = images[:args.n], labels[:args.n]
    if args.examples:
        save_examples(args.examples, images, args.seed)
    X, strokes = drawn_set(images, args.seed, args.sizes, args.pens)
    network, meta = modelfile.load(args.model)
    plain = network.accuracy(images.reshape(len(images), -1) / 255.0, labels)
    print(f"model {args.model} ({'-'.join(map(str, network.sizes))}, {len(network.layers)} layers)")
    print(f"{len(images)} MNIST {args.split} digits, seed {args.seed}: plain accuracy {plain:.4f}; "
          f"drawn at sizes {args.sizes[0]}-{args.sizes[1]} px with pens of {args.pens[0]}-{args.pens[1]} px")
    for name, value in accuracy_by_style(network, X, labels, strokes).items():
        print(f"drawn accuracy, {name}: {value:.4f}")
    if args.printed:
        from bench import printed_digits

        X, labels, info = printed_digits.printed_set(printed_digits.fonts("held_out"), args.printed, args.seed)
        by = printed_digits.accuracy_by(network, X, labels, info)
        for name in ("all", *STYLES):
            print(f"printed accuracy (held-out fonts), {name}: {by[name]:.4f}")


if __name__ == "__main__":
    main()
