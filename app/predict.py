"""Reading a drawn digit: decode the client's picture, bring it to MNIST form, run a network.

A picture arrives as either
    {"image": "data:image/png;base64,..."}                         e.g. canvas.toDataURL()
    {"width": W, "height": H, "pixels": "<base64 of W·H uint8>"}   grey, 255 = ink
and becomes the network's 784 inputs through engine.digits.to_mnist. The answer is JSON, or with
``"format": "frame"`` a binary ``prediction`` frame (docs/protocol.md): every layer's activations as
arrays, the maps of conv and pool layers quantised to bytes.
"""
from __future__ import annotations

import base64
import binascii
import io
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from engine import digits, modelfile
from engine.network import Network
from app.protocol import CommandError, Quantised, bad, choice, encode_frame, integer

MAX_SIDE = 2048                      # pictures larger than this on either side are refused
FORMATS = ["PNG", "JPEG", "WEBP", "GIF", "BMP"]
ANSWERS = ("json", "frame")          # the "format" of a prediction: JSON text, or a binary frame


def _base64(field: str, text) -> bytes:
    if not isinstance(text, str):
        raise bad(field, text, "must be a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CommandError("bad_value", f"{field} is not valid base64", field) from None


def _decode_image(url) -> Image.Image:
    if not isinstance(url, str) or not url.startswith("data:image/") or ";base64," not in url[:64]:
        raise bad("image", url, "must be a data URL such as canvas.toDataURL() gives: data:image/png;base64,...")
    raw = _base64("image", url.split(",", 1)[1])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(raw), formats=FORMATS)
            if max(picture.size) > MAX_SIDE:
                raise CommandError("limit", f"image is {picture.size[0]}×{picture.size[1]} pixels: "
                                            f"at most {MAX_SIDE} per side is accepted", "image")
            picture.load()
    except CommandError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:  # refused by Image.open itself
        raise CommandError("limit", f"image is too large ({e}): at most {MAX_SIDE} per side is accepted",
                           "image") from None
    except Exception as e:  # Pillow raises many kinds for broken or hostile files
        raise CommandError("bad_value", f"image cannot be decoded as {'/'.join(FORMATS)}: {e}", "image") from None
    if picture.mode not in digits.MODES:  # palette, 16-bit, CMYK, ...: grey, keeping any transparency
        alpha = "A" in picture.getbands() or "transparency" in picture.info
        picture = picture.convert("LA" if alpha else "L")
    return picture


def _decode_pixels(body: dict, default_side: int | None) -> np.ndarray:
    width = integer("width", body.get("width", default_side), 1, MAX_SIDE)
    height = integer("height", body.get("height", default_side), 1, MAX_SIDE)
    raw = _base64("pixels", body.get("pixels"))
    if len(raw) != width * height:
        raise CommandError("bad_value", f"pixels holds {len(raw)} bytes: expected width·height = "
                                        f"{width}·{height} = {width * height}", "pixels")
    return np.frombuffer(raw, np.uint8).reshape(height, width)


def read_digit(body: dict, default_side: int | None = None) -> np.ndarray:
    """The (28, 28) float32 MNIST-form image in a request body; CommandError if absent, broken or empty."""
    if "image" in body:
        picture = _decode_image(body["image"])
    elif "pixels" in body:
        picture = _decode_pixels(body, default_side)
    else:
        raise CommandError("bad_value", "send either image (a PNG data URL) or width, height and pixels", "image")
    try:
        return digits.to_mnist(picture)
    except digits.EmptyCanvasError:
        raise CommandError("no_ink", "no ink: draw a digit — the picture is empty",
                           "image" if "image" in body else "pixels") from None


def prediction(network: Network, x28: np.ndarray) -> dict:
    """The ``prediction`` body: digit, probabilities, the 28×28 input and every layer's activations.

    ``activations[l]`` is layer l + 1's output for the digit in the engine's layout: a list of n
    numbers for dense and flatten layers, nested [H][W][C] for conv and pool maps (engine/conv.py);
    ``layers`` gives each layer's spec (engine/spec.py) and output ``shape``."""
    if network.sizes[0] != 784 or network.sizes[-1] != 10:
        raise CommandError("bad_value", f"this network has sizes {network.sizes}: reading digits needs "
                                        "784 inputs and 10 outputs (an MNIST network)", "model")
    _, activations = network.forward_all(x28.reshape(1, 784))
    out = activations[-1][0]
    if network.activations[-1] != "softmax":  # scores, not probabilities: normalise them for display
        out = np.clip(out, 0.0, None)
        out = out / out.sum() if out.sum() > 0 else np.full(10, 0.1)
    return {"digit": int(np.argmax(out)), "probabilities": out, "input28": x28,
            "activations": [a[0] for a in activations],  # arrays: protocol.dumps writes them as numbers
            "layers": [{**layer.spec(), "shape": list(layer.out_shape)} for layer in network.layers]}


def answer_format(body: dict) -> str:
    """The ``format`` a request asks its prediction in: "json" (the default) or "frame"."""
    return choice("format", body.get("format", "json"), ANSWERS)


def prediction_frame(body: dict, **fields) -> bytes:
    """A prediction body as a binary ``prediction`` frame: digit, probabilities, layers (and
    ``fields``, e.g. id, model) in the header; arrays ``input28`` float32 (28, 28) and ``a1 … aL``,
    one per layer: float32 (n,) for dense and flatten layers, quantised uint8 (H, W, C) maps for conv
    and pool layers (one scale per layer: 6,272 bytes for a 28×28×8 conv layer instead of ~60 kB of
    JSON numbers)."""
    arrays = {"input28": body["input28"]}
    for l, a in enumerate(body["activations"], start=1):
        arrays[f"a{l}"] = Quantised(a) if a.ndim == 3 else a
    header = {"digit": body["digit"], "probabilities": [float(p) for p in body["probabilities"]],
              "layers": body["layers"], **fields}
    return encode_frame("prediction", header, arrays)


class PretrainedModels:
    """The pretrained digit models by name (Settings.pretrained_models()), each loaded on first use."""

    def __init__(self, paths: dict[str, Path]):
        self.models = {name: PretrainedModel(path) for name, path in paths.items()}
        self.default = next(iter(self.models))

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name.lower() in self.models

    def get(self, name: str | None = None) -> Network:
        return self.models[self.default if name is None else name.lower()].get()


class PretrainedModel:
    """The default digit model, loaded from its file on first use and again when the file changes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._loaded: tuple[float, Network] | None = None

    def get(self) -> Network:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime
            except FileNotFoundError:
                raise CommandError("model_missing", f"the pretrained digit model {self.path.name} is missing: "
                                                    f"run make model (expected at {self.path})") from None
            if self._loaded is None or self._loaded[0] != mtime:
                try:
                    network, _ = modelfile.load(self.path)
                except modelfile.ModelFileError as e:
                    raise CommandError("model_missing", f"the pretrained digit model cannot be read: {e}; "
                                                        "run make model") from None
                self._loaded = (mtime, network)
            return self._loaded[1]
