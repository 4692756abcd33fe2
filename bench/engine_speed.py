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
    floor    only the matrix products of the same steps, on batches sliced before the clock
             starts, into preallocated outputs: forward X·W ×3, dW = aᵀ·δ ×3, δ·Wᵀ ×2

Each figure is the best of ``--repeats`` epochs (after a short warm-up). NumPy's BLAS and torch
run with the same thread count (``--threads``, default 1), set before either library loads.
The last line is ``ratio_vs_torch=<x> ratio_vs_floor=<y>`` for batch 64 (engine time divided by
the other). Then the inference time of the pretrained digit model on one 784-vector.
PyTorch is optional: without it the torch column says so and ratio_vs_torch is ``nan``.
"""
from __future__ import annotations

import argparse
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
    parser.add_argument("--model", type=Path, default=REPO / "engine" / "pretrained" / "digits.npz")
    return parser.parse_args()


args = parse_args()
for variable in THREAD_VARIABLES:  # must happen before numpy or torch is imported
    os.environ[variable] = str(args.threads)
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

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


def best_time(run_epoch, repeats: int) -> float:
    """The fastest of ``repeats`` calls of run_epoch(), in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - start)
    return min(times)


def time_engine(X, Y, batch: int, repeats: int) -> float:
    net = fresh_network()
    trainer = Trainer(net, X, Y, make_optimizer("sgd", LEARNING_RATE), batch_size=batch, seed=0)
    for _ in range(20):
        trainer.step()

    def epoch():
        for _ in range(trainer.steps_per_epoch):
            trainer.step()
    return best_time(epoch, repeats)


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


def same_work(X, Y, labels, order, batch: int = 64, steps: int = 50) -> float:
    """Largest |weight difference| between engine and torch after the same first ``steps`` steps."""
    trainer = Trainer(fresh_network(), X, Y, make_optimizer("sgd", LEARNING_RATE), batch_size=batch, seed=0)
    step, params = torch_model(X, labels)
    order_t = torch.from_numpy(order)
    for s in range(steps):
        trainer.step()  # its first epoch visits ``order`` too
        step(order_t[s * batch:(s + 1) * batch])
    engine = trainer.network.parameters()
    return max(float(np.abs(e - t.detach().numpy()).max()) for e, t in zip(engine, params))


def time_torch(X, labels, order, batch: int, repeats: int) -> float:
    step, _ = torch_model(X, labels)
    starts = range(0, len(X), batch)
    order_t = torch.from_numpy(order)
    for start in starts[:20]:
        step(order_t[start:start + batch])

    def epoch():
        for start in starts:
            step(order_t[start:start + batch])
    return best_time(epoch, repeats)


def time_floor(X, order, batch: int, repeats: int) -> float:
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
    return best_time(epoch, repeats)


def time_inference(X, path: Path, repeats: int = 2000) -> tuple[float, str]:
    """Median seconds of network.forward on one row, with the pretrained model at ``path``."""
    net, _ = modelfile.load(path)
    row = X[:1]
    for _ in range(100):
        net.forward(row)
    times = []
    for i in range(repeats):
        row = X[i:i + 1]
        start = time.perf_counter()
        net.forward(row)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), "-".join(map(str, net.sizes))


def main():
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
    if torch is not None:
        print(f"same work: after 50 steps engine and torch weights differ by at most "
              f"{same_work(X, Y, labels, order):.1e}")
    print(f"best of {args.repeats} epochs, seconds per epoch\n")
    print(f"{'batch':>5} {'steps':>6} {'engine':>8} {'torch':>8} {'floor':>8} {'eng/torch':>10} {'eng/floor':>10}")
    ratios = {}
    for batch in args.batches:
        engine = time_engine(X, Y, batch, args.repeats)
        torch_s = time_torch(X, labels, order, batch, args.repeats) if torch is not None else float("nan")
        floor = time_floor(X, order, batch, args.repeats)
        ratios[batch] = engine / torch_s, engine / floor
        print(f"{batch:>5} {-(-len(X) // batch):>6} {engine:>8.3f} {torch_s:>8.3f} {floor:>8.3f} "
              f"{ratios[batch][0]:>10.2f} {ratios[batch][1]:>10.2f}", flush=True)
    if args.model.is_file():
        seconds, sizes = time_inference(X, args.model)
        print(f"\ninference, one 784-vector through {sizes} ({args.model.name}): {seconds * 1e6:.1f} µs (median)")
    else:
        print(f"\ninference: no model at {args.model}")
    if 64 in ratios:
        print(f"ratio_vs_torch={ratios[64][0]:.2f} ratio_vs_floor={ratios[64][1]:.2f}")


if __name__ == "__main__":
    main()
