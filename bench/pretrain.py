"""Train the pretrained digit models with the project's own trainer.

    python bench/pretrain.py --arch cnn           # engine/pretrained/digits.npz (`make model`)
    python bench/pretrain.py                      # engine/pretrained/digits_dense.npz, the 784-256-128-10 MLP
    python bench/pretrain.py [--arch cnn] --holdout 10000
                                                  # development: hold out the last 10,000 training digits
                                                  # and report on them instead of the test set

Both are trained on the 60,000 MNIST training digits only, with Adam and a cosine-decaying learning
rate, softmax + cross-entropy, He initialisation. First the training digits are redrawn once as on
the app's canvas (bench/drawn_digits.py: skeleton, random size, position, pen width and style,
engine.digits.to_mnist). Every epoch then takes each digit from that redrawn copy with probability
--drawn-fraction (dense 0.3, cnn 0.8), else the MNIST original, and augments it afresh from
``np.random.default_rng([seed, epoch])`` (bench/augment.py: stroke width, rotation, scale, shear,
shift, wobble).

    dense   784-256-128-10 relu, 30 epochs, batch 128; the training set is redrawn in one pass
            with seed + 1 (the committed digits_dense.npz, unchanged by the CNN's arrival)
    cnn     CNN_LAYERS: conv 5×5×16 valid → pool → conv 5×5×32 valid → pool → dense 128 → 10, relu;
            40 epochs, batch 64, 80 % of each epoch from one of 3 redrawn copies, made in chunks of
            REDRAW_CHUNK with seeds [seed + 1, copy, chunk] by --workers processes; each epoch also
            holds --printed-per-epoch digits printed in the *training* fonts (bench/printed_digits.py),
            drawn from a pool of --printed renders made once (seeds [seed + 2, chunk]), augmented
            like the rest. A second process prepares the next epoch's data while this one trains.

Nothing is chosen on the test set: settings were picked with --holdout 10000 (bench/README.md lists
the runs). The final model is measured once: on the test set, the drawn test digits
(bench/drawn_digits.py, seed 0) and, for the CNN, digits printed in the held-out font families
(bench/printed_digits.py, seed 0); those figures go into the file's ``meta``. Weights are rounded
to float16 precision (stored as float32) to keep the file small. Same seed, fonts and thread
count → the same weights.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = {"dense": REPO / "engine" / "pretrained" / "digits_dense.npz", "cnn": REPO / "engine" / "pretrained" / "digits.npz"}
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CNN_LAYERS = [
    {"type": "conv", "size": 5, "channels": 16, "padding": "valid", "activation": "relu"}, {"type": "pool"},
    {"type": "conv", "size": 5, "channels": 32, "padding": "valid", "activation": "relu"}, {"type": "pool"},
    {"type": "flatten"}, {"type": "dense", "size": 128, "activation": "relu"},
    {"type": "dense", "size": 10, "activation": "softmax"}]
DEFAULTS = {  # per --arch, for the options given as None
    "dense": {"epochs": 30, "batch_size": 128, "drawn_fraction": 0.3, "redraws": 1, "printed": 0, "printed_per_epoch": 0},
    # cnn: the best of the --holdout 10000 runs on both holdout and drawn holdout (bench/README.md)
    "cnn": {"epochs": 40, "batch_size": 64, "drawn_fraction": 0.8, "redraws": 3, "printed": 20000, "printed_per_epoch": 8000},
}
CHUNK = 1000               # images augmented at once (keeps the temporaries in the cache)
REDRAW_CHUNK = 5000        # digits redrawn (or printed) per task of the CNN's worker processes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train a pretrained digit model.")
    parser.add_argument("--arch", choices=tuple(OUT), default="dense")
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 128], help="dense: hidden layer widths")
    parser.add_argument("--layers", type=json.loads, default=CNN_LAYERS, help="cnn: the layer spec, as JSON")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", type=float, default=0.001, help="Adam's η at the start (cosine decay to 0)")
    parser.add_argument("--drawn-fraction", type=float,
                        help="share of each epoch's digits taken from the redrawn copy of the training set")
    parser.add_argument("--redraws", type=int, help="cnn: redrawn copies of the training set")
    parser.add_argument("--printed", type=int, help="cnn: printed digits rendered once in the training fonts")
    parser.add_argument("--printed-per-epoch", type=int, help="cnn: printed digits added to each epoch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", type=int, default=0,
                        help="hold out the last N training digits and report on them (development only)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1, for reproducible files)")
    parser.add_argument("--workers", type=int, default=2, help="cnn: processes that redraw, print and augment")
    parser.add_argument("--out", type=Path, default=None, help="model file (default by --arch; with --holdout: none)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="cnn, development: keep the redrawn and printed digits in this folder and reuse them")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="MNIST folder (default: $NNPLAY_DATA_DIR, else ../shared/mnist beside the repo)")
    args = parser.parse_args(argv)
    for name, value in DEFAULTS[args.arch].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not 0 <= args.drawn_fraction <= 1:
        parser.error(f"--drawn-fraction={args.drawn_fraction} is out of range: must be between 0 and 1")
    if args.holdout and not 0 < args.holdout < 60000:
        parser.error(f"--holdout={args.holdout} is out of range: must be between 1 and 59999")
    if args.arch == "dense" and args.redraws != 1 or args.redraws < 1:
        parser.error(f"--redraws={args.redraws} is out of range: 1 or more for --arch cnn, 1 for dense")
    if not 0 <= args.printed_per_epoch <= args.printed:
        parser.error(f"--printed-per-epoch={args.printed_per_epoch} is out of range: must be 0..--printed={args.printed}")
    return args


if __name__ == "__main__":  # the thread count must be set before numpy loads its BLAS
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(parse_args().threads)))
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench import drawn_digits, printed_digits  # noqa: E402
from bench.augment import augment  # noqa: E402
from bench.malloc import keep_freed_memory  # noqa: E402
from engine import mnist, modelfile  # noqa: E402
from engine.network import Network  # noqa: E402
from engine.optim import make_optimizer  # noqa: E402
from engine.train import Trainer  # noqa: E402


def augmented_epoch(images, labels, redrawn, drawn_fraction, seed, epoch, printed=None, printed_labels=None,
                    printed_per_epoch=0):
    """One epoch's training rows (n, 784) and their labels (n,): each digit augmented, from one of the
    redrawn copies (r, n, 28, 28) with probability ``drawn_fraction``, else from the MNIST original;
    then ``printed_per_epoch`` digits picked from the printed pool, augmented too."""
    rng = np.random.default_rng([seed, epoch])
    use = rng.random(len(images)) < drawn_fraction
    copy = rng.integers(0, len(redrawn), len(images)) if len(redrawn) > 1 else 0  # one of the redrawn copies
    source = np.where(use[:, None, None], redrawn[copy, np.arange(len(images))], images)
    if printed_per_epoch:
        chosen = rng.choice(len(printed), printed_per_epoch, replace=False)
        source, labels = np.concatenate([source, printed[chosen]]), np.concatenate([labels, printed_labels[chosen]])
    return np.concatenate([augment(source[i:i + CHUNK], rng) for i in range(0, len(source), CHUNK)]), labels


def redraw_chunk(images, seed, copy, chunk):
    return as_uint8(drawn_digits.drawn_set(images, seed=[seed, copy, chunk])[0], images.shape)


def print_chunk(fonts, n, seed, chunk):
    X, labels, _ = printed_digits.printed_set(fonts, n, seed=[seed, chunk])
    return as_uint8(X, (n, 28, 28)), labels


def as_uint8(X, shape):
    return np.round(X * 255).astype(np.uint8).reshape(shape)


def round_to_float16(network):
    """Round every weight to float16 precision, kept as float32: the file compresses to about half."""
    for W in network.parameters():
        W[...] = W.astype(np.float16)


def prepare(args, images, pool):
    """(redrawn copies of ``images`` (r, n, 28, 28), printed pool uint8 (m, 28, 28), its labels (m,))."""
    no_printed = np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    if args.arch == "dense":  # one sequential pass, as the committed dense model was made
        if args.drawn_fraction == 0:
            return (images[None], *no_printed)
        X, _ = drawn_digits.drawn_set(images, seed=args.seed + 1)  # the test set is drawn with seed 0
        return (as_uint8(X, images.shape)[None], *no_printed)
    tasks = [(c, s) for c in range(args.redraws) for s in range(0, len(images), REDRAW_CHUNK)] if args.drawn_fraction else []
    redrawn = pool.map(redraw_chunk, [images[s:s + REDRAW_CHUNK] for _, s in tasks], [args.seed + 1] * len(tasks),
                       [c for c, _ in tasks], [s for _, s in tasks])
    fonts = printed_digits.fonts("training")
    sizes = [min(REDRAW_CHUNK, args.printed - s) for s in range(0, args.printed, REDRAW_CHUNK)]
    printed = list(pool.map(print_chunk, [fonts] * len(sizes), sizes, [args.seed + 2] * len(sizes), range(len(sizes))))
    redrawn = np.concatenate(list(redrawn)).reshape(-1, *images.shape) if args.drawn_fraction else images[None]
    if not printed:
        return (redrawn, *no_printed)
    return redrawn, np.concatenate([p for p, _ in printed]), np.concatenate([labels for _, labels in printed])


def build(args):
    if args.arch == "dense":
        sizes = [784, *args.hidden, 10]
        return Network.create(sizes, ["relu"] * len(args.hidden) + ["softmax"], "cross_entropy", init="he", seed=args.seed)
    return Network.from_spec([28, 28, 1], args.layers, "cross_entropy", init="he", seed=args.seed)


def describe(net) -> str:
    if net.is_dense:
        return f"{'-'.join(map(str, net.sizes))}, relu hidden layers, softmax + cross-entropy"
    parts = {"conv": lambda s: f"conv {s['size']}×{s['size']}×{s['channels']} {s['padding']}", "pool": lambda s: "max-pool 2×2",
             "flatten": lambda s: "flatten", "dense": lambda s: f"dense {s['size']}"}
    return " → ".join(parts[s["type"]](s) for s in net.spec) + ", relu, softmax + cross-entropy"


def train(args, net, images, labels, redrawn, printed, printed_labels, pool, report):
    """The epochs (module docstring); ``report(epoch, losses)`` after each."""
    optimizer = make_optimizer("adam", args.learning_rate)
    epoch_data = lambda e: (images, labels, redrawn, args.drawn_fraction, args.seed, e,  # noqa: E731
                            printed, printed_labels, args.printed_per_epoch)
    upcoming = pool.submit(augmented_epoch, *epoch_data(0)) if pool else None
    for epoch in range(args.epochs):
        optimizer.learning_rate = max(args.learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / args.epochs)), 1e-7)
        X, epoch_labels = upcoming.result() if pool else augmented_epoch(*epoch_data(epoch))
        if pool and epoch + 1 < args.epochs:  # the next epoch's data is made while this one trains
            upcoming = pool.submit(augmented_epoch, *epoch_data(epoch + 1))
        trainer = Trainer(net, X, net.targets(epoch_labels), optimizer, batch_size=args.batch_size,
                          seed=args.seed * 1000 + epoch)
        report(epoch, [trainer.step().loss for _ in range(trainer.steps_per_epoch)])


def main(argv=None):
    args = parse_args(argv)
    keep_freed_memory()
    data_dir = args.data_dir or drawn_digits.mnist_dir()
    images, labels = mnist.load("train", data_dir)
    if args.holdout:
        check_images, check_labels, check_name = images[-args.holdout:], labels[-args.holdout:], "holdout"
        images, labels = images[:-args.holdout], labels[:-args.holdout]
    else:
        check_images, check_labels = mnist.load("test", data_dir)
        check_name = "test"
    net = build(args)
    X_check = check_images.reshape(len(check_images), -1).astype(np.float32) / 255.0
    print(f"{describe(net)}; adam η={args.learning_rate:g} cosine, batch {args.batch_size}, {args.epochs} epochs on "
          f"{len(images)} digits + {args.printed_per_epoch} printed, seed {args.seed}, threads {args.threads}", flush=True)
    start = time.perf_counter()
    pool = ProcessPoolExecutor(args.workers) if args.arch == "cnn" else None
    try:
        cached = args.cache and args.cache / f"prepared-{args.seed}-{len(images)}-{args.drawn_fraction > 0}-{args.redraws}-{args.printed}.npz"
        if cached and cached.is_file():
            with np.load(cached) as npz:
                redrawn, printed, printed_labels = npz["redrawn"], npz["printed"], npz["printed_labels"]
        else:
            redrawn, printed, printed_labels = prepare(args, images, pool)
            if cached:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.savez(cached, redrawn=redrawn, printed=printed, printed_labels=printed_labels)
        print(f"redrew the {len(images)} training digits and printed {len(printed)}: "
              f"{time.perf_counter() - start:.0f} s", flush=True)

        def report(epoch, losses):
            if epoch % 5 == 4 or epoch == args.epochs - 1:
                held_out = f"holdout accuracy {net.accuracy(X_check, check_labels):.4f}  " if args.holdout else ""
                print(f"epoch {epoch + 1:3d}  train loss {np.mean(losses):.4f}  {held_out}"
                      f"{time.perf_counter() - start:.0f} s", flush=True)
        train(args, net, images, labels, redrawn, printed, printed_labels, pool, report)
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    training_seconds = round(time.perf_counter() - start)
    round_to_float16(net)
    scores = {f"{check_name}_accuracy": net.accuracy(X_check, check_labels)}  # MNIST test set (or the holdout)
    X_drawn, strokes = drawn_digits.drawn_set(check_images, seed=0)               # the same digits drawn, seed 0
    scores[f"drawn_{check_name}_accuracy_by_style"] = drawn_digits.accuracy_by_style(net, X_drawn, check_labels, strokes)
    scores[f"drawn_{check_name}_accuracy"] = scores[f"drawn_{check_name}_accuracy_by_style"]["all"]
    if args.arch == "cnn":
        X_p, labels_p, info = printed_digits.printed_set(printed_digits.fonts("held_out"), 5000, seed=0)
        by = printed_digits.accuracy_by(net, X_p, labels_p, info)
        scores["printed_held_out_fonts_accuracy"] = by["all"]
        scores["printed_held_out_fonts_accuracy_by_style"] = {k: by[k] for k in ("all", *drawn_digits.STYLES) if k in by}
    print(json.dumps(scores, indent=1))
    out = args.out or (None if args.holdout else OUT[args.arch])
    if out is None:
        print("--holdout without --out: no model file written")
        return
    options = shlex.join(argv if argv is not None else sys.argv[1:])
    trained_on = (f"MNIST train ({len(images)} digits) only; each epoch augmented afresh, {args.drawn_fraction:.0%} "
                  f"of it from a redrawn copy (bench/drawn_digits.py, seed {args.seed + 1})")
    if args.printed_per_epoch:
        trained_on += (f"; plus {args.printed_per_epoch} digits per epoch from {len(printed)} printed in the "
                       f"training fonts (bench/printed_digits.py: {len(printed_digits.fonts('training'))} files)")
    meta = {
        "name": "digits" if args.arch == "dense" else "digits_cnn", "architecture": describe(net), **scores,
        "trained_on": trained_on, "epochs": args.epochs, "batch_size": args.batch_size,
        "drawn_fraction": args.drawn_fraction, "optimizer": f"adam, learning rate {args.learning_rate:g} with cosine decay to 0",
        "seed": args.seed, "threads": args.threads, "weights": "rounded to float16 precision, stored as float32",
        "command": f"python bench/pretrain.py {options}".strip(), "training_seconds": training_seconds,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    modelfile.save(net, out, meta)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
