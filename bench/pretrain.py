"""Train the default digit model, engine/pretrained/digits.npz, with the project's own trainer.

    python bench/pretrain.py                      # the committed model (`make model`)
    python bench/pretrain.py --holdout 10000      # development: hold out the last 10,000 training
                                                  # digits and report on them instead of the test set

An MLP (784-256-128-10, relu; softmax + cross-entropy; He initialisation), Adam with a
cosine-decaying learning rate, trained on the 60,000 MNIST training digits only.

First the training digits are redrawn once as on the app's canvas (bench/drawn_digits.py, seed + 1:
skeleton, random size, position, pen width and style, engine.digits.to_mnist). Every epoch then
takes each digit from that redrawn copy with probability --drawn-fraction (0.3), else the MNIST
original, and augments it afresh from ``np.random.default_rng([seed, epoch])`` (``augment``):

    stroke width   blend towards a grey erosion (thinner) or one or two grey dilations (thicker)
                   with the 4-neighbourhood: w ~ U(WIDTH_RANGE), −1 = eroded, 0 = as is, 2 = dilated twice
    affine         rotation ~ U(±ROTATION°), scale ~ U(SCALE_RANGE) per axis, shear ~ U(±SHEAR),
                   shift ~ U(±SHIFT px) per axis, about the image centre
    wobble         a smooth random displacement field (a 4 × 4 grid of N(0, WOBBLE²) px offsets,
                   interpolated bilinearly), like the unsteady hand of a person drawing
    sampling       bilinear, zero outside the image

Nothing is chosen on the test set: the settings were picked with --holdout 10000 (plain and
drawn accuracy on the last 10,000 *training* digits; bench/README.md lists the runs). The final
model is measured once, on the test set and on the drawn test digits (bench/drawn_digits.py,
seed 0), and those figures go into the file's ``meta``. Weights are rounded to float16 precision (stored as float32) to keep the file small.
Same seed and thread count → the same weights.
"""
from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "engine" / "pretrained" / "digits.npz"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

WIDTH_RANGE = (-0.6, 1.6)
ROTATION = 15.0
SCALE_RANGE = (0.85, 1.15)
SHEAR = 0.2
SHIFT = 2.0
WOBBLE = 0.8
CHUNK = 1000               # images augmented at once (keeps the temporaries in the cache)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train engine/pretrained/digits.npz.")
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 128], help="hidden layer widths")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=0.001, help="Adam's η at the start (cosine decay to 0)")
    parser.add_argument("--drawn-fraction", type=float, default=0.3,
                        help="share of each epoch's digits taken from the redrawn copy of the training set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", type=int, default=0,
                        help="hold out the last N training digits and report on them (development only)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1, for reproducible files)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"model file (default {DEFAULT_OUT.relative_to(REPO)}; with --holdout: none)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="MNIST folder (default: $NNPLAY_DATA_DIR, else ../shared/mnist beside the repo)")
    args = parser.parse_args(argv)
    if not 0 <= args.drawn_fraction <= 1:
        parser.error(f"--drawn-fraction={args.drawn_fraction} is out of range: must be between 0 and 1")
    if args.holdout and not 0 < args.holdout < 60000:
        parser.error(f"--holdout={args.holdout} is out of range: must be between 1 and 59999")
    return args


if __name__ == "__main__":  # the thread count must be set before numpy loads its BLAS
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(parse_args().threads)))
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench import drawn_digits  # noqa: E402
from engine import mnist, modelfile  # noqa: E402
from engine.network import Network  # noqa: E402
from engine.optim import make_optimizer  # noqa: E402
from engine.train import Trainer  # noqa: E402


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


def augmented_epoch(images, redrawn, drawn_fraction, seed, epoch):
    """One epoch's training rows (n, 784): each digit augmented, from the redrawn copy with
    probability ``drawn_fraction``, else from the MNIST original."""
    rng = np.random.default_rng([seed, epoch])
    source = np.where((rng.random(len(images)) < drawn_fraction)[:, None, None], redrawn, images)
    return np.concatenate([augment(source[i:i + CHUNK], rng) for i in range(0, len(source), CHUNK)])


def round_to_float16(network):
    """Round every weight to float16 precision, kept as float32: the file compresses to about half."""
    for layer in network.layers:
        layer.W[...] = layer.W.astype(np.float16)
        layer.b[...] = layer.b.astype(np.float16)


def main(argv=None):
    args = parse_args(argv)
    data_dir = args.data_dir or drawn_digits.mnist_dir()
    images, labels = mnist.load("train", data_dir)
    if args.holdout:
        check_images, check_labels, check_name = images[-args.holdout:], labels[-args.holdout:], "holdout"
        images, labels = images[:-args.holdout], labels[:-args.holdout]
    else:
        check_images, check_labels = mnist.load("test", data_dir)
        check_name = "test"
    sizes = [784, *args.hidden, 10]
    net = Network.create(sizes, ["relu"] * len(args.hidden) + ["softmax"], "cross_entropy", init="he", seed=args.seed)
    Y = net.targets(labels)
    optimizer = make_optimizer("adam", args.learning_rate)
    X_check = check_images.reshape(len(check_images), -1).astype(np.float32) / 255.0
    print(f"{'-'.join(map(str, sizes))} relu/softmax, adam η={args.learning_rate:g} cosine, batch {args.batch_size}, "
          f"{args.epochs} epochs on {len(images)} digits, seed {args.seed}, threads {args.threads}", flush=True)
    start = time.perf_counter()
    redrawn = images
    if args.drawn_fraction > 0:
        X_redrawn, _ = drawn_digits.drawn_set(images, seed=args.seed + 1)  # the test set is drawn with seed 0
        redrawn = np.round(X_redrawn * 255).astype(np.uint8).reshape(images.shape)
        print(f"redrew the {len(images)} training digits: {time.perf_counter() - start:.0f} s", flush=True)
    for epoch in range(args.epochs):
        optimizer.learning_rate = max(args.learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / args.epochs)), 1e-7)
        X = augmented_epoch(images, redrawn, args.drawn_fraction, args.seed, epoch)
        trainer = Trainer(net, X, Y, optimizer, batch_size=args.batch_size, seed=args.seed * 1000 + epoch)
        losses = [trainer.step().loss for _ in range(trainer.steps_per_epoch)]
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            held_out = f"holdout accuracy {net.accuracy(X_check, check_labels):.4f}  " if args.holdout else ""
            print(f"epoch {epoch + 1:3d}  η={optimizer.learning_rate:.2e}  train loss {np.mean(losses):.4f}  "
                  f"{held_out}{time.perf_counter() - start:.0f} s", flush=True)
    round_to_float16(net)
    accuracy = net.accuracy(X_check, check_labels)
    X_drawn, strokes = drawn_digits.drawn_set(check_images, seed=0)
    drawn = drawn_digits.accuracy_by_style(net, X_drawn, check_labels, strokes)
    print(f"{check_name}: accuracy {accuracy:.4f}; drawn {check_name} digits (seed 0): " +
          ", ".join(f"{k} {v:.4f}" for k, v in drawn.items()))
    out = args.out or (None if args.holdout else DEFAULT_OUT)
    if out is None:
        print("--holdout without --out: no model file written")
        return
    options = shlex.join(argv if argv is not None else sys.argv[1:])
    meta = {
        "name": "digits",
        "architecture": f"{'-'.join(map(str, sizes))}, relu hidden layers, softmax + cross-entropy",
        f"{check_name}_accuracy": accuracy,                  # MNIST test set (or the holdout), 28 × 28 as given
        f"drawn_{check_name}_accuracy": drawn["all"],        # the same digits redrawn on a canvas, seed 0
        f"drawn_{check_name}_accuracy_by_style": drawn,
        "trained_on": f"MNIST train ({len(images)} digits) only; each epoch augmented afresh, "
                      f"{args.drawn_fraction:.0%} of it from a redrawn copy (bench/drawn_digits.py, seed {args.seed + 1})",
        "epochs": args.epochs, "batch_size": args.batch_size, "drawn_fraction": args.drawn_fraction,
        "optimizer": f"adam, learning rate {args.learning_rate:g} with cosine decay to 0",
        "seed": args.seed, "threads": args.threads, "weights": "rounded to float16 precision, stored as float32",
        "command": f"python bench/pretrain.py {options}".strip(),
        "training_seconds": round(time.perf_counter() - start),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    modelfile.save(net, out, meta)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
