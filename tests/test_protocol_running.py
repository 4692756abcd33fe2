"""docs/protocol.md through FastAPI's TestClient: hello in both directions, configure (configured,
dataset, metrics, snapshot), play, pause and speed, and step with and without a trace. Every JSON
text is parsed strictly (the ``wire`` fixture): no NaN or Infinity."""
from __future__ import annotations

import time

import numpy as np
import pytest

from engine import data as toysets
from engine.network import Network
from tests.sessions import XOR, SessionByHand, configure


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


def test_no_metrics_or_snapshot_of_the_running_network_come_after_the_pause_ack(tmp_path, monkeypatch):
    """Replies go out before published messages, so metrics published while running and still
    unsent when the sender took the pause's ack went out after it, and the page showed the run
    as running again. Here the sender takes its batch at that moment, every time."""
    with SessionByHand(tmp_path, {"n_samples": 100}) as by_hand:
        by_hand.session.running = True
        by_hand.session._train_one_step()
        by_hand.session.report.refresh()   # the running network's metrics and snapshot, not sent yet
        by_hand.sender_takes_a_batch_before(monkeypatch, "refresh")
        by_hand.session._cmd_pause({"type": "pause", "id": "p"})
        by_hand.take()
    sent = by_hand.sent()
    ack = next(m for m in sent if m.get("id") == "p")
    assert [(m["type"], m.get("running")) for m in sent[sent.index(ack) + 1:]] == [("metrics", False),
                                                                                   ("snapshot", None)]


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
