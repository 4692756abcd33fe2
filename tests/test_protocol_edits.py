"""docs/protocol.md through FastAPI's TestClient: the commands that change a session's network or
data between steps (reset, set, set_weight, set_bias, add_point), probe, and save and load."""
from __future__ import annotations

import numpy as np

from engine.network import Network
from tests.sessions import XOR, configure


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
