"""docs/protocol.md's wire format without a server: the binary frame layout (header, aligned
arrays, every dtype, quantised maps), refusing NaN and Infinity, and JSON text that never holds them."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from app.protocol import Quantised, decode_frame, dumps, encode_frame, quantise


# -- binary frames and JSON ------------------------------------------------------------------
def test_frame_round_trip_keeps_every_dtype_and_quantises_within_half_a_step():
    rng = np.random.default_rng(0)
    floats = rng.normal(size=(3, 5)).astype(np.float32)
    ints = np.arange(-6, 6, dtype=np.int64).reshape(3, 4)
    small = np.array([0, 7, 255], dtype=np.uint8)
    maps = rng.uniform(-2, 3, size=(2, 7, 7))
    frame = encode_frame("snapshot", {"step": 5, "note": "é"},
                         {"W1": floats, "odd": np.ones(3, np.float32), "counts": ints, "bytes": small,
                          "maps0": Quantised(maps)})
    assert frame[:4] == b"NNP1"
    header_length = int.from_bytes(frame[4:8], "little")
    payload = 8 + header_length + (-header_length % 4)
    header = json.loads(frame[8:8 + header_length])
    assert all(d["offset"] % 4 == 0 for d in header["arrays"]) and payload % 4 == 0
    decoded = decode_frame(frame)
    assert decoded["type"] == "snapshot" and decoded["step"] == 5 and decoded["note"] == "é"
    np.testing.assert_array_equal(decoded["arrays"]["W1"], floats)
    np.testing.assert_array_equal(decoded["arrays"]["counts"], ints)
    assert decoded["arrays"]["counts"].dtype == np.int32
    np.testing.assert_array_equal(decoded["arrays"]["bytes"], small)
    step = (maps.max() - maps.min()) / 255
    assert np.abs(decoded["arrays"]["maps0"] - maps).max() <= step / 2 + 1e-6
    # the raw bytes of one array sit where its descriptor says, little-endian
    w1 = next(d for d in header["arrays"] if d["name"] == "W1")
    raw = frame[payload + w1["offset"]:payload + w1["offset"] + floats.nbytes]
    np.testing.assert_array_equal(np.frombuffer(raw, "<f4").reshape(3, 5), floats)


def test_frames_refuse_non_finite_floats_and_quantised_arrays_map_them_to_low():
    with pytest.raises(ValueError, match="NaN"):
        encode_frame("snapshot", {}, {"W1": np.array([1.0, np.nan])})
    decoded = decode_frame(encode_frame("snapshot", {}, {"m": Quantised(np.array([1.0, np.inf, 3.0, np.nan]))}))
    np.testing.assert_allclose(decoded["arrays"]["m"], [1.0, 1.0, 3.0, 1.0], atol=1e-6)
    nothing = decode_frame(encode_frame("snapshot", {}, {"m": Quantised(np.array([np.nan, -np.inf]))}))
    np.testing.assert_array_equal(nothing["arrays"]["m"], [0.0, 0.0])


def test_quantised_codes_are_the_nearest_of_256_levels_from_min_to_max():
    values = np.random.default_rng(0).normal(size=(3, 48, 48)).astype(np.float32).transpose(1, 2, 0)
    codes, scale, low = quantise(values)
    assert codes.dtype == np.uint8 and codes.shape == values.shape
    assert low == values.min() and codes.min() == 0 and codes.max() == 255
    assert np.abs(low + codes * scale - values).max() <= scale / 2 * (1 + 1e-5)


def test_decode_rejects_a_foreign_or_truncated_frame():
    frame = encode_frame("snapshot", {}, {"a": np.zeros(100, np.float32)})
    with pytest.raises(ValueError, match="not an nnplay frame"):
        decode_frame(b"XXXX" + frame[4:])
    with pytest.raises(ValueError, match="past the end"):
        decode_frame(frame[:-8])


def test_json_text_never_holds_nan_or_infinity():
    text = dumps({"a": math.nan, "b": [1.0, -math.inf], "c": np.float32("inf"), "d": np.array([np.nan, 2.0])})
    assert json.loads(text) == {"a": None, "b": [1.0, None], "c": None, "d": [None, 2.0]}
