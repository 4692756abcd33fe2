"""What a session shows its client: snapshot, evaluation and data-set frames, trace and probe bodies.

Every function here reads a network and its data and returns a message; none changes them.
"""
from __future__ import annotations

import numpy as np

from engine import probe
from engine.network import Network
from engine.train import Trace
from app.config import GRID_RESOLUTION, MAX_MAP_NEURONS, TrainingData, targets
from app.protocol import Quantised, encode_frame

GALLERY_SIZE = 32       # evaluation: this many of the test digits the network gets wrong
PROBE_DIGIT = 0         # MNIST snapshots show the network's activations for this test digit
TRACE_MAX_WIDTH = 16
TRACE_MAX_BATCH = 64
EVALUATION_ROWS = 1000  # rows forwarded at a time when a whole test set is scored (bounds the memory)


def outputs(network: Network, X: np.ndarray) -> np.ndarray:
    """The network's output for every row of X, computed EVALUATION_ROWS rows at a time."""
    if len(X) <= EVALUATION_ROWS:
        return network.forward(X)
    return np.concatenate([network.forward(X[i:i + EVALUATION_ROWS]) for i in range(0, len(X), EVALUATION_ROWS)])


def network_info(network: Network) -> dict:
    info = {"sizes": network.sizes, "activations": network.activations, "loss": network.loss.name}
    if not network.is_dense:  # sizes count the values of each layer's (H, W, C) maps; the spec says what they are
        info.update(input_shape=list(network.input_shape), layers=network.spec)
    return info


def dataset_info(d: TrainingData) -> dict:
    return {"name": d.name, "problem": d.task, "n_train": len(d.X_train), "n_test": len(d.X_test),
            "inputs": d.inputs, "classes": d.classes, "extent": d.extent or None}


def score(network: Network, d: TrainingData, X: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
    """(loss, accuracy or None) on rows X with labels or values y."""
    a = outputs(network, X)
    loss = network.loss.f(a, targets(network, d, y).astype(a.dtype))
    accuracy = float(np.mean(network.classify(a) == y)) if d.task == "classification" else None
    return loss, accuracy


def maps_shown(network: Network) -> list[int]:
    """Indices of the layers (0 = input) whose neuron maps a snapshot carries."""
    if sum(network.sizes) <= MAX_MAP_NEURONS:
        return list(range(len(network.sizes)))
    return [0, len(network.sizes) - 1]


def snapshot(network: Network, d: TrainingData, step: int, epoch: int, weight_images: bool = True) -> bytes:
    """The ``snapshot`` frame: weights and biases, neuron maps (plane sets) or MNIST pictures."""
    arrays, fields = {}, {"step": step, "epoch": epoch}
    for l, layer in enumerate(network.layers, start=1):
        if not (d.is_mnist and l == 1):
            arrays[f"W{l}"] = layer.W
        arrays[f"b{l}"] = layer.b
    if d.grid is not None:
        maps = probe.neuron_maps(network, d.grid, GRID_RESOLUTION)
        for l in maps_shown(network):
            arrays[f"maps{l}"] = Quantised(maps[l])
        fields.update(resolution=GRID_RESOLUTION, extent=d.extent)
    if d.is_mnist:
        if weight_images:
            arrays["weights_img"] = Quantised(probe.weight_images(network))
        for l, a in enumerate(probe.layer_outputs(network, d.X_test[PROBE_DIGIT:PROBE_DIGIT + 1])):
            arrays[f"probe{l}"] = a
        fields["probe_label"] = int(d.y_test[PROBE_DIGIT])
    return encode_frame("snapshot", fields, arrays)


def evaluation(network: Network, d: TrainingData, step: int, epoch: int) -> tuple[bytes, float, float]:
    """The MNIST ``evaluation`` frame over the whole test set, and (test loss, test accuracy)."""
    a = outputs(network, d.X_test)
    loss = network.loss.f(a, targets(network, d, d.y_test).astype(a.dtype))
    predicted = network.classify(a)
    confusion = np.zeros((d.classes, d.classes), dtype=np.int32)
    np.add.at(confusion, (d.y_test, predicted), 1)
    wrong = np.flatnonzero(predicted != d.y_test)[:GALLERY_SIZE]
    gallery = np.rint(d.X_test[wrong] * 255).astype(np.uint8).reshape(len(wrong), 28, 28)
    accuracy = float(np.mean(predicted == d.y_test))
    frame = encode_frame("evaluation", {
        "step": step, "epoch": epoch, "test_loss": loss, "test_accuracy": accuracy,
        "gallery_labels": d.y_test[wrong].tolist(), "gallery_predicted": predicted[wrong].tolist(),
        "gallery_index": wrong.tolist()}, {"confusion": confusion, "gallery": gallery})
    return frame, loss, accuracy


def dataset_frame(d: TrainingData) -> bytes:
    """The ``dataset`` frame: the raw training and test points with their labels or values."""
    return encode_frame("dataset", {**dataset_info(d)}, {
        "X_train": d.raw_train, "y_train": d.y_train.astype(np.float32),
        "X_test": d.raw_test, "y_test": d.y_test.astype(np.float32)})


def trace_limit_error(network: Network, batch_size: int) -> str | None:
    """Why a trace cannot be sent for this network and batch size, or None."""
    widest = max(network.sizes)
    if widest > TRACE_MAX_WIDTH:
        return (f"trace is limited to networks of at most {TRACE_MAX_WIDTH} neurons per layer; "
                f"this one has a layer of {widest}")
    if batch_size > TRACE_MAX_BATCH:
        return f"trace is limited to batches of at most {TRACE_MAX_BATCH} samples; batch_size is {batch_size}"
    return None


def trace_message(trace: Trace, step: int) -> dict:
    """The ``trace`` body: every matrix of one step as lists of rows (biases as plain lists), layer 1 first."""
    return {
        "type": "trace", "step": step, "learning_rate": trace.learning_rate, "loss": trace.loss,
        "loss_name": trace.loss_name, "activations": trace.activations,
        "X": trace.X.tolist(), "Y": trace.Y.tolist(), "error": trace.error.tolist(),
        **{name: [m.tolist() for m in getattr(trace, name)]
           for name in ("W", "b", "z", "a", "delta", "dW", "db", "W_new", "b_new")},
        **{name: [None if m is None else m.tolist() for m in getattr(trace, name)] for name in ("fprime", "grad_a")},
    }


def weights_frame(name: str, network: Network) -> bytes:
    """A ``weights`` frame: a whole network's W1 … WL and b1 … bL, with its sizes and activations
    (pool and flatten layers have none; a conv layer's W is (k, k, C_in, C_out))."""
    arrays = {}
    for l, layer in enumerate(network.layers, start=1):
        if layer.W is not None:
            arrays[f"W{l}"], arrays[f"b{l}"] = layer.W, layer.b
    return encode_frame("weights", {"name": name, **network_info(network)}, arrays)


def probe_body(network: Network, d: TrainingData, raw: np.ndarray) -> dict:
    """The ``probe`` body: every layer's activations for raw input rows, the network input first."""
    return {"type": "probe", "activations": [a.tolist() for a in probe.layer_outputs(network, d.encode(raw))]}
