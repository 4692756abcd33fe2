"""Model files: the weights as ``.npz`` arrays plus a JSON architecture, versioned, no pickle.

Layout of one file (a NumPy ``.npz`` zip):

    architecture   0-d unicode array holding JSON, one of
        version 1 (dense networks; what nnplay wrote before conv layers, and still writes for them):
                   {"format": "nnplay-model", "version": 1, "sizes": [n_0, ..., n_L],
                    "activations": [...], "loss": "...", "meta": {...}}
        version 2 (any network):
                   {"format": "nnplay-model", "version": 2, "input_shape": [28, 28, 1],
                    "layers": [layer spec, engine/spec.py], "loss": "...", "meta": {...}}
    Wl, bl         float arrays of layer l (0-based, counting every layer): dense W (n_in, n_out),
                   conv W (k, k, C_in, C_out), b (n_out,) or (C_out,); pool and flatten layers have none

Reading trusts nothing (``load`` and ``architecture``): the JSON is checked against a strict schema
(known keys only, right types, meta at most MAX_META_DEPTH deep with finite numbers and integers
that fit 64 bits), the architecture against the caller's ``Limits``, then every array's dtype
and shape from its .npy header (engine/npzfile.py) — all before any array data is decompressed.
Whatever is wrong raises ``ModelFileError`` naming the file and the value (a missing file raises
FileNotFoundError). Writes are atomic: written beside the target, flushed, renamed over it.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import npzfile, spec
from engine.network import Network

FORMAT = "nnplay-model"
VERSIONS = (1, 2)
KEYS = {1: ({"format", "version", "sizes", "activations"}, {"loss", "meta"}),   # (required, optional)
        2: ({"format", "version", "input_shape", "layers", "loss"}, {"meta"})}
MAX_ARCHITECTURE_CHARS = 1_000_000   # the JSON, meta included
MAX_META_DEPTH = 16


class ModelFileError(ValueError):
    """The file is not a valid nnplay model, or it is over the reader's limits."""


@dataclass(frozen=True)
class Limits:
    """What a reader accepts. Hidden layers are the layers with weights (conv and dense) but the
    output layer; a width is the neurons of a dense layer or the channels of a conv layer (the
    output layer included); parameters are all weights and biases; inputs the values per sample."""

    max_layers: int = 64
    max_width: int = 65536
    max_parameters: int = 50_000_000
    max_inputs: int = 1 << 20


def save(network: Network, path, meta: dict | None = None) -> Path:
    """Write ``network`` (and JSON-able ``meta``) to ``path`` atomically; returns the path."""
    path = Path(path)
    if network.is_dense:
        architecture = {"format": FORMAT, "version": 1, "sizes": network.sizes, "activations": network.activations}
    else:
        architecture = {"format": FORMAT, "version": 2, "input_shape": list(network.input_shape), "layers": network.spec}
    architecture.update(loss=network.loss.name, meta=meta or {})
    arrays = {"architecture": np.array(json.dumps(architecture))}
    for l, layer in enumerate(network.layers):
        if layer.W is not None:
            arrays[f"W{l}"], arrays[f"b{l}"] = layer.W, layer.b
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model file is for every user to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def architecture(path, limits: Limits | None = None) -> dict:
    """The checked architecture of a model file, its weights unread: format, version, input_shape,
    layers (complete layer specs), sizes, activations, loss, parameters, meta."""
    return _open(Path(path), limits or Limits(), read_weights=False)[0]


def load(path, dtype=np.float32, *, limits: Limits | None = None) -> tuple[Network, dict]:
    """(network, meta) read from ``path``; ModelFileError says what is wrong otherwise."""
    arch, layers = _open(Path(path), limits or Limits(), read_weights=True, dtype=dtype)
    try:
        return Network(layers, arch["loss"]), arch["meta"]
    except ValueError as e:
        raise ModelFileError(f"{Path(path).name}: {e}") from None


def _open(path: Path, limits: Limits, read_weights: bool, dtype=np.float32):
    try:
        with zipfile.ZipFile(path) as archive:
            members = npzfile.headers(archive)
            arch, plans = _checked_architecture(archive, members, limits)
            _check_arrays(members, plans)
            if not read_weights:
                return arch, None
            layers = []
            for l, p in enumerate(plans):
                W = b = None
                if p.W_shape is not None:
                    W, b = (np.array(npzfile.read(archive, members[f"{kind}{l}"]), dtype=dtype) for kind in "Wb")
                    if not (np.isfinite(W).all() and np.isfinite(b).all()):
                        raise ModelFileError(f"layer {l + 1} weights are not finite floats")
                layers.append(spec.make_layer(p, W, b))
            return arch, layers
    except FileNotFoundError:
        raise
    except ModelFileError as e:
        raise ModelFileError(f"{path.name}: {e}") from None
    except RecursionError:
        raise ModelFileError(f"{path.name}: the architecture JSON is nested too deeply") from None
    except Exception as e:  # zipfile, zlib and the .npy reader raise many kinds for broken files
        raise ModelFileError(f"{path.name}: not a readable model file ({type(e).__name__}: {e})") from None


def _checked_architecture(archive, members, limits: Limits):
    header = members.get("architecture")
    if header is None:
        raise ModelFileError("no 'architecture' entry")
    if header.dtype.kind != "U" or header.shape != () or header.dtype.itemsize > 4 * MAX_ARCHITECTURE_CHARS:
        raise ModelFileError(f"the 'architecture' entry is a {header.dtype} array of shape {header.shape}: "
                             f"expected one string of at most {MAX_ARCHITECTURE_CHARS} characters")
    try:
        arch = json.loads(str(npzfile.read(archive, header)[()]), parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise ModelFileError(f"architecture is not valid JSON ({e})") from None
    if not isinstance(arch, dict) or arch.get("format") != FORMAT:
        raise ModelFileError(f"not an {FORMAT} file")
    version = arch.get("version")
    if isinstance(version, bool) or version not in VERSIONS:
        raise ModelFileError(f"format version {version!r:.20} is not supported (expected one of {VERSIONS})")
    required, optional = KEYS[version]
    unknown, missing = sorted(set(arch) - required - optional), sorted(required - set(arch))
    if unknown or missing:
        raise ModelFileError(f"architecture has {'unknown key ' + repr(unknown[0])[:40] if unknown else 'no ' + repr(missing[0])}: "
                             f"version {version} takes {', '.join(sorted(required | optional))}")
    meta = arch.get("meta", {})
    if not isinstance(meta, dict):
        raise ModelFileError(f"meta is a {type(meta).__name__}: it must be a JSON object")
    _check_json(meta)
    loss = arch.get("loss", "squared_error")
    if not isinstance(loss, str):
        raise ModelFileError(f"loss={loss!r:.40} is not a loss name")
    if version == 1:
        sizes, names = arch["sizes"], arch["activations"]
        if not isinstance(sizes, list) or not isinstance(names, list) or len(names) != len(sizes) - 1 or not names:
            raise ModelFileError(f"sizes {sizes!r:.60} and activations {names!r:.60} do not match")
        input_shape, layers = sizes[:1], [{"type": "dense", "size": n, "activation": f} for n, f in zip(sizes[1:], names)]
    else:
        input_shape, layers = arch["input_shape"], arch["layers"]
    try:
        plans = spec.plan(input_shape, layers)
        activations = [p.spec.get("activation") for p in plans]
        Network.check_activations(activations, plans[-1].out_shape[0], loss)
    except ValueError as e:
        raise ModelFileError(str(e)) from None
    _check_limits(plans, limits)
    n_0 = math.prod(plans[0].in_shape)
    return {"format": FORMAT, "version": version, "input_shape": list(plans[0].in_shape),
            "layers": [p.spec for p in plans], "sizes": [n_0] + [math.prod(p.out_shape) for p in plans],
            "activations": activations, "loss": loss, "parameters": sum(p.parameters for p in plans),
            "meta": meta}, plans


def _check_limits(plans, limits: Limits) -> None:
    inputs = math.prod(plans[0].in_shape)
    if inputs > limits.max_inputs:
        raise ModelFileError(f"the input has {inputs} values per sample, over the limit max_inputs={limits.max_inputs}")
    weighted = [(l, p) for l, p in enumerate(plans) if p.W_shape is not None]
    if len(weighted) - 1 > limits.max_layers:
        raise ModelFileError(f"{len(weighted) - 1} hidden layers is over the limit max_layers={limits.max_layers}")
    for l, p in weighted:
        width = p.W_shape[-1]
        if width > limits.max_width:
            unit = "neurons" if p.spec["type"] == "dense" else "channels"
            raise ModelFileError(f"layer {l + 1} has {width} {unit}, over the limit max_width={limits.max_width}")
    parameters = sum(p.parameters for p in plans)
    if parameters > limits.max_parameters:
        raise ModelFileError(f"{parameters} parameters is over the limit max_parameters={limits.max_parameters}")


def _check_arrays(members, plans) -> None:
    """Every W and b member present with a float dtype and the plan's shape, and no other member."""
    expected = {"architecture"}
    for l, p in enumerate(plans):
        if p.W_shape is None:
            continue
        for kind, shape in (("W", p.W_shape), ("b", p.b_shape)):
            header = members.get(f"{kind}{l}")
            if header is None:
                raise ModelFileError(f"layer {l + 1} weights are missing")
            if header.shape != shape:
                raise ModelFileError(f"layer {l + 1} has {kind} {header.shape}: expected {shape}")
            if header.dtype.kind != "f":
                raise ModelFileError(f"layer {l + 1} weights are not finite floats ({kind} is {header.dtype})")
            expected.add(f"{kind}{l}")
    extra = sorted(set(members) - expected)
    if extra:
        raise ModelFileError(f"unexpected entry {extra[0]!r:.60}: this architecture has no such array")


def _no_constant(name: str):
    raise ModelFileError(f"architecture holds {name}: only finite numbers are allowed")


def _check_json(value) -> None:
    """Meta must be plain JSON any reader can write back: depth ≤ MAX_META_DEPTH, finite numbers,
    integers within ±2⁶³ (orjson's range). Walked with a stack, not recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_META_DEPTH:
                raise ModelFileError(f"meta is nested more than {MAX_META_DEPTH} levels deep")
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
        elif isinstance(item, int) and not isinstance(item, bool) and not -2**63 <= item < 2**63:
            raise ModelFileError(f"meta holds the integer {str(item)[:30]}…, outside the 64-bit range")
        elif isinstance(item, float) and not math.isfinite(item):
            raise ModelFileError(f"meta holds {item}: only finite numbers are allowed")
