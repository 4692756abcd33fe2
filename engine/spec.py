"""Layer specs: a network described as plain data, and checked, before any weight exists.

    input_shape   [n] for rows of n features, or [H, W, C] for images (see engine/conv.py for the layout)
    layers        one object per layer, input side first:
        {"type": "conv", "size": k, "channels": C', "padding": "same" | "valid", "activation": name}
        {"type": "pool"}                              2×2 max-pooling, stride 2
        {"type": "flatten"}                           (H, W, C) maps → H·W·C values
        {"type": "dense", "size": n, "activation": name}
    padding defaults to "same", activation to "relu"; the last layer is dense (the output).

``plan(input_shape, layers)`` checks a spec and returns one ``Plan`` per layer: its complete spec,
the shapes of one sample going in and out, and the shapes of its weights. A ValueError names the
layer, the setting, the value and what is allowed. ``make_layer(plan, W, b)`` builds the layer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine import activations
from engine.conv import PADDINGS, Conv2D, Flatten, MaxPool2D, conv_out_side
from engine.layers import Dense

SETTINGS = {  # the settings each layer type takes, "type" first
    "dense": ("type", "size", "activation"),
    "conv": ("type", "size", "channels", "padding", "activation"),
    "pool": ("type",),
    "flatten": ("type",),
}
LAYER_TYPES = tuple(SETTINGS)
DEFAULTS = {"padding": "same", "activation": "relu"}


@dataclass(frozen=True)
class Plan:
    """One checked layer: ``spec`` with every setting filled in, shapes of one sample, weight shapes."""

    spec: dict
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    W_shape: tuple[int, ...] | None = None
    b_shape: tuple[int, ...] | None = None

    @property
    def parameters(self) -> int:
        return 0 if self.W_shape is None else math.prod(self.W_shape) + math.prod(self.b_shape)


def is_whole(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_input_shape(shape) -> tuple[int, ...]:
    """``shape`` as a tuple (n,) or (H, W, C) of whole numbers >= 1, else a ValueError."""
    if not isinstance(shape, (list, tuple)) or len(shape) not in (1, 3) or not all(is_whole(n) and n >= 1 for n in shape):
        raise ValueError(f"input_shape={shape!r:.80} is invalid: give [n] features or [height, width, channels], "
                         "each a whole number >= 1")
    return tuple(int(n) for n in shape)


def _whole(i: int, key: str, value, low: int, high: int | None = None, why: str = "") -> int:
    if not is_whole(value) or value < low or (high is not None and value > high):
        allowed = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"layers[{i}].{key}={value!r:.40} is out of range: must be a whole number {allowed}{why}")
    return int(value)


def _settings(i: int, entry) -> dict:
    """The entry with its defaults, after checking it is an object of known settings."""
    if not isinstance(entry, dict):
        raise ValueError(f'layers[{i}]={entry!r:.60} is not a layer: give an object such as {{"type": "dense", "size": 10}}')
    kind = entry.get("type")
    if not isinstance(kind, str) or kind not in SETTINGS:
        raise ValueError(f"layers[{i}].type={kind!r:.40} is unknown: choose one of {', '.join(LAYER_TYPES)}")
    for key in entry:
        if key not in SETTINGS[kind]:
            raise ValueError(f"layers[{i}] has an unknown setting {key!r:.40}: a {kind} layer takes "
                             f"{', '.join(SETTINGS[kind])}")
    spec = {key: entry.get(key, DEFAULTS.get(key)) for key in SETTINGS[kind]}
    if "activation" in spec:
        name = spec["activation"]
        if not isinstance(name, str) or name not in activations.ACTIVATIONS:
            raise ValueError(f"layers[{i}].activation={name!r:.40} is unknown: choose one of "
                             f"{', '.join(activations.ACTIVATIONS)}")
    if "padding" in spec and (not isinstance(spec["padding"], str) or spec["padding"] not in PADDINGS):
        raise ValueError(f"layers[{i}].padding={spec['padding']!r:.40} is unknown: choose one of {', '.join(PADDINGS)}")
    return spec


def _maps(i: int, kind: str, shape: tuple) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(f"layers[{i}] ({kind}) needs (height, width, channels) maps, but its input is "
                         f"{shape[0]} values: {kind} layers come before any flatten or dense layer, "
                         "in a network whose input_shape is [height, width, channels]")
    return shape


def plan_layer(i: int, entry, shape: tuple) -> Plan:
    """The plan of layer i, given the shape of one sample coming in."""
    spec = _settings(i, entry)
    kind = spec["type"]
    if kind == "dense":
        if len(shape) != 1:
            raise ValueError(f'layers[{i}] (dense) follows {"×".join(map(str, shape))} maps: put {{"type": "flatten"}} '
                             "before it to turn them into one row of values")
        n = _whole(i, "size", spec["size"], 1)
        return Plan(spec, shape, (n,), (shape[0], n), (n,))
    H, W, C = _maps(i, kind, shape)
    if kind == "conv":
        k = _whole(i, "size", spec["size"], 1, min(H, W), f" (the kernel must fit the {H}×{W} maps coming in)")
        channels = _whole(i, "channels", spec["channels"], 1)
        out = (conv_out_side(H, k, spec["padding"]), conv_out_side(W, k, spec["padding"]), channels)
        return Plan(spec, shape, out, (k, k, C, channels), (channels,))
    if kind == "pool":
        if H < 2 or W < 2:
            raise ValueError(f"layers[{i}] (pool) needs maps of at least 2×2, but its input is {H}×{W}×{C}: "
                             "remove a pool or make the maps larger")
        return Plan(spec, shape, (H // 2, W // 2, C))
    return Plan(spec, shape, (H * W * C,))  # flatten


def plan(input_shape, layers) -> list[Plan]:
    """Check a whole spec (module docstring); one Plan per layer."""
    shape = check_input_shape(input_shape)
    if not isinstance(layers, list):
        raise ValueError(f"layers={layers!r:.60} is not a list of layer objects")
    if not layers:
        raise ValueError("layers=[] is empty: a network needs at least one layer")
    plans = []
    for i, entry in enumerate(layers):
        plans.append(plan_layer(i, entry, shape))
        shape = plans[-1].out_shape
    if plans[-1].spec["type"] != "dense":
        raise ValueError(f"layers[{len(plans) - 1}] is a {plans[-1].spec['type']} layer: the last (output) "
                         "layer must be dense")
    return plans


def make_layer(p: Plan, W: np.ndarray | None = None, b: np.ndarray | None = None):
    """The layer object of a plan, with weights W, b of the plan's shapes (None for pool and flatten)."""
    kind = p.spec["type"]
    if kind == "dense":
        return Dense(W, b, p.spec["activation"])
    if kind == "conv":
        return Conv2D(W, b, p.spec["activation"], p.in_shape, p.spec["padding"])
    return MaxPool2D(p.in_shape) if kind == "pool" else Flatten(p.in_shape)
