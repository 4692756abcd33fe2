"""Ready-made sessions: a config (fields of docs/protocol.md) plus a training speed.

``steps_per_second`` None means flat out; ``epochs`` is how long ``nnplay train`` trains it;
``milestone`` (MNIST) the test accuracy whose time from pressing Train the Digits page announces.

MNIST: Adam at 0.002 with batches of 128 reached 96.1 % test accuracy after one epoch (469
steps) and 97.1 % after two (97.5 % after three); Adam at 0.001 with batches of 64 also needed
two epochs for 97 %, in twice the steps (seed 0). The XOR table trains at a pace a person can
follow: with learning rate 2 the 2-2-1 network needs about 700-1800 steps (seeds 0-7), so at
150 steps per second it visibly converges in 5-12 s.

MNIST CNN (app/convnet.py's default layers, "valid" padding): Adam at 0.003 with batches of 128
reached 98.5 % on the whole test set after 14-17 s of CPU time (about two epochs), at 0.002 with
batches of 64 after 18 s, and with 3×3 kernels and twice the channels not within 30 s (seed 0, one
core of the 2-core build machine, measured with time.thread_time).
"""
from __future__ import annotations

import copy

# The Digits page's convolutional network, LeNet-like; app/config.py's default ``layers`` too.
# "valid" padding halves the work of "same": an epoch took 8 s of CPU against 17 s.
CNN_LAYERS = [
    {"type": "conv", "size": 5, "channels": 8, "padding": "valid"}, {"type": "pool"},
    {"type": "conv", "size": 5, "channels": 16, "padding": "valid"}, {"type": "pool"},
    {"type": "flatten"}, {"type": "dense", "size": 64},
]

PRESETS: dict[str, dict] = {
    "xor": {
        "title": "XOR truth table",
        "description": "Four points, a 2-2-1 sigmoid network, plain gradient descent on the whole table.",
        "steps_per_second": 150,
        "epochs": 1500,
        "config": {"dataset": "xor_table", "features": ["x1", "x2"], "points": [], "hidden": [2],
                   "activation": "sigmoid", "output": "sigmoid", "loss": "squared_error", "init": "xavier",
                   "optimizer": "sgd", "learning_rate": 2.0, "batch_size": 4, "regularization": "none",
                   "regularization_rate": 0.0, "seed": 0},
    },
    "one_neuron": {
        "title": "One neuron",
        "description": "Three inputs, one sigmoid neuron, no hidden layer: the output copies x1.",
        "steps_per_second": 30,
        "epochs": 300,
        "config": {"dataset": "one_neuron", "hidden": [], "activation": "sigmoid", "output": "sigmoid",
                   "loss": "squared_error", "init": "xavier", "optimizer": "sgd", "learning_rate": 1.0,
                   "batch_size": 4, "regularization": "none", "regularization_rate": 0.0, "seed": 0},
    },
    "circle": {
        "title": "Circle",
        "description": "A disc inside a ring.",
        "steps_per_second": None,
        "epochs": 30,
        "config": {"dataset": "circle", "n_samples": 500, "noise": 0.0, "train_ratio": 0.5,
                   "features": ["x1", "x2"], "points": [], "hidden": [4, 2], "activation": "tanh",
                   "output": "tanh", "loss": "squared_error", "init": "xavier", "optimizer": "sgd",
                   "learning_rate": 0.03, "batch_size": 10, "regularization": "none",
                   "regularization_rate": 0.0, "seed": 0},
    },
    "spiral": {
        "title": "Spiral",
        "description": "Two interleaved spirals: the hard one.",
        "steps_per_second": None,
        "epochs": 100,
        "config": {"dataset": "spiral", "n_samples": 500, "noise": 0.0, "train_ratio": 0.5,
                   "features": ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"], "points": [],
                   "hidden": [8, 8, 6], "activation": "tanh", "output": "tanh", "loss": "squared_error",
                   "init": "xavier", "optimizer": "adam", "learning_rate": 0.01, "batch_size": 10,
                   "regularization": "none", "regularization_rate": 0.0, "seed": 0},
    },
    "gaussian": {
        "title": "Two Gaussians",
        "description": "Two clouds: one neuron can separate them.",
        "steps_per_second": None,
        "epochs": 10,
        "config": {"dataset": "gaussian", "n_samples": 500, "noise": 0.0, "train_ratio": 0.5,
                   "features": ["x1", "x2"], "points": [], "hidden": [], "activation": "tanh",
                   "output": "tanh", "loss": "squared_error", "init": "xavier", "optimizer": "sgd",
                   "learning_rate": 0.03, "batch_size": 10, "regularization": "none",
                   "regularization_rate": 0.0, "seed": 0},
    },
    "xor_2d": {
        "title": "XOR in the plane",
        "description": "Four quadrants: points are 1 where x1 and x2 have the same sign.",
        "steps_per_second": None,
        "epochs": 30,
        "config": {"dataset": "xor", "n_samples": 500, "noise": 0.0, "train_ratio": 0.5,
                   "features": ["x1", "x2"], "points": [], "hidden": [4, 2], "activation": "tanh",
                   "output": "tanh", "loss": "squared_error", "init": "xavier", "optimizer": "sgd",
                   "learning_rate": 0.03, "batch_size": 10, "regularization": "none",
                   "regularization_rate": 0.0, "seed": 0},
    },
    "regression_plane": {
        "title": "Regression: a plane",
        "description": "Fit y = (x1 + x2) / 10.",
        "steps_per_second": None,
        "epochs": 30,
        "config": {"dataset": "plane", "n_samples": 500, "noise": 0.0, "train_ratio": 0.5,
                   "features": ["x1", "x2"], "points": [], "hidden": [4, 2], "activation": "tanh",
                   "output": "linear", "loss": "squared_error", "init": "xavier", "optimizer": "sgd",
                   "learning_rate": 0.01, "batch_size": 10, "regularization": "none",
                   "regularization_rate": 0.0, "seed": 0},
    },
    "mnist": {
        "title": "MNIST digits",
        "description": "784-128-64-10, ReLU hidden layers, softmax with cross-entropy, Adam.",
        "steps_per_second": None,
        "epochs": 3,
        "milestone": 0.97,
        "config": {"dataset": "mnist", "mnist_train_size": 60000, "architecture": "dense", "hidden": [128, 64],
                   "activation": "relu", "output": "softmax", "loss": "cross_entropy", "init": "he",
                   "optimizer": "adam", "learning_rate": 0.002, "batch_size": 128, "regularization": "none",
                   "regularization_rate": 0.0, "seed": 0},
    },
    "mnist_cnn": {
        "title": "MNIST digits, convolutional",
        "description": "Two conv layers with 2×2 max-pooling, one dense layer, ReLU, softmax with cross-entropy, Adam.",
        "steps_per_second": None,
        "epochs": 2,
        "milestone": 0.985,
        "config": {"dataset": "mnist", "mnist_train_size": 60000, "architecture": "conv", "layers": CNN_LAYERS,
                   "activation": "relu", "output": "softmax", "loss": "cross_entropy", "init": "he",
                   "optimizer": "adam", "learning_rate": 0.003, "batch_size": 128, "regularization": "none",
                   "regularization_rate": 0.0, "seed": 0},
    },
}


def names() -> list[str]:
    return list(PRESETS)


def get(name: str) -> dict:
    """A deep copy of one preset, so callers may change it."""
    return copy.deepcopy(PRESETS[name])


def all_presets() -> dict[str, dict]:
    return copy.deepcopy(PRESETS)
