"""The CNN part of bench/engine_speed.py: one MNIST epoch of the pretrained CNN, engine vs PyTorch.

The architecture is the one in engine/pretrained/digits.npz (bench.pretrain.CNN_LAYERS when
that file is missing): He initialisation from seed 0, softmax + cross-entropy, plain SGD
(η = LEARNING_RATE), float32, the same shuffled order of the 60,000 training images and the same
initial weights for both contestants:

    engine   engine.train.Trainer.step() on Network.from_spec([28, 28, 1], layers)
    torch    the same network in PyTorch eager on the CPU: F.conv2d, F.max_pool2d, the activations,
             x @ W + b, F.cross_entropy, backward(), torch.optim.SGD.step(), loss.item(). Conv
             weights (k, k, C_in, C_out) become torch's (C_out, C_in, k, k); the rows of the dense
             layer after the flatten are reordered from the engine's (row, column, channel) to
             torch's (channel, row, column). Torch runs in whichever memory format, NCHW or
             channels_last, its warm-up finds faster (torch gets its faster form)

``same_work`` prints how far the weights are apart after the same first 20 steps.
"""
from __future__ import annotations

import math
import time

import numpy as np

from engine import modelfile
from engine.network import Network
from engine.optim import make_optimizer
from engine.train import Trainer

LEARNING_RATE = 0.05


def layers_of(model_path) -> list[dict]:
    if model_path.is_file():
        return modelfile.architecture(model_path)["layers"]
    from bench.pretrain import CNN_LAYERS
    return CNN_LAYERS


def fresh_network(layers) -> Network:
    return Network.from_spec([28, 28, 1], layers, "cross_entropy", init="he", seed=0)


def engine_epoch(X, Y, layers, batch: int):
    trainer = Trainer(fresh_network(layers), X, Y, make_optimizer("sgd", LEARNING_RATE), batch_size=batch, seed=0)
    for _ in range(20):
        trainer.step()

    def epoch():
        for _ in range(trainer.steps_per_epoch):
            trainer.step()
    return epoch


def torch_weights(network: Network) -> list[np.ndarray]:
    """The engine's parameters in torch's layout (module docstring)."""
    out, maps = [], None
    for layer in network.layers:
        if layer.kind == "conv":
            out += [layer.W.transpose(3, 2, 0, 1), layer.b]
        elif layer.kind == "flatten":
            maps = layer.in_shape
        elif layer.kind == "dense":
            W = layer.W
            if maps is not None:  # rows (h, w, c) → (c, h, w)
                H, W_, C = maps
                W = W.reshape(H, W_, C, -1).transpose(2, 0, 1, 3).reshape(H * W_ * C, -1)
                maps = None
            out += [W, layer.b]
    return [np.ascontiguousarray(p) for p in out]


def torch_model(X, labels, layers, channels_last: bool):
    """(step(rows) -> loss, parameters): the engine's network and SGD step in PyTorch."""
    import torch
    import torch.nn.functional as F

    net = fresh_network(layers)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    params = [torch.tensor(p, requires_grad=True) for p in torch_weights(net)]
    with torch.no_grad():
        params = [p.contiguous(memory_format=fmt).requires_grad_() if p.dim() == 4 else p for p in params]
    functions = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda x: x,
                 "leaky_relu": lambda x: F.leaky_relu(x, 0.01), "softmax": lambda x: x}  # softmax: in the loss
    optimizer = torch.optim.SGD(params, lr=LEARNING_RATE)
    X_t = torch.from_numpy(X).reshape(-1, 1, 28, 28).contiguous(memory_format=fmt)
    y_t = torch.from_numpy(labels.astype(np.int64))

    def step(rows):
        x, y, weights = X_t[rows], y_t[rows], iter(params)
        for layer in net.layers:
            if layer.kind == "conv":
                pad = (layer.k - 1) // 2 if layer.padding == "same" else 0  # odd kernels: symmetric
                x = functions[layer.activation.name](F.conv2d(x, next(weights), next(weights), padding=pad))
            elif layer.kind == "pool":
                x = F.max_pool2d(x, 2)
            elif layer.kind == "flatten":
                x = x.flatten(1)
            else:
                x = functions[layer.activation.name](x @ next(weights) + next(weights))
        loss = F.cross_entropy(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step, params


def faster_torch_format(X, labels, layers, order, batch: int, steps: int = 30) -> bool:
    """True when channels_last beat NCHW over ``steps`` warm steps."""
    import torch

    best = {}
    for channels_last in (False, True):
        step, _ = torch_model(X, labels, layers, channels_last)
        rows = torch.from_numpy(order)
        for s in range(5):
            step(rows[s * batch:(s + 1) * batch])
        start = time.perf_counter()
        for s in range(steps):
            step(rows[s * batch:(s + 1) * batch])
        best[channels_last] = time.perf_counter() - start
    return best[True] < best[False]


def same_work(X, Y, labels, order, layers, channels_last: bool, batch: int = 64, steps: int = 20) -> float:
    """Largest |weight difference| between engine and torch after the same first ``steps`` steps."""
    import torch

    trainer = Trainer(fresh_network(layers), X, Y, make_optimizer("sgd", LEARNING_RATE), batch_size=batch, seed=0)
    step, params = torch_model(X, labels, layers, channels_last)
    rows = torch.from_numpy(order)
    for s in range(steps):
        trainer.step()  # its first epoch visits ``order`` too
        step(rows[s * batch:(s + 1) * batch])
    engine = torch_weights(trainer.network)
    return max(float(np.abs(e - p.detach().numpy()).max()) for e, p in zip(engine, params))


def contestants(X, Y, labels, order, layers, batch: int, epoch_of, channels_last: bool | None) -> dict:
    """{name: run_epoch} for the race; torch only when ``channels_last`` is not None (torch installed)."""
    found = {"engine": engine_epoch(X, Y, layers, batch)}
    if channels_last is not None:
        import torch

        found["torch"] = epoch_of(torch_model(X, labels, layers, channels_last)[0], torch.from_numpy(order), batch)
    return found


def describe(layers) -> str:
    parts = {"conv": lambda s: f"conv {s['size']}×{s['size']}×{s['channels']} {s['padding']} {s['activation']}",
             "pool": lambda s: "pool", "flatten": lambda s: "flatten", "dense": lambda s: f"dense {s['size']} {s['activation']}"}
    return " → ".join(parts[s["type"]](s) for s in layers)


def ratio(times: dict) -> float:
    """Engine seconds per epoch / torch's."""
    return times["engine"] / times.get("torch", math.nan)


def run(X, Y, labels, order, layers, batch: int, repeats: int, race, epoch_of, with_torch: bool) -> float:
    """Race the CNN, print what happened, and return engine time / torch time (nan without torch)."""
    print(f"\nMNIST epoch, CNN {describe(layers)}, SGD, float32, batch {batch}")
    channels_last = None
    if with_torch:
        channels_last = faster_torch_format(X, labels, layers, order, batch)
        difference = same_work(X, Y, labels, order, layers, channels_last)
        print(f"torch memory format: {'channels_last' if channels_last else 'NCHW'} (the faster in its warm-up); "
              f"same work: after 20 steps the weights differ from the engine's by at most {difference:.1e}")
    t = race(contestants(X, Y, labels, order, layers, batch, epoch_of, channels_last), repeats)
    print(f"best of {repeats} epochs, seconds per epoch: engine {t['engine']:.2f}, "
          f"torch {t.get('torch', math.nan):.2f}, engine/torch {ratio(t):.2f}", flush=True)
    return ratio(t)


def inference_time(net: Network, X, repeats: int = 2000) -> tuple[float, str]:
    """(median seconds of net.forward on one row, what the network is), rows taken from X."""
    for _ in range(100):
        net.forward(X[:1])
    times = []
    for i in range(repeats):
        row = X[i:i + 1]
        start = time.perf_counter()
        net.forward(row)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), "-".join(map(str, net.sizes)) if net.is_dense else describe(net.spec)
