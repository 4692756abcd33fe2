"""docs/protocol.md through FastAPI's TestClient: every client and server message type, the
binary frame layout, and no NaN or Infinity in any JSON text (the ``wire`` fixture parses
strictly)."""
from __future__ import annotations

import base64
import http.server
import json
import math
import shutil
import threading
import time
from functools import partial

import numpy as np
import pytest

from app.protocol import Quantised, decode_frame, dumps, encode_frame, quantise
from tests.conftest import TEST_HOST
from engine import data as toysets
from engine import digits, mnist
from engine.network import Network

XOR = {"dataset": "xor_table", "hidden": [2], "activation": "sigmoid", "output": "sigmoid",
       "loss": "squared_error", "optimizer": "sgd", "learning_rate": 0.5, "batch_size": 4, "seed": 3}


def configure(ws, wire, **fields):
    ws.send_json({"type": "configure", "id": "c", **fields})
    configured = wire.until(ws, "configured")
    return configured, wire.until(ws, "snapshot")


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def ws(client, wire):
    with client.websocket_connect("/ws/session") as socket:
        assert wire.recv(socket)["type"] == "hello"
        yield socket


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


# -- hello ---------------------------------------------------------------------------------------
def test_server_hello_announces_protocol_limits_presets_and_defaults(client, wire):
    with client.websocket_connect("/ws/session") as ws:
        hello = wire.recv(ws)
    assert hello["type"] == "hello" and hello["protocol"] == 1 and isinstance(hello["session"], str)
    assert hello["limits"]["max_layers"] == 8 and hello["limits"]["max_width"] == 1024
    assert {"xor", "one_neuron", "circle", "spiral", "gaussian", "xor_2d", "regression_plane", "mnist"} <= set(
        hello["presets"])
    assert hello["config"]["dataset"] == "circle"


def test_client_hello_with_version_1_is_acknowledged(ws, wire):
    ws.send_json({"type": "hello", "version": 1, "id": 9})
    assert wire.recv(ws) == {"type": "ack", "command": "hello", "protocol": 1, "id": 9}


def test_client_hello_with_another_version_gets_a_version_error_and_close_1002(ws, wire):
    ws.send_json({"type": "hello", "version": 2, "id": "h"})
    error = wire.recv(ws)
    assert error["type"] == "error" and error["code"] == "version" and error["field"] == "version"
    assert error["id"] == "h" and "2" in error["message"]
    assert wire.recv(ws) == {"type": "websocket.close", "code": 1002}


# -- configure, dataset, metrics, snapshot -----------------------------------------------------
def test_configure_replies_configured_dataset_metrics_then_snapshot(ws, wire):
    ws.send_json({"type": "configure", "id": 1, "config": {"dataset": "circle", "n_samples": 200, "hidden": [3],
                                                          "features": ["x1", "x2", "x1x2"], "seed": 4}})
    configured, dataset, metrics, snapshot = wire.take(ws, 4)
    assert [m["type"] for m in (configured, dataset, metrics, snapshot)] == ["configured", "dataset", "metrics",
                                                                              "snapshot"]
    assert configured["id"] == 1
    assert configured["network"] == {"sizes": [3, 3, 1], "activations": ["tanh", "tanh"], "loss": "squared_error"}
    assert configured["dataset"]["n_train"] == 100 and configured["dataset"]["problem"] == "classification"
    assert configured["config"]["learning_rate"] == 0.03  # omitted fields keep their values
    assert configured["state"] == {"running": False, "steps_per_second": None, "step": 0, "epoch": 0}
    expected = toysets.toy("circle", 200, 0.0, 0.5, 4)
    np.testing.assert_allclose(dataset["arrays"]["X_train"], expected.X_train, rtol=1e-6)
    np.testing.assert_array_equal(dataset["arrays"]["y_train"], expected.y_train)
    assert metrics["step"] == 0 and metrics["running"] is False and metrics["grad_norms"] == []
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["test_rows"] == 100
    net = Network.create([3, 3, 1], ["tanh", "tanh"], init="xavier", seed=4)
    np.testing.assert_array_equal(snapshot["arrays"]["W1"], net.layers[0].W)
    np.testing.assert_array_equal(snapshot["arrays"]["b2"], net.layers[1].b)
    assert snapshot["resolution"] == 48 and snapshot["extent"] == 6
    assert [snapshot["arrays"][f"maps{l}"].shape for l in range(3)] == [(3, 48, 48), (3, 48, 48), (1, 48, 48)]
    # maps0 is the input features over the plane: x1·x2 is +36 in the top-right corner
    assert snapshot["arrays"]["maps0"][2, 0, -1] == pytest.approx(36, abs=0.3)
    # the output map is the network's own output on the grid
    grid = toysets.features(toysets.grid(48), ["x1", "x2", "x1x2"])
    out = net.forward(grid)[:, 0].reshape(48, 48)
    step = (out.max() - out.min()) / 255
    assert np.abs(snapshot["arrays"]["maps2"][0] - out).max() <= step / 2 + 1e-5


def test_configure_with_a_preset_takes_its_config_and_speed(ws, wire):
    configured, snapshot = configure(ws, wire, preset="xor", config={"seed": 1})
    assert configured["network"]["sizes"] == [2, 2, 1] and configured["config"]["batch_size"] == 4
    assert configured["config"]["seed"] == 1 and configured["state"]["steps_per_second"] == 150
    assert snapshot["extent"] == 1.5


def test_big_networks_get_maps_for_inputs_and_outputs_only(ws, wire):
    _, snapshot = configure(ws, wire, config={"hidden": [200, 200], "n_samples": 50})
    assert sorted(k for k in snapshot["arrays"] if k.startswith("maps")) == ["maps0", "maps3"]


# -- play, pause, speed --------------------------------------------------------------------------
def test_play_streams_metrics_and_snapshots_until_pause(ws, wire):
    configure(ws, wire, config={"n_samples": 100})
    ws.send_json({"type": "play", "id": 2})
    ack = wire.until(ws, "ack")
    assert ack == {"type": "ack", "command": "play", "id": 2,
                   "state": {"running": True, "steps_per_second": None, "step": 0, "epoch": 0}}
    steps, snapshots = [], 0
    while len(steps) < 5 or snapshots < 2:
        message = wire.recv(ws)
        if message["type"] == "metrics":
            assert message["running"] is True
            steps.append(message["step"])
        snapshots += message["type"] == "snapshot"
    assert steps == sorted(steps) and steps[-1] > steps[0]
    ws.send_json({"type": "pause"})
    ack = wire.until(ws, "ack")
    assert ack["command"] == "pause" and ack["state"]["running"] is False and ack["state"]["step"] >= steps[-1]
    metrics = wire.until(ws, "metrics")
    assert metrics["running"] is False and metrics["step"] == ack["state"]["step"]


def test_speed_throttles_training(ws, wire):
    configure(ws, wire, config={"n_samples": 100})
    ws.send_json({"type": "speed", "steps_per_second": 20, "id": "s"})
    assert wire.recv(ws) == {"type": "ack", "command": "speed", "id": "s",
                             "state": {"running": False, "steps_per_second": 20, "step": 0, "epoch": 0}}
    ws.send_json({"type": "play"})
    wire.until(ws, "ack")
    first = wire.until(ws, "metrics")
    started = time.monotonic()
    while time.monotonic() - started < 1.0:
        last = wire.until(ws, "metrics")
    elapsed = time.monotonic() - started
    ws.send_json({"type": "pause"})
    # 20 steps a second: never more than that (plus a catch-up allowance of 0.1 s)
    assert 0 < last["step"] - first["step"] <= 20 * (elapsed + 0.1) + 1
    assert wire.until(ws, "ack")["command"] == "pause"
    ws.send_json({"type": "speed", "steps_per_second": None})
    assert wire.until(ws, "ack")["state"]["steps_per_second"] is None


# -- step and trace ------------------------------------------------------------------------------
def test_step_with_trace_sends_the_engine_s_matrices(ws, wire):
    configure(ws, wire, config=XOR)
    ws.send_json({"type": "step", "trace": True, "id": 7})
    ack, trace, metrics, snapshot = wire.take(ws, 4)
    assert ack == {"type": "ack", "command": "step", "unit": "batch", "id": 7,
                   "state": {"running": False, "steps_per_second": None, "step": 1, "epoch": 1}}
    assert trace["type"] == "trace" and trace["id"] == 7 and trace["step"] == 1
    assert metrics["type"] == "metrics" and metrics["step"] == 1 and len(metrics["grad_norms"]) == 2
    assert snapshot["type"] == "snapshot" and snapshot["step"] == 1
    assert trace["learning_rate"] == 0.5 and trace["loss_name"] == "squared_error"
    assert trace["activations"] == ["sigmoid", "sigmoid"]
    W, dW, W_new = (np.array(trace[k][0]) for k in ("W", "dW", "W_new"))
    assert W.shape == (2, 2) and len(trace["X"]) == 4 and np.array(trace["b"][1]).shape == (1,)
    np.testing.assert_allclose(W_new, W - 0.5 * dW, rtol=1e-5, atol=1e-7)  # plain SGD
    # the first weights are the seeded network's, and the snapshot shows the updated ones
    np.testing.assert_array_equal(W, Network.create([2, 2, 1], "sigmoid", init="xavier", seed=3).layers[0].W)
    np.testing.assert_allclose(snapshot["arrays"]["W1"], W_new, rtol=1e-6)
    # error = target − output, for the rows of the batch
    np.testing.assert_allclose(np.array(trace["error"]), np.array(trace["Y"]) - np.array(trace["a"][-1]), atol=1e-6)
    assert trace["fprime"][0] is not None and trace["grad_a"][-1] is None


def test_step_by_epoch_runs_one_pass(ws, wire):
    configure(ws, wire, config={"n_samples": 100, "batch_size": 7})  # 50 training points: 8 steps
    ws.send_json({"type": "step", "unit": "epoch"})
    ack = wire.until(ws, "ack")
    assert ack["unit"] == "epoch" and ack["state"]["step"] == 8 and ack["state"]["epoch"] == 1


def test_trace_is_refused_for_a_wide_network_naming_the_limit(ws, wire):
    configure(ws, wire, config={"hidden": [17], "n_samples": 40})
    ws.send_json({"type": "step", "trace": True, "id": 1})
    error = wire.recv(ws)
    assert error["code"] == "limit" and error["field"] == "trace" and "16" in error["message"] and error["id"] == 1


# -- reset, set, set_weight, set_bias, add_point ---------------------------------------------------
def test_reset_brings_back_the_seeded_weights(ws, wire):
    _, before = configure(ws, wire, config=XOR)
    ws.send_json({"type": "step"})
    wire.until(ws, "snapshot")
    ws.send_json({"type": "reset", "id": 3})
    ack = wire.until(ws, "ack")
    assert ack["command"] == "reset" and ack["seed"] == 3 and ack["state"]["step"] == 0
    after = wire.until(ws, "snapshot")
    np.testing.assert_array_equal(after["arrays"]["W1"], before["arrays"]["W1"])
    ws.send_json({"type": "reset", "seed": 5})
    wire.until(ws, "ack")
    other = wire.until(ws, "snapshot")
    np.testing.assert_array_equal(other["arrays"]["W1"], Network.create([2, 2, 1], "sigmoid", seed=5).layers[0].W)


def test_set_changes_hyperparameters_between_steps(ws, wire):
    configure(ws, wire, config=XOR)
    ws.send_json({"type": "set", "learning_rate": 0.25, "regularization": "l2", "regularization_rate": 0.01, "id": 4})
    assert wire.recv(ws) == {"type": "ack", "command": "set", "learning_rate": 0.25, "regularization": "l2",
                             "regularization_rate": 0.01, "id": 4}
    ws.send_json({"type": "step", "trace": True})
    assert wire.until(ws, "trace")["learning_rate"] == 0.25


def test_set_weight_and_set_bias_show_in_the_next_snapshot(ws, wire):
    configure(ws, wire, config=XOR)
    ws.send_json({"type": "set_weight", "layer": 2, "from": 1, "to": 0, "value": 2.5, "id": 1})
    ack = wire.recv(ws)
    assert ack == {"type": "ack", "command": "set_weight", "layer": 2, "from": 1, "to": 0, "value": 2.5, "id": 1}
    assert wire.until(ws, "snapshot")["arrays"]["W2"][1, 0] == 2.5
    ws.send_json({"type": "set_bias", "layer": 1, "neuron": 1, "value": -1.5})
    assert wire.recv(ws)["command"] == "set_bias"
    assert wire.until(ws, "snapshot")["arrays"]["b1"][1] == -1.5


def test_add_point_appends_a_training_point(ws, wire):
    configure(ws, wire, config={"dataset": "gaussian", "n_samples": 20})
    ws.send_json({"type": "add_point", "x1": 5.5, "x2": -4, "label": 1, "id": 6})
    ack = wire.recv(ws)
    assert ack == {"type": "ack", "command": "add_point", "point": [5.5, -4.0, 1], "n_train": 11, "id": 6}
    dataset = wire.recv(ws)
    assert dataset["type"] == "dataset"
    np.testing.assert_array_equal(dataset["arrays"]["X_train"][-1], [5.5, -4.0])
    assert dataset["arrays"]["y_train"][-1] == 1
    # the point is part of the config from now on: a reconfigure keeps it
    configured, _ = configure(ws, wire, config={"noise": 0.1})
    assert configured["config"]["points"] == [[5.5, -4.0, 1]] and configured["dataset"]["n_train"] == 11


# -- probe -----------------------------------------------------------------------------------------
def test_probe_returns_every_layer_for_raw_inputs(ws, wire):
    configure(ws, wire, config={"hidden": [3], "features": ["x1", "x2", "x1^2"], "seed": 2, "n_samples": 20})
    ws.send_json({"type": "probe", "inputs": [[1.0, 2.0], [-3.0, 0.5]], "id": "p"})
    probe = wire.recv(ws)
    assert probe["type"] == "probe" and probe["id"] == "p"
    net = Network.create([3, 3, 1], "tanh", seed=2)
    X = np.array([[1.0, 2.0, 1.0], [-3.0, 0.5, 9.0]])
    assert np.allclose(probe["activations"][0], X)
    z, a = net.forward_all(X)
    for mine, theirs in zip(probe["activations"][1:], a):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5)


# -- save and load -----------------------------------------------------------------------------------
def test_save_then_load_restores_the_weights(client, ws, wire):
    _, first = configure(ws, wire, config=XOR)
    ws.send_json({"type": "save", "name": "my-xor_1", "id": "s"})
    saved = wire.recv(ws)
    assert saved["type"] == "saved" and saved["name"] == "my-xor_1" and saved["id"] == "s"
    assert saved["network"]["sizes"] == [2, 2, 1] and saved["model"]["meta"]["dataset"] == "xor_table"
    assert [m["name"] for m in client.get("/api/models").json()["models"]] == ["my-xor_1"]
    configure(ws, wire, config={"seed": 11})
    ws.send_json({"type": "load", "name": "my-xor_1", "id": "l"})
    loaded = wire.recv(ws)
    assert loaded["type"] == "loaded" and loaded["name"] == "my-xor_1" and loaded["id"] == "l"
    assert loaded["network"] == saved["network"] and loaded["config"]["hidden"] == [2]
    snapshot = wire.until(ws, "snapshot")
    np.testing.assert_array_equal(snapshot["arrays"]["W1"], first["arrays"]["W1"])


def test_load_of_a_missing_model_is_not_found_and_a_bad_name_names_the_rule(ws, wire):
    ws.send_json({"type": "load", "name": "nothing-here"})
    error = wire.recv(ws)
    assert error["code"] == "not_found" and error["field"] == "name"
    ws.send_json({"type": "save", "name": "../../etc/passwd"})
    error = wire.recv(ws)
    assert error["code"] == "bad_value" and error["field"] == "name" and "^[A-Za-z0-9]" in error["message"]


def test_load_refuses_a_model_with_other_inputs(ws, wire):
    configure(ws, wire, config=XOR)
    ws.send_json({"type": "save", "name": "two-inputs"})
    wire.recv(ws)
    configure(ws, wire, config={"dataset": "one_neuron", "hidden": []})
    ws.send_json({"type": "load", "name": "two-inputs"})
    error = wire.recv(ws)
    assert error["code"] == "bad_value" and "3 inputs" in error["message"]


# -- errors ----------------------------------------------------------------------------------------
def test_divergence_pauses_the_session_with_a_diverged_error_and_no_nan(ws, wire):
    configure(ws, wire, config={"dataset": "plane", "output": "linear", "hidden": [8, 8], "activation": "linear",
                                "learning_rate": 100, "n_samples": 100})
    ws.send_json({"type": "play"})
    error = wire.until(ws, "error")
    assert error["code"] == "diverged" and "learning_rate" in error["message"] and "too high" in error["message"]
    metrics = wire.until(ws, "metrics")  # parsed strictly: no NaN anywhere
    assert metrics["running"] is False
    snapshot = wire.until(ws, "snapshot")
    assert all(np.isfinite(a).all() for a in snapshot["arrays"].values())
    for attempt in range(50):  # the session lives on: stepping again diverges again, soon
        ws.send_json({"type": "step", "id": attempt})
        while (reply := wire.recv(ws)).get("id") != attempt:
            pass
        if reply["type"] == "error":
            break
    assert reply["code"] == "diverged" and reply["field"] == "learning_rate"


def test_after_a_divergence_the_session_holds_finite_weights_and_goes_on_from_the_restored_step(ws, wire):
    """Issue 14's repro: plane, linear units, learning rate 1 diverges at once."""
    configure(ws, wire, config={"dataset": "plane", "activation": "linear", "output": "linear", "learning_rate": 1})
    ws.send_json({"type": "play"})
    error = wire.until(ws, "error")
    assert error["code"] == "diverged" and error["learning_rate"] == 1
    assert error["restored_step"] < error["step"] and error["state"]["running"] is False
    metrics = wire.until(ws, "metrics")
    assert metrics["step"] == error["restored_step"] == error["state"]["step"]
    assert metrics["train_loss"] is not None and metrics["test_loss"] is not None   # finite: null means ∞ or NaN
    ws.send_json({"type": "set", "learning_rate": 0.001, "id": "lr"})
    assert wire.until(ws, "ack")["learning_rate"] == 0.001
    ws.send_json({"type": "play"})
    while (m := wire.until(ws, "metrics"))["step"] < error["restored_step"] + 200:
        assert m["train_loss"] is not None
    ws.send_json({"type": "pause", "id": "p"})
    while (reply := wire.recv(ws)).get("id") != "p":
        assert reply["type"] != "error", reply
    assert m["train_loss"] < metrics["train_loss"]


def test_mnist_test_figures_are_measured_early_in_the_first_epoch_and_say_where(ws, wire, mnist_dir):
    configured, _ = configure(ws, wire, preset="mnist", config={"mnist_train_size": 20000})   # 157 steps an epoch
    steps_per_epoch = math.ceil(configured["dataset"]["n_train"] / configured["config"]["batch_size"])
    ws.send_json({"type": "play"})
    measured = set()
    while (m := wire.until(ws, "metrics"))["epoch"] == 0:
        assert m["test_step"] <= m["step"]
        measured.add(m["test_step"])
    ws.send_json({"type": "pause"})
    early = sorted(step for step in measured if 0 < step < steps_per_epoch)
    assert len(early) >= 3, early    # the test line moves within the first epoch, not only at its end


@pytest.mark.parametrize("text, code, field", [
    ("{not json", "bad_json", None),
    ("[1, 2]", "bad_json", None),
    ('{"type": "play", "x": NaN}', "bad_json", None),
    ('{"id": 1}', "unknown_command", "type"),
    ('{"type": "fly"}', "unknown_command", "type"),
    ('{"type": "play", "id": [1]}', "bad_value", "id"),
    ('{"type": "configure", "config": {"hidden": [4, "x"]}}', "bad_value", "hidden"),
    ('{"type": "configure", "config": {"learning_rate": 0}}', "bad_value", "learning_rate"),
    ('{"type": "configure", "config": {"dataset": "moons"}}', "bad_value", "dataset"),
    ('{"type": "configure", "config": {"colour": "red"}}', "bad_value", "colour"),
    ('{"type": "configure", "config": {"loss": "cross_entropy"}}', "bad_value", "loss"),
    ('{"type": "configure", "config": "circle"}', "bad_value", "config"),
    ('{"type": "configure", "preset": "nope"}', "bad_value", "preset"),
    ('{"type": "configure", "config": {"hidden": [1,1,1,1,1,1,1,1,1]}}', "limit", "hidden"),
    ('{"type": "configure", "config": {"hidden": [1025]}}', "limit", "hidden"),
    ('{"type": "configure", "config": {"n_samples": 5001}}', "limit", "n_samples"),
    ('{"type": "step", "unit": "week"}', "bad_value", "unit"),
    ('{"type": "step", "trace": "yes"}', "bad_value", "trace"),
    ('{"type": "set", "learning_rate": -1}', "bad_value", "learning_rate"),
    ('{"type": "set", "momentum": 0.9}', "bad_value", "momentum"),
    ('{"type": "set", "batch_size": 1.5}', "bad_value", "batch_size"),
    ('{"type": "speed", "steps_per_second": 0}', "bad_value", "steps_per_second"),
    ('{"type": "speed", "steps_per_second": "fast"}', "bad_value", "steps_per_second"),
    ('{"type": "set_weight", "layer": 9, "from": 0, "to": 0, "value": 1}', "bad_value", "layer"),
    ('{"type": "set_weight", "layer": 1, "from": 5, "to": 0, "value": 1}', "bad_value", "from"),
    ('{"type": "set_weight", "layer": 1, "from": 0, "to": 0, "value": 1e9}', "bad_value", "value"),
    ('{"type": "set_bias", "layer": 1, "neuron": -1, "value": 1}', "bad_value", "neuron"),
    ('{"type": "add_point", "x1": 7, "x2": 0, "label": 1}', "bad_value", "x1"),
    ('{"type": "add_point", "x1": 1, "x2": 0, "label": 2}', "bad_value", "label"),
    ('{"type": "probe", "inputs": [[1, 2, 3]]}', "bad_value", "inputs"),
    ('{"type": "probe", "inputs": []}', "bad_value", "inputs"),
    ('{"type": "predict", "pixels": "AAAA"}', "bad_value", "pixels"),
    ('{"type": "predict", "pixels": "not base64!"}', "bad_value", "pixels"),
    ('{"type": "predict", "image": "data:image/png;base64,iVBORw0KGgo="}', "bad_value", "image"),
    ('{"type": "predict", "image": "http://example.com/a.png"}', "bad_value", "image"),
    ('{"type": "save", "name": ""}', "bad_value", "name"),
    ('{"type": "load", "name": ".hidden"}', "bad_value", "name"),
])
def test_bad_input_gets_an_error_naming_the_field_and_the_session_lives_on(ws, wire, text, code, field):
    ws.send_text(text)
    error = wire.recv(ws)
    assert error["type"] == "error" and error["code"] == code and error["field"] == field, error
    assert len(error["message"]) > 10
    ws.send_json({"type": "step", "id": "after"})
    ack = wire.recv(ws)
    assert ack["type"] == "ack" and ack["id"] == "after"


def test_an_oversized_message_is_refused_naming_the_limit(make_client, wire):
    client = make_client(max_message_bytes=2048)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "probe", "inputs": [[0.0, 0.0]] * 300})
        error = wire.recv(ws)
        assert error["code"] == "limit" and "max_message_bytes=2048" in error["message"]
        ws.send_json({"type": "play", "id": 1})
        assert wire.recv(ws)["type"] == "ack"


def test_binary_client_messages_are_refused(ws, wire):
    ws.send_bytes(b"\x00\x01")
    assert wire.recv(ws)["code"] == "bad_json"


# -- MNIST: predict, evaluation, mnist_missing, download -------------------------------------------
@pytest.fixture(scope="module")
def mnist_session(mnist_dir, tmp_path_factory, wire):
    """One app and one MNIST session (500 training images) for this module's MNIST tests."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings
    settings = Settings.from_env({"NNPLAY_DATA_DIR": str(mnist_dir),
                                  "NNPLAY_MODELS_DIR": str(tmp_path_factory.mktemp("models")),
                                  "NNPLAY_ALLOWED_HOSTS": TEST_HOST})
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "preset": "mnist", "config": {"mnist_train_size": 500}})
        configured = wire.until(ws, "configured")
        snapshot = wire.until(ws, "snapshot")
        yield ws, configured, snapshot


def test_mnist_configure_and_snapshot(mnist_session):
    _, configured, snapshot = mnist_session
    assert configured["network"]["sizes"] == [784, 128, 64, 10]
    assert configured["dataset"]["n_train"] == 500 and configured["dataset"]["n_test"] == 10000
    assert "W1" not in snapshot["arrays"] and snapshot["arrays"]["W2"].shape == (128, 64)
    assert snapshot["arrays"]["weights_img"].shape == (128, 28, 28)
    assert snapshot["arrays"]["probe0"].shape == (1, 784) and snapshot["arrays"]["probe3"].shape == (1, 10)
    assert snapshot["probe_label"] in range(10)


def test_mnist_pause_sends_an_evaluation_over_the_whole_test_set(mnist_session, wire):
    ws = mnist_session[0]
    ws.send_json({"type": "step", "unit": "epoch"})
    wire.until(ws, "ack")
    evaluation = wire.until(ws, "evaluation")
    confusion = evaluation["arrays"]["confusion"]
    assert confusion.shape == (10, 10) and confusion.dtype == np.int32 and confusion.sum() == 10000
    assert evaluation["test_accuracy"] == pytest.approx(np.trace(confusion) / 10000)
    k = len(evaluation["gallery_labels"])
    assert evaluation["arrays"]["gallery"].shape == (k, 28, 28) and 0 < k <= 32
    assert all(t != p for t, p in zip(evaluation["gallery_labels"], evaluation["gallery_predicted"]))
    metrics = wire.until(ws, "metrics")
    assert metrics["test_rows"] == 10000 and metrics["test_accuracy"] == evaluation["test_accuracy"]


def test_predict_in_an_mnist_session_reads_the_drawn_digit(mnist_session, wire):
    ws = mnist_session[0]
    strokes = [[(140, 40), (140, 240)]]
    pixels = digits.draw_strokes(strokes, size=280, pen_width=24)
    ws.send_json({"type": "predict", "id": 5, "width": 280, "height": 280,
                  "pixels": base64.b64encode(pixels.tobytes()).decode()})
    prediction = wire.until(ws, "prediction")
    assert prediction["id"] == 5
    assert len(prediction["probabilities"]) == 10 and sum(prediction["probabilities"]) == pytest.approx(1, abs=1e-5)
    assert prediction["digit"] == int(np.argmax(prediction["probabilities"]))
    np.testing.assert_allclose(prediction["input28"], digits.to_mnist(pixels), atol=1e-6)
    assert [len(a) for a in prediction["activations"]] == [128, 64, 10]
    ws.send_json({"type": "predict", "pixels": base64.b64encode(bytes(784)).decode(), "id": 6})
    error = wire.until(ws, "error")
    assert error["code"] == "no_ink" and "draw a digit" in error["message"] and error["id"] == 6


def test_predict_needs_an_mnist_network(ws, wire):
    ws.send_json({"type": "predict", "pixels": base64.b64encode(bytes(range(255)) * 3 + bytes(19)).decode()})
    error = wire.recv(ws)
    assert error["code"] == "bad_value" and "784 inputs" in error["message"]


def test_mnist_missing_is_reported_when_configuring_without_the_files(make_client, tmp_path, wire):
    client = make_client(data_dir=tmp_path / "empty")
    assert client.get("/api/mnist").json()["ready"] is False
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "preset": "mnist", "id": 1})
        error = wire.recv(ws)
        assert error["code"] == "mnist_missing" and error["field"] == "dataset" and "download" in error["message"]


@pytest.fixture
def mirror(mnist_dir):
    """A local HTTP server holding the MNIST .gz files, as a download mirror."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(mnist_dir))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_download_mnist_reports_progress_then_acks(make_client, mirror, tmp_path, wire):
    client = make_client(data_dir=tmp_path / "mnist", mnist_mirrors=(mirror,))
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "download_mnist", "id": "d"})
        progress = []
        while (message := wire.recv(ws))["type"] == "download":
            progress.append(message)
        assert message == {"type": "ack", "command": "download_mnist", "id": "d",
                           "mnist": {**mnist.status(tmp_path / "mnist"), "loaded": False, "downloading": False}}
        assert message["mnist"]["ready"] is True
        assert {p["file"] for p in progress} == set(mnist.FILES)
        finished = [p for p in progress if p["total"] and p["done"] == p["total"]]
        assert len(finished) == 4
    shutil.rmtree(tmp_path / "mnist")
