"""The ``layers`` config field: a convolutional network's hidden layers, checked within the server's limits.

    config["architecture"] = "conv"       the network is built from config["layers"] (else from "hidden")
    config["layers"] = [{"type": "conv", "size": k, "channels": C, "padding": "same" | "valid"},
                        {"type": "pool"}, {"type": "flatten"}, {"type": "dense", "size": n}, ...]

The entries are engine layer specs (engine/spec.py) without the output layer, which the server adds
(one unit per class, config["output"]); a layer without an ``activation`` takes config["activation"].
The maps must be flattened before the first dense layer and before the output.

    normalise(value, settings)          -> the entries checked and completed (padding filled in), or a
                                           CommandError naming the entry, setting, value and range
    full_spec(config, classes)          -> the whole spec, output layer included
    plans(config, input_shape, classes) -> engine.spec.plan of it: shapes and weights of every layer

Limits (Settings): at most ``max_layers`` conv and dense layers, ``max_width`` channels or neurons
in each, kernels of at most ``max_kernel``×``max_kernel``; the rest (a kernel larger than the maps
coming in, a pool on maps under 2×2, a dense layer after maps) is engine.spec's check.
"""
from __future__ import annotations

from engine import spec
from engine.conv import PADDINGS
from engine.network import Network
from app.protocol import CommandError, bad, show_value

WEIGHTED = ("conv", "dense")


def _limit(message: str) -> CommandError:
    return CommandError("limit", message, "layers")


def _bad(message: str) -> CommandError:
    return CommandError("bad_value", message, "layers")


def _whole(i: int, key: str, value, high: int, limit: str, unit: str) -> int:
    """entry i's ``key``: a whole number from 1 to ``high`` (a server limit named ``limit``)."""
    if spec.is_whole(value) and value > high:
        raise _limit(f"layers[{i}].{key}={value} is over this server's {limit}={high} {unit}")
    if not spec.is_whole(value) or value < 1:
        raise _bad(f"layers[{i}].{key}={show_value(value)} is out of range: must be a whole number from 1 to {high}")
    return int(value)


def _entry(i: int, entry, settings) -> dict:
    """One entry's type and settings checked (its fit with the maps comes later, in plans)."""
    if not isinstance(entry, dict):
        raise _bad(f'layers[{i}]={show_value(entry)} is not a layer: give an object such as '
                   '{"type": "conv", "size": 5, "channels": 8}')
    kind = entry.get("type")
    if not isinstance(kind, str) or kind not in spec.LAYER_TYPES:
        raise _bad(f"layers[{i}].type={show_value(kind)} is unknown: choose one of {', '.join(spec.LAYER_TYPES)}")
    unknown = [key for key in entry if key not in spec.SETTINGS[kind]]
    if unknown:
        raise _bad(f"layers[{i}] has an unknown setting {show_value(unknown[0])}: a {kind} layer takes "
                   f"{', '.join(spec.SETTINGS[kind])}")
    out = {"type": kind}
    if kind == "conv":
        out["size"] = _whole(i, "size", entry.get("size"), settings.max_kernel, "max_kernel",
                             "(the side of a conv layer's kernels)")
        out["channels"] = _whole(i, "channels", entry.get("channels"), settings.max_width, "max_width",
                                 "channels per conv layer")
        padding = entry.get("padding", spec.DEFAULTS["padding"])
        if not isinstance(padding, str) or padding not in PADDINGS:
            raise _bad(f"layers[{i}].padding={show_value(padding)} is unknown: choose one of {', '.join(PADDINGS)}")
        out["padding"] = padding
    elif kind == "dense":
        out["size"] = _whole(i, "size", entry.get("size"), settings.max_width, "max_width", "neurons per layer")
    if "activation" in entry:
        out["activation"] = entry["activation"]  # checked against the registry by the engine's plan
    return out


def normalise(value, settings) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise bad("layers", value, "must be a non-empty list of layer objects (conv, pool, flatten, dense)")
    if len(value) > 4 * settings.max_layers:  # a pool and a flatten per conv at most, and then some
        raise _limit(f"layers has {len(value)} entries: this server allows at most max_layers={settings.max_layers} "
                     "conv and dense layers")
    entries = [_entry(i, entry, settings) for i, entry in enumerate(value)]
    weighted = sum(e["type"] in WEIGHTED for e in entries)
    if weighted > settings.max_layers:
        raise _limit(f"layers has {weighted} conv and dense layers: this server allows at most "
                     f"max_layers={settings.max_layers}")
    return entries


def full_spec(config: dict, classes: int) -> list[dict]:
    hidden = [{**entry, "activation": entry.get("activation", config["activation"])} if entry["type"] in WEIGHTED
              else dict(entry) for entry in config["layers"]]
    return hidden + [{"type": "dense", "size": classes, "activation": config["output"]}]


def plans(config: dict, input_shape, classes: int) -> list[spec.Plan]:
    """The engine's plan of the whole network; a CommandError names what does not fit."""
    if len(input_shape) != 3:
        raise bad("architecture", "conv", f"conv layers need images: the data set {config['dataset']!r} has "
                                          f"{input_shape[0]} features per sample; use dataset 'mnist'")
    layers = full_spec(config, classes)
    try:
        shape = spec.check_input_shape(input_shape)
        for i, entry in enumerate(layers[:-1]):
            shape = spec.plan_layer(i, entry, shape).out_shape
        if len(shape) == 3:
            raise ValueError(f"layers ends with {'×'.join(map(str, shape))} maps: end it with "
                             '{"type": "flatten"} (and any dense layers after it), so that the output layer '
                             "gets one row of values")
        plans = spec.plan(input_shape, layers)
        Network.check_activations([p.spec.get("activation") for p in plans], classes, config["loss"])
        return plans
    except ValueError as e:
        raise CommandError("bad_value", str(e), "layers") from None
