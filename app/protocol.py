"""The wire format of docs/protocol.md: JSON text messages, binary array frames, errors.

Binary frame:

    "NNP1" | uint32 LE header length H | H bytes of UTF-8 JSON header | zero padding to 4n
    | payloads back to back, each padded to 4n bytes

The header holds the message fields plus ``arrays``: one descriptor per array,
{"name", "dtype", "shape", "offset"} and, for quantised uint8, "scale" and "low" with
value = low + byte · scale. Offsets count from the start of the payload area.
"""
from __future__ import annotations

import json
import math
import struct

import numpy as np
import orjson

VERSION = 1
MAX_SAFE_INTEGER = 2**53 - 1  # the largest integer a JavaScript number holds exactly
MAGIC = b"NNP1"
DTYPES = ("float32", "uint8", "int32")


class CommandError(Exception):
    """A client message cannot be carried out; becomes an ``error`` message (or a 4xx in REST)."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


# -- JSON -----------------------------------------------------------------------------------
def _plain(value):
    """What orjson cannot write itself: a NumPy array that is not C-contiguous, or of another dtype."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(message: dict) -> str:
    """Compact JSON text; NumPy arrays and scalars are written as numbers, NaN and ±Infinity as null.

    orjson writes float32 arrays in float32's shortest form (1/255 is 0.003921569) and is about ten
    times faster than the json module, which matters for the prediction's 2,000 numbers. What orjson
    refuses, a string with a lone surrogate such as a client's "\\ud800", it writes with that
    surrogate spelled out."""
    try:
        return orjson.dumps(message, option=orjson.OPT_SERIALIZE_NUMPY, default=_plain).decode()
    except orjson.JSONEncodeError:
        return orjson.dumps(_spelled_out(message), option=orjson.OPT_SERIALIZE_NUMPY, default=_plain).decode()


def _spelled_out(value):
    """``value`` with every string made valid UTF-8 (lone surrogates become backslash escapes)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_spelled_out(k): _spelled_out(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_spelled_out(v) for v in value]
    return value


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON: send finite numbers")


def _integer(text: str) -> int | float:
    """A JSON integer; past 53 bits (where JavaScript's numbers end) it is read as a float, so a
    thousand-digit literal is an out-of-range number for the field checks, never a Python int
    that orjson cannot write or float() cannot convert."""
    value = int(text) if len(text) <= 17 else None
    return value if value is not None and abs(value) <= MAX_SAFE_INTEGER else float(text)


def loads(text: str | bytes):
    """Parse JSON strictly: NaN and Infinity are refused (ValueError); see _integer for big integers."""
    return json.loads(text, parse_constant=_no_constants, parse_int=_integer)


# -- binary frames --------------------------------------------------------------------------
def quantise(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(bytes, scale, low) with value ≈ low + byte · scale; non-finite values become ``low``."""
    values = np.asarray(values, dtype=np.float32)
    finite_ = np.isfinite(values)
    all_finite = bool(finite_.all())
    shown = values if all_finite else values[finite_]
    low, high = (float(shown.min()), float(shown.max())) if shown.size else (0.0, 0.0)
    scale = (high - low) / 255.0 if high > low else 1.0
    codes = np.subtract(values, np.float32(low), dtype=np.float32)  # in place from here: a snapshot
    codes *= np.float32(1.0 / scale)                                # quantises every frame
    codes += np.float32(0.5)
    if not all_finite:
        codes[~finite_] = 0.0
    return np.clip(codes, 0, 255, out=codes).astype(np.uint8), scale, low


class Quantised:
    """Marks an array to be sent as quantised uint8."""

    def __init__(self, values: np.ndarray):
        self.values = values


def _pad(n: int) -> int:
    return -n % 4


def encode_frame(kind: str, fields: dict, arrays: dict) -> bytes:
    """One binary frame: ``arrays`` maps names to numpy arrays (float → float32, ints → int32,
    uint8 as is) or to ``Quantised`` arrays."""
    descriptors, payloads, offset = [], [], 0
    for name, array in arrays.items():
        extra = {}
        if isinstance(array, Quantised):
            array, extra["scale"], extra["low"] = quantise(array.values)
        else:
            array = np.asarray(array)
            if array.dtype.kind == "f":
                array = array.astype(np.float32)
            elif array.dtype != np.uint8:
                array = array.astype(np.int32)
            if array.dtype == np.float32 and not np.isfinite(array).all():
                raise ValueError(f"array {name!r} holds NaN or infinity: frames carry finite numbers only")
        data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        descriptors.append({"name": name, "dtype": str(array.dtype), "shape": list(array.shape),
                            "offset": offset, **extra})
        payloads += [data, b"\0" * _pad(len(data))]
        offset += len(data) + _pad(len(data))
    header = dumps({"type": kind, **fields, "arrays": descriptors}).encode()
    return b"".join([MAGIC, struct.pack("<I", len(header)), header, b"\0" * _pad(len(header)), *payloads])


def decode_frame(frame: bytes) -> dict:
    """{type, ...fields, "arrays": {name: ndarray}}; quantised arrays come back as float32 values."""
    if len(frame) < 8 or frame[:4] != MAGIC:
        raise ValueError(f"not an nnplay frame: it starts with {frame[:4]!r}, expected {MAGIC!r}")
    (length,) = struct.unpack_from("<I", frame, 4)
    if 8 + length > len(frame):
        raise ValueError(f"frame header of {length} bytes does not fit in a {len(frame)}-byte frame")
    header = json.loads(frame[8:8 + length])
    start = 8 + length + _pad(length)
    arrays = {}
    for d in header.pop("arrays"):
        if d["dtype"] not in DTYPES:
            raise ValueError(f"array {d['name']!r} has dtype {d['dtype']!r}: expected one of {', '.join(DTYPES)}")
        dtype = np.dtype(d["dtype"]).newbyteorder("<")
        count = math.prod(d["shape"])
        if start + d["offset"] + count * dtype.itemsize > len(frame):
            raise ValueError(f"array {d['name']!r} runs past the end of the frame")
        array = np.frombuffer(frame, dtype, count, start + d["offset"]).reshape(d["shape"])
        if "scale" in d:
            array = (d["low"] + array * d["scale"]).astype(np.float32)
        arrays[d["name"]] = array
    return {**header, "arrays": arrays}


# -- checking fields of client messages ----------------------------------------------------
def _show(value) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def bad(field: str, value, rule: str) -> CommandError:
    return CommandError("bad_value", f"{field}={_show(value)} is invalid: {rule}", field)


def number(field: str, value, low: float, high: float, low_open: bool = False) -> float:
    """A finite number in [low, high] (or (low, high] with low_open)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad(field, value, f"must be a number {'above' if low_open else 'from'} {low:g} "
                                f"{'and at most' if low_open else 'to'} {high:g}")
    if (value <= low if low_open else value < low) or value > high:
        span = f"in ({low:g}, {high:g}]" if low_open else f"from {low:g} to {high:g}"
        raise CommandError("bad_value", f"{field}={_show(value)} is out of range: must be {span}", field)
    return float(value)


def integer(field: str, value, low: int, high: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(field, value, f"must be a whole number from {low} to {high}")
    if not low <= value <= high:
        raise CommandError("bad_value", f"{field}={value} is out of range: must be from {low} to {high}", field)
    return value


def choice(field: str, value, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise bad(field, value, f"choose one of {', '.join(choices)}")
    return value


def boolean(field: str, value) -> bool:
    if not isinstance(value, bool):
        raise bad(field, value, "must be true or false")
    return value
