"""How fast is the engine? One MNIST epoch, engine vs PyTorch vs the bare matrix products.

    python bench/engine_speed.py [--threads 1] [--repeats 3] [--batches 32 64 128 256]

The model: 784-128-64-10, relu hidden layers, softmax + cross-entropy, plain SGD (η = 0.05),
float32, He initialisation from seed 0. One epoch = ceil(60000 / batch) steps over one shuffled
order of the 60,000 training images, the same order and the same initial weights for every
contestant:

    engine   engine.train.Trainer.step() — batch gathering, forward, loss, backprop, gradient
             norms, SGD update (no labels, so no per-step accuracy)
    torch    the same loop in PyTorch eager on the CPU: index the batch, x @ W + b, relu,
             F.cross_entropy, backward(), torch.optim.SGD.step(), loss.item()
    flat     the same step written as one flat NumPy loop: every buffer preallocated, no checks,
             no statistics but the loss and the gradient norms. What any NumPy engine could get
             at best; the engine's distance from it is the cost of being a library
    floor    only the matrix products of the same steps, on batches sliced before the clock
             starts, into preallocated outputs: forward X·W ×3, dW = aᵀ·δ ×3, δ·Wᵀ ×2

The contestants take turns, one epoch each, ``--repeats`` rounds (after a short warm-up), and
each figure is its best epoch: a noisy neighbour slows all of them alike. NumPy's BLAS and torch
run with the same thread count (``--threads``, default 1), set before either library loads.
Then the same race for the pretrained CNN (bench/cnn_race.py: engine vs torch, ``--cnn-batch``),
and the inference time of both pretrained digit models on one 784-vector. The last lines are
``ratio_vs_torch=<x> ratio_vs_floor=<y>`` for the dense network at batch 64 and
``cnn_ratio_vs_torch=<z>`` (engine seconds per epoch divided by the other's).
PyTorch is optional: without it the torch column says so and the torch ratios are ``nan``.
The process first keeps freed memory for reuse (bench/malloc.py; both contestants run in it);
``--default-malloc`` leaves glibc's defaults.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = [784, 128, 64, 10]
LEARNING_RATE = 0.05
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="epochs timed per contestant; the best counts")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="MNIST folder (default: $NNPLAY_DATA_DIR, else ../shared/mnist beside the repo)")
    parser.add_argument("--model", type=Path, default=REPO / "engine" / "pretrained" / "digits_dense.npz")
    parser.add_argument("--cnn-model", type=Path, default=REPO / "engine" / "pretrained" / "digits.npz",
                        help="the CNN raced (its architecture) and timed for inference")
    parser.add_argument("--cnn-batch", type=int, default=64)
    parser.add_argument("--cnn-layers", type=json.loads, default=None,
                        help="race this layer spec (JSON) instead of the pretrained CNN's")
    parser.add_argument("--default-malloc", action="store_true", help="leave glibc's malloc settings alone")
    return parser.parse_args()


args = parse_args()
for variable in THREAD_VARIABLES:  # must happen before numpy or torch is imported
    os.environ[variable] = str(args.threads)
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench import cnn_race  # noqa: E402
from bench.malloc import keep_freed_memory  # noqa: E402
from engine import mnist, modelfile  # noqa: E402
from engine.network import Network  # noqa: E402
from engine.optim import make_optimizer  # noqa: E402
from engine.train import Trainer  # noqa: E402

try:
    import torch  # noqa: E402
    import torch.nn.functional as F  # noqa: E402
except ImportError:
    torch = None


def data_dir() -> Path:
    if args.data_dir is not None:
        return args.data_dir
    if os.environ.get("NNPLAY_DATA_DIR"):
        return Path(os.environ["NNPLAY_DATA_DIR"])
    return REPO.parent / "shared" / "mnist"


def fresh_network() -> Network:
    return Network.create(SIZES, ["relu", "relu", "softmax"], "cross_entropy", init="he", seed=0)


def race(contestants: dict, repeats: int) -> dict:
    """Best seconds per epoch of each contestant (name -> run_epoch), taking turns for ``repeats`` rounds."""
    best = {name: math.inf for name in contestants}
    for _ in range(repeats):
        for name, run_epoch in contestants.items():
            start = time.perf_counter()
            run_epoch()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def engine_epoch(X, Y, batch: int):
    net = fresh_network()
    trainer = Trainer(net, X, Y, make_optimizer("sgd", LEARNING_RATE), batch_size=batch, seed=0)
    for _ in range(20):
        trainer.step()

    def epoch():
        for _ in range(trainer.steps_per_epoch):
            trainer.step()
    return epoch


def torch_model(X, labels):
    """(step(rows) -> loss, parameters): the engine's network and SGD step in PyTorch."""
    params = []
    for layer in fresh_network().layers:
        params += [torch.tensor(layer.W, requires_grad=True), torch.tensor(layer.b, requires_grad=True)]
    W1, b1, W2, b2, W3, b3 = params
    optimizer = torch.optim.SGD(params, lr=LEARNING_RATE)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(labels.astype(np.int64))

    def step(rows):
        x, y = X_t[rows], y_t[rows]
        logits = torch.relu(torch.relu(x @ W1 + b1) @ W2 + b2) @ W3 + b3
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step, params


def same_work(X, Y, labels, order, batch: int = 64, steps: int = 50) -> dict:
    """Largest |weight difference| from the engine's, per other contestant, after the same first
    ``steps`` steps."""
    trainer = Trainer(fresh_network(), X, Y, make_optimizer("sgd", LEARNING_RATE), batch_size=batch, seed=0)
    flat_step, flat_params = flat_model(X, Y)
    if torch is not None:
        torch_step, torch_params = torch_model(X, labels)
        order_t = torch.from_numpy(order)
    for s in range(steps):
        trainer.step()  # its first epoch visits ``order`` too
        flat_step(order[s * batch:(s + 1) * batch])
        if torch is not None:
            torch_step(order_t[s * batch:(s + 1) * batch])
    engine = trainer.network.parameters()
    others = {"flat": flat_params}
    if torch is not None:
        others["torch"] = [p.detach().numpy() for p in torch_params]
    return {name: max(float(np.abs(e - p).max()) for e, p in zip(engine, params)) for name, params in others.items()}


def epoch_of(step, order, batch: int):
    """run_epoch() for a step(rows) function: one pass over ``order`` in batches, after a 20-step warm-up."""
    starts = range(0, len(order), batch)
    for start in starts[:20]:
        step(order[start:start + batch])

    def epoch():
        for start in starts:
            step(order[start:start + batch])
    return epoch


def torch_epoch(X, labels, order, batch: int):
    return epoch_of(torch_model(X, labels)[0], torch.from_numpy(order), batch)


def flat_model(X, Y):
    """(step(rows) -> (loss, gradient norms), parameters): the engine's step as a flat NumPy loop
    into preallocated buffers (see the module docstring)."""
    W = [layer.W for layer in fresh_network().layers]
    b = [np.zeros(w.shape[1], np.float32) for w in W]
    buffers = {}

    def buffers_for(n):
        if n not in buffers:
            buffers[n] = (np.empty((n, SIZES[0]), np.float32), np.empty((n, SIZES[-1]), np.float32),
                          [np.empty((n, k), np.float32) for k in SIZES[1:]],
                          [np.empty((n, k), np.float32) for k in SIZES[1:-1]], [np.empty_like(w) for w in W])
        return buffers[n]

    def step(rows):
        X_b, Y_b, z, grad_a, dW = buffers_for(len(rows))
        np.take(X, rows, axis=0, out=X_b)
        np.take(Y, rows, axis=0, out=Y_b)
        np.matmul(X_b, W[0], out=z[0]); z[0] += b[0]; a1 = np.maximum(z[0], 0)
        np.matmul(a1, W[1], out=z[1]); z[1] += b[1]; a2 = np.maximum(z[1], 0)
        np.matmul(a2, W[2], out=z[2]); z[2] += b[2]
        a3 = z[2]  # softmax in place
        a3 -= a3.max(axis=1, keepdims=True); np.exp(a3, out=a3); a3 /= a3.sum(axis=1, keepdims=True)
        loss = -float(np.vdot(Y_b, np.log(a3))) / len(rows)
        delta3 = a3; delta3 -= Y_b; delta3 *= 1 / len(rows)
        np.matmul(a2.T, delta3, out=dW[2]); db3 = delta3.sum(axis=0)
        np.matmul(delta3, W[2].T, out=grad_a[1]); delta2 = grad_a[1]; delta2 *= z[1] > 0
        np.matmul(a1.T, delta2, out=dW[1]); db2 = delta2.sum(axis=0)
        np.matmul(delta2, W[1].T, out=grad_a[0]); delta1 = grad_a[0]; delta1 *= z[0] > 0
        np.matmul(X_b.T, delta1, out=dW[0]); db1 = delta1.sum(axis=0)
        norms = [math.sqrt(np.vdot(g, g)) for g in dW]
        for theta, g in zip(W + b, dW + [db1, db2, db3]):
            g *= np.float32(LEARNING_RATE)
            theta -= g
        return loss, norms
    return step, [p for pair in zip(W, b) for p in pair]


def flat_epoch(X, Y, order, batch: int):
    return epoch_of(flat_model(X, Y)[0], order, batch)


def floor_epoch(X, order, batch: int):
    """Only the eight matrix products per step, into preallocated outputs."""
    net = fresh_network()
    W = [layer.W for layer in net.layers]
    batches = [np.ascontiguousarray(X[order[s:s + batch]]) for s in range(0, len(X), batch)]
    rng = np.random.default_rng(0)
    buffers = {}

    def buffers_for(n):
        if n not in buffers:
            z = [np.empty((n, k), np.float32) for k in SIZES[1:]]
            delta = [rng.standard_normal((n, k)).astype(np.float32) for k in SIZES[1:]]
            back = [np.empty((n, k), np.float32) for k in SIZES[1:-1]]
            dW = [np.empty_like(w) for w in W]
            buffers[n] = z, delta, back, dW
        return buffers[n]

    def epoch():
        for Xb in batches:
            z, delta, back, dW = buffers_for(len(Xb))
            np.matmul(Xb, W[0], out=z[0])
            np.matmul(z[0], W[1], out=z[1])
            np.matmul(z[1], W[2], out=z[2])
            np.matmul(z[1].T, delta[2], out=dW[2])
            np.matmul(delta[2], W[2].T, out=back[1])
            np.matmul(z[0].T, delta[1], out=dW[1])
            np.matmul(delta[1], W[1].T, out=back[0])
            np.matmul(Xb.T, delta[0], out=dW[0])
    epoch()  # warm-up, and the buffers get allocated
    return epoch


def main():
    tuned = False if args.default_malloc else keep_freed_memory()
    print(f"malloc: {'freed memory kept for reuse (bench/malloc.py)' if tuned else 'glibc defaults'}")
    images, labels = mnist.load("train", data_dir())
    X = images.reshape(len(images), -1).astype(np.float32) / 255.0
    Y = np.eye(10, dtype=np.float32)[labels]
    order = np.random.default_rng(0).permutation(len(X))  # the engine's first epoch has this order too
    if torch is not None:
        torch.set_num_threads(args.threads)
        torch_note = f"torch {torch.__version__}, torch.get_num_threads()={torch.get_num_threads()}"
    else:
        torch_note = "PyTorch is not installed: the torch column is empty (pip install torch to compare)"
    print(f"MNIST epoch, {'-'.join(map(str, SIZES))} relu/softmax, SGD, float32, {len(X)} images")
    print(f"threads: {', '.join(f'{v}={os.environ[v]}' for v in THREAD_VARIABLES)}; numpy {np.__version__}; {torch_note}")
    differences = same_work(X, Y, labels, order)
    print("same work: after 50 steps the weights differ from the engine's by at most "
          + ", ".join(f"{d:.1e} ({name})" for name, d in differences.items()))
    print(f"best of {args.repeats} epochs, seconds per epoch\n")
    print(f"{'batch':>5} {'steps':>6} {'engine':>8} {'torch':>8} {'flat':>8} {'floor':>8} "
          f"{'eng/torch':>10} {'eng/flat':>9} {'eng/floor':>10}")
    ratios = {}
    for batch in args.batches:
        contestants = {"engine": engine_epoch(X, Y, batch), "flat": flat_epoch(X, Y, order, batch),
                       "floor": floor_epoch(X, order, batch)}
        if torch is not None:
            contestants["torch"] = torch_epoch(X, labels, order, batch)
        t = race(contestants, args.repeats)
        t.setdefault("torch", float("nan"))
        ratios[batch] = t["engine"] / t["torch"], t["engine"] / t["floor"]
        print(f"{batch:>5} {-(-len(X) // batch):>6} {t['engine']:>8.3f} {t['torch']:>8.3f} {t['flat']:>8.3f} "
              f"{t['floor']:>8.3f} {ratios[batch][0]:>10.2f} {t['engine'] / t['flat']:>9.2f} "
              f"{ratios[batch][1]:>10.2f}", flush=True)
    layers = args.cnn_layers or cnn_race.layers_of(args.cnn_model)
    cnn_ratio = cnn_race.run(X, Y, labels, order, layers, args.cnn_batch, args.repeats, race, epoch_of, torch is not None)
    print()
    for path in (args.model, args.cnn_model):
        if path.is_file():
            seconds, sizes = cnn_race.inference_time(modelfile.load(path)[0], X)
            print(f"inference, one 784-vector through {sizes} ({path.name}): {seconds * 1e6:.1f} µs (median)")
        else:
            print(f"inference: no model at {path}")
    if 64 in ratios:
        print(f"ratio_vs_torch={ratios[64][0]:.2f} ratio_vs_floor={ratios[64][1]:.2f}")
    print(f"cnn_ratio_vs_torch={cnn_ratio:.2f}")


if __name__ == "__main__":
    main()
