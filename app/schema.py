"""The published schema: every config field's choices, default, range and limit, in one document.

    build(settings) -> {"version": 1, "fields": {name: field}, "live": [...], "speed": {...},
                        "weight": {...}, "trace": {...}, "model_name": {...}, "limits": {...}}

It is assembled on every call from the facts' owners: the engine's registries (activations, losses,
optimisers, initialisations, data sets and features), app/config.py (ranges, defaults, which loss
goes with which output) and Settings (layers, widths, samples). The server sends it in ``hello``
and at ``GET /api/schema``; the templates render their controls from it and the pages read their
defaults and limits from it, so none of these facts is written twice. docs/protocol.md shows a field
of each type.

What is only presentation lives here: the words shown for a name (``label``, and ``short`` where
a row is tight), and the values a list or slider offers (``suggested``, ``slider``), drawn inside
the range they belong to.
"""
from __future__ import annotations

import math

from engine import activations, losses
from engine import data as toysets
from engine.layers import INITS
from engine.optim import OPTIMIZERS, REGULARIZERS
from app import config as cfg
from app.frames import TRACE_MAX_BATCH, TRACE_MAX_WIDTH
from app.models import NAME_RULE
from app.commands import MAX_SPEED, MAX_WEIGHT, SETTABLE
from app.settings import Settings

VERSION = 1
LABELS = {
    "sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "leaky_relu": "Leaky ReLU", "linear": "Linear",
    "softmax": "Softmax", "squared_error": "Squared error", "cross_entropy": "Cross-entropy",
    "binary_cross_entropy": "Binary cross-entropy", "sgd": "SGD", "momentum": "Momentum", "adam": "Adam",
    "none": "None", "l1": "L1", "l2": "L2", "uniform": "Uniform", "normal": "Normal", "xavier": "Xavier",
    "he": "He", "circle": "Circle", "xor": "XOR", "gaussian": "Gaussian", "spiral": "Spiral", "plane": "Plane",
    "multigauss": "Multi-Gauss", "xor_table": "XOR table", "one_neuron": "One neuron", "mnist": "MNIST digits",
    "x1": "X₁", "x2": "X₂", "x1^2": "X₁²", "x2^2": "X₂²", "x1x2": "X₁X₂", "sin_x1": "sin(X₁)", "sin_x2": "sin(X₂)",
    "classification": "classification", "regression": "regression",
}
FIELD_LABELS = {
    "dataset": "Data set", "problem": "Problem", "n_samples": "Points", "noise": "Noise",
    "train_ratio": "Ratio of training to test data", "features": "Input features", "points": "Added points",
    "mnist_train_size": "Training images", "hidden": "Hidden layers", "activation": "Activation",
    "output": "Output", "loss": "Loss", "init": "Initialisation", "optimizer": "Optimiser",
    "learning_rate": "Learning rate", "batch_size": "Batch size", "regularization": "Regularisation",
    "regularization_rate": "Regularisation rate", "seed": "Seed",
}
SHORT_LABELS = {"regularization_rate": "Reg. rate", "binary_cross_entropy": "Binary cross-ent."}  # in tight rows
PERCENT = ("noise", "train_ratio")       # shown as percentages
SLIDERS = {"n_samples": 50, "noise": 0.05, "train_ratio": 0.1}   # slider steps
N_SAMPLES_SLIDER_MAX = 1000   # more points than this make the Playground's maps slow to follow
SPEED_DEFAULT = 150           # steps/s: the XOR table visibly converges over 5-12 s (app/presets.py)
SPEEDS = (1, 5, 20, 50, 150, 500, 2000)


def label(name: str) -> str:
    """The words shown for a registered name; a name without its own label is shown spelled out."""
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def ladder(low: float, high: float, start: float) -> list[float]:
    """1, 3, 10, 30, ... times powers of ten from ``start`` up to ``high``, above ``low``."""
    values, k = [], math.floor(math.log10(start))
    while True:
        for m in (1, 3):
            v = float(f"{m}e{k}")
            if v > high:
                return values
            if v >= start and v > low:
                values.append(int(v) if v >= 1 and v.is_integer() else v)
        k += 1


def _choices(names, **extra) -> list[dict]:
    return [{"value": n, "label": label(n), **({"short": SHORT_LABELS[n]} if n in SHORT_LABELS else {}),
             **{k: f(n) for k, f in extra.items()}} for n in names]


def _dataset(name: str) -> dict:
    problem = cfg.problem_of(name)
    kind = "images" if name == "mnist" else "plane" if cfg.is_plane(name) else "table"
    entry = {"value": name, "label": label(name), "problem": problem, "kind": kind}
    if name in toysets.SMALL:
        X = toysets.small(name).X_train
        entry.update(rows=len(X), inputs=X.shape[1], note=f"{len(X)}×{X.shape[1]}",
                     input_labels=[f"X{chr(0x2080 + i)}" for i in range(1, X.shape[1] + 1)])   # X₁, X₂, ...
    elif problem == "regression":
        entry["note"] = "regr."
    elif kind == "images":
        entry.update(inputs=cfg.MNIST_SIDE ** 2, classes=cfg.MNIST_CLASSES, side=cfg.MNIST_SIDE)
    return entry


def _numeric(name: str, settings: Settings, default) -> dict:
    low, high = cfg.ranges(settings)[name]
    field = {"type": "integer" if name in cfg.INTEGERS else "number", "min": low, "max": high, "default": default}
    if name in cfg.LOW_OPEN:
        field["min_open"] = True
    if name in PERCENT:
        field["percent"] = True
    if name in SLIDERS:
        step = SLIDERS[name]
        top = min(high, N_SAMPLES_SLIDER_MAX) if name == "n_samples" else high
        field["slider"] = {"min": max(low, step) if name == "n_samples" else low, "max": top, "step": step}
    return field


def build(settings: Settings) -> dict:
    d = cfg.DEFAULT
    ranges = cfg.ranges(settings)
    fields = {
        "dataset": {"type": "choice", "default": d["dataset"], "choices": [_dataset(n) for n in cfg.datasets()]},
        "problem": {"type": "choice", "default": cfg.problem_of(d["dataset"]), "implied_by": "dataset",
                    "choices": _choices(cfg.PROBLEMS)},
        "n_samples": _numeric("n_samples", settings, d["n_samples"]),
        "noise": _numeric("noise", settings, d["noise"]),
        "train_ratio": _numeric("train_ratio", settings, d["train_ratio"]),
        "features": {"type": "subset", "default": d["features"], "min_items": 1,
                     "choices": _choices(toysets.FEATURES)},
        "points": {"type": "points", "default": d["points"], "extent": toysets.EXTENT,
                   "max_items": settings.max_samples},
        "mnist_train_size": {**_numeric("mnist_train_size", settings, d["mnist_train_size"]),
                             "suggested": [1000, 10000, cfg.MNIST_TRAIN]},
        "hidden": {"type": "layers", "default": d["hidden"], "max_layers": settings.max_layers,
                   "min_width": 1, "max_width": settings.max_width},
        "activation": {"type": "choice", "default": d["activation"], "choices": _choices(cfg.hidden_activations())},
        "output": {"type": "choice", "default": d["output"],
                   "choices": _choices(cfg.output_activations(), losses=lambda n: list(cfg.losses_for(n)),
                                       problems=lambda n: list(cfg.problems_for(n)))},
        "loss": {"type": "choice", "default": d["loss"],
                 "choices": _choices(cfg.loss_names(), outputs=lambda n: losses.get(n).outputs and
                                     list(losses.get(n).outputs))},
        "init": {"type": "choice", "default": d["init"], "choices": _choices(INITS)},
        "optimizer": {"type": "choice", "default": d["optimizer"], "choices": _choices(OPTIMIZERS)},
        "learning_rate": {**_numeric("learning_rate", settings, d["learning_rate"]),
                          "suggested": ladder(*ranges["learning_rate"], start=1e-5)},
        "batch_size": {**_numeric("batch_size", settings, d["batch_size"]),
                       "suggested": [1, 4, 10, 16, 32, 64, 128, 256, 512]},
        "regularization": {"type": "choice", "default": d["regularization"], "choices": _choices(REGULARIZERS)},
        "regularization_rate": {**_numeric("regularization_rate", settings, d["regularization_rate"]),
                                "suggested": [0, *ladder(*ranges["regularization_rate"], start=1e-3)]},
        "seed": _numeric("seed", settings, d["seed"]),
    }
    for name, field in fields.items():
        field["label"] = FIELD_LABELS.get(name, label(name))
        if name in SHORT_LABELS:
            field["short"] = SHORT_LABELS[name]
    return {
        "version": VERSION, "fields": fields, "live": list(SETTABLE),
        "speed": {"min": 1, "max": MAX_SPEED, "default": SPEED_DEFAULT, "suggested": list(SPEEDS)},
        "weight": {"min": -MAX_WEIGHT, "max": MAX_WEIGHT},   # set_weight and set_bias
        "trace": {"max_width": TRACE_MAX_WIDTH, "max_batch": TRACE_MAX_BATCH},   # step with trace (the Math page)
        "model_name": {"pattern": NAME_RULE},                # save, load
        "limits": settings.limits(),
    }
