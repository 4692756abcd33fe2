"""Model files: the weights as ``.npz`` arrays plus a JSON architecture, versioned, no pickle.

Layout of one file (a NumPy ``.npz`` zip):

    architecture   0-d unicode array holding JSON:
                   {"format": "nnplay-model", "version": 1, "sizes": [n_0, ..., n_L],
                    "activations": [...], "loss": "...", "meta": {...}}
    W0, b0, W1, b1 ...   float arrays, Wl of shape (n_l, n_{l+1}), bl of shape (n_{l+1},)

Writes are atomic: the file is written beside its target, flushed, then renamed over it.
Loading rejects anything malformed, truncated or mismatched with ``ModelFileError``.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from engine.layers import Dense
from engine.network import Network

FORMAT = "nnplay-model"
VERSION = 1


class ModelFileError(ValueError):
    """The file is not a valid nnplay model."""


def save(network: Network, path, meta: dict | None = None) -> Path:
    """Write ``network`` (and JSON-able ``meta``) to ``path`` atomically; returns the path."""
    path = Path(path)
    architecture = {"format": FORMAT, "version": VERSION, "sizes": network.sizes,
                    "activations": network.activations, "loss": network.loss.name, "meta": meta or {}}
    arrays = {"architecture": np.array(json.dumps(architecture))}
    for l, layer in enumerate(network.layers):
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


def load(path, dtype=np.float32) -> tuple[Network, dict]:
    """(network, meta) read from ``path``; ModelFileError says what is wrong otherwise."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as e:
        raise ModelFileError(f"{path.name}: not a readable model file ({e})") from None
    try:
        arch = json.loads(str(arrays.pop("architecture")))
    except KeyError:
        raise ModelFileError(f"{path.name}: no 'architecture' entry") from None
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{path.name}: architecture is not valid JSON ({e})") from None
    if not isinstance(arch, dict) or arch.get("format") != FORMAT:
        raise ModelFileError(f"{path.name}: not an {FORMAT} file")
    if arch.get("version") != VERSION:
        raise ModelFileError(f"{path.name}: format version {arch.get('version')!r} is not supported (expected {VERSION})")
    sizes, names = arch.get("sizes"), arch.get("activations")
    if not isinstance(sizes, list) or not isinstance(names, list) or len(names) != len(sizes) - 1 or not names:
        raise ModelFileError(f"{path.name}: sizes {sizes!r} and activations {names!r} do not match")
    layers = []
    for l, (n_in, n_out, f) in enumerate(zip(sizes, sizes[1:], names)):
        W, b = arrays.get(f"W{l}"), arrays.get(f"b{l}")
        if W is None or b is None:
            raise ModelFileError(f"{path.name}: layer {l + 1} weights are missing")
        if W.shape != (n_in, n_out) or b.shape != (n_out,):
            raise ModelFileError(f"{path.name}: layer {l + 1} has W {W.shape} and b {b.shape}, "
                                 f"expected ({n_in}, {n_out}) and ({n_out},)")
        if W.dtype.kind != "f" or b.dtype.kind != "f" or not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise ModelFileError(f"{path.name}: layer {l + 1} weights are not finite floats")
        try:
            layers.append(Dense(W.astype(dtype), b.astype(dtype), f))
        except ValueError as e:
            raise ModelFileError(f"{path.name}: {e}") from None
    try:
        network = Network(layers, arch.get("loss", "squared_error"))
    except ValueError as e:
        raise ModelFileError(f"{path.name}: {e}") from None
    return network, arch.get("meta") or {}
