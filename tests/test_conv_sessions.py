"""Convolutional networks in sessions (issue 15): the ``architecture`` and ``layers`` config fields,
their limits published in the schema, bad conv settings refused naming the setting, the value and
the range (over the WebSocket and in the CLI), the memory budget for conv layers, snapshots and
evaluations of a conv network, and loading a saved conv model."""
from __future__ import annotations

import math

import numpy as np
import pytest

from app import budget
from app import config as cfg
from app import schema
from app.cli import main
from app.settings import Settings
from engine import modelfile, spec
from engine.network import Network

LENET = [{"type": "conv", "size": 5, "channels": 4, "padding": "valid"}, {"type": "pool"},
         {"type": "conv", "size": 3, "channels": 6, "padding": "valid"}, {"type": "pool"},
         {"type": "flatten"}, {"type": "dense", "size": 16}]
CONV = {"dataset": "mnist", "architecture": "conv", "layers": LENET, "output": "softmax", "loss": "cross_entropy",
        "activation": "relu", "init": "he", "optimizer": "adam", "learning_rate": 0.003, "batch_size": 32,
        "mnist_train_size": 500}


def reply(wire, ws, id_):
    for _ in range(5000):
        message = wire.recv(ws)
        if message.get("id") == id_:
            return message
        assert message["type"] != "websocket.close"
    raise AssertionError(f"no reply {id_!r}")


@pytest.fixture
def session(make_client, wire, mnist_dir):
    client = make_client(data_dir=mnist_dir)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        yield client, ws


def test_the_schema_publishes_the_conv_fields_and_limits_from_settings():
    s = schema.build(Settings.from_env({"NNPLAY_MAX_KERNEL": "7", "NNPLAY_MAX_WIDTH": "32", "NNPLAY_MAX_LAYERS": "3"}))
    layers = s["fields"]["layers"]
    assert layers["type"] == "spec" and layers["default"] == cfg.DEFAULT["layers"]
    assert (layers["max_kernel"], layers["max_width"], layers["max_layers"]) == (7, 32, 3)
    assert layers["layer_types"] == list(spec.LAYER_TYPES) and layers["paddings"] == ["same", "valid"]
    assert [c["value"] for c in s["fields"]["architecture"]["choices"]] == ["dense", "conv"]
    assert s["limits"]["max_kernel"] == 7
    assert [m["name"] for m in s["pretrained"]["models"]] == ["pretrained", "pretrained-dense"]
    assert s["pretrained"]["default"] == "pretrained"


def test_a_conv_session_trains_and_shows_kernels_maps_and_an_evaluation(session, wire):
    client, ws = session
    ws.send_json({"type": "configure", "config": {**CONV, "mnist_train_size": 2000}, "id": "c"})
    configured = reply(wire, ws, "c")
    assert configured["type"] == "configured", configured
    network = configured["network"]
    assert network["input_shape"] == [28, 28, 1] and network["layers"][0]["type"] == "conv"
    assert network["shapes"] == [[24, 24, 4], [12, 12, 4], [10, 10, 6], [5, 5, 6], [150], [16], [10]]
    snapshot = wire.until(ws, "snapshot")
    arrays = snapshot["arrays"]
    assert arrays["W1"].shape == (5, 5, 1, 4) and arrays["W3"].shape == (3, 3, 4, 6) and "W2" not in arrays
    assert arrays["weights_img"].shape == (4, 5, 5)   # the first conv layer's kernels
    np.testing.assert_allclose(arrays["weights_img"], arrays["W1"][:, :, 0, :].transpose(2, 0, 1),
                               atol=float(np.ptp(arrays["W1"])) / 255)
    assert arrays["probe1"].shape == (1, 24, 24, 4)
    ws.send_json({"type": "step", "unit": "epoch", "id": "e"})
    assert reply(wire, ws, "e")["state"]["epoch"] == 1
    evaluation = wire.until(ws, "evaluation")
    assert evaluation["arrays"]["confusion"].sum() == 10000 and evaluation["test_accuracy"] > 0.5   # chance: 0.1


def test_set_weight_edits_dense_layers_only(session, wire):
    _, ws = session
    ws.send_json({"type": "configure", "config": CONV, "id": "c"})
    reply(wire, ws, "c")
    for layer in (1, 2, 5):   # conv, pool, flatten
        ws.send_json({"type": "set_weight", "layer": layer, "from": 0, "to": 0, "value": 1, "id": layer})
        error = reply(wire, ws, layer)
        assert error["code"] == "bad_value" and error["field"] == "layer"
        assert f"layer {layer} is a" in error["message"] and "layers 6, 7" in error["message"]
    ws.send_json({"type": "set_weight", "layer": 6, "from": 3, "to": 2, "value": 2.5, "id": "ok"})
    assert reply(wire, ws, "ok")["type"] == "ack"


BAD = [  # (layers, code, words in the message)
    ([{"type": "conv", "size": 5, "channels": 4, "padding": "valid"}, {"type": "pool"}, {"type": "pool"},
      {"type": "conv", "size": 9, "channels": 4}, {"type": "flatten"}], "bad_value",
     ["layers[3].size=9", "from 1 to 6", "6×6 maps"]),   # the kernel is larger than the maps coming in
    ([{"type": "conv", "size": 5, "channels": 0}, {"type": "flatten"}], "bad_value", ["layers[0].channels=0", "from 1 to"]),
    ([{"type": "conv", "size": 5, "channels": 2, "padding": "valid"}] + [{"type": "pool"}] * 5 + [{"type": "flatten"}],
     "bad_value", ["layers[5] (pool)", "1×1×2"]),
    ([{"type": "conv", "size": 5, "channels": 4}, {"type": "dense", "size": 10}], "bad_value",
     ["layers[1] (dense)", "28×28×4", "flatten"]),
    ([{"type": "conv", "size": 5, "channels": 4}], "bad_value", ["ends with 28×28×4 maps", "flatten"]),
    ([{"type": "conv", "size": 11, "channels": 4}, {"type": "flatten"}], "limit", ["layers[0].size=11", "max_kernel=9"]),
    ([{"type": "conv", "size": 3, "channels": 2000}, {"type": "flatten"}], "limit", ["layers[0].channels=2000", "max_width=1024"]),
    ([{"type": "conv", "size": 3, "channels": 2}] * 9 + [{"type": "flatten"}], "limit", ["9 conv and dense layers", "max_layers=8"]),
    ([{"type": "flatten"}, {"type": "conv", "size": 3, "channels": 2}], "bad_value", ["layers[1] (conv)", "maps"]),
    ([{"type": "conv", "size": 3, "channels": 2, "stride": 2}], "bad_value", ["unknown setting", "stride"]),
    ([{"type": "conv", "size": 3.5, "channels": 2}], "bad_value", ["layers[0].size=3.5", "whole number"]),
    ("conv 5x5x8", "bad_value", ["layers=", "list of layer objects"]),
]


@pytest.mark.parametrize("layers, code, words", BAD, ids=range(len(BAD)))
def test_bad_conv_settings_are_refused_naming_setting_value_and_range(session, wire, layers, code, words):
    _, ws = session
    ws.send_json({"type": "configure", "config": {**CONV, "layers": layers}, "id": "bad"})
    error = reply(wire, ws, "bad")
    assert error["type"] == "error" and error["code"] == code and error["field"] == "layers", error
    for word in words:
        assert word in error["message"], (word, error["message"])
    ws.send_json({"type": "configure", "config": CONV, "id": "good"})   # the session lives on
    assert reply(wire, ws, "good")["type"] == "configured"


def test_conv_layers_need_images(session, wire):
    _, ws = session
    ws.send_json({"type": "configure", "config": {"dataset": "circle", "architecture": "conv"}, "id": "c"})
    error = reply(wire, ws, "c")
    assert error["code"] == "bad_value" and error["field"] == "architecture" and "mnist" in error["message"]


def test_a_dense_network_ignores_layers_beyond_the_limits_until_it_is_conv(make_client, wire):
    client = make_client(max_width=32)   # the default conv layers have a dense layer of 64
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "preset": "xor", "id": "x"})
        assert reply(wire, ws, "x")["type"] == "configured"


def test_the_memory_estimate_counts_conv_columns_and_refuses_a_huge_conv_network(session, wire):
    plans = spec.plan([28, 28, 1], [{"type": "conv", "size": 5, "channels": 8, "padding": "valid"}, {"type": "pool"},
                                    {"type": "flatten"}, {"type": "dense", "size": 10}])
    P = 5 * 5 * 8 + 8 + 1152 * 10 + 10
    sizes = [784, 24 * 24 * 8, 12 * 12 * 8, 1152, 10]
    columns = 24 * 24 * 25                       # the conv layer's im2col values per sample
    rows = min(1000, (1 << 23) // columns)       # an evaluation runs in chunks of rows
    expected = (4 * P + 3 * P + 4 * 64 * sum(sizes) + 2 * 64 * columns + 3 * rows * max(sizes) + rows * columns) * 4
    assert budget.estimate(plans, 64, 2, 1000) == expected
    _, ws = session
    huge = [{"type": "conv", "size": 9, "channels": 512}, {"type": "conv", "size": 9, "channels": 512}, {"type": "flatten"}]
    ws.send_json({"type": "configure", "config": {**CONV, "layers": huge}, "id": "h"})
    error = reply(wire, ws, "h")
    assert error["code"] == "limit" and "session_memory_mb=128" in error["message"] and "conv 9×9×512" in error["message"]


def test_a_saved_conv_model_loads_into_a_session_with_its_layers(session, wire, tmp_path):
    client, ws = session
    net = Network.from_spec([28, 28, 1], [*LENET, {"type": "dense", "size": 10, "activation": "softmax"}],
                            "cross_entropy", init="he", seed=3)
    (tmp_path / "models").mkdir(exist_ok=True)
    modelfile.save(net, tmp_path / "models" / "lenet.npz")
    ws.send_json({"type": "configure", "preset": "mnist", "config": {"mnist_train_size": 500}, "id": "c"})
    reply(wire, ws, "c")
    ws.send_json({"type": "load", "name": "lenet", "id": "l"})
    loaded = reply(wire, ws, "l")
    assert loaded["type"] == "loaded", loaded
    assert loaded["config"]["architecture"] == "conv"
    assert [e["type"] for e in loaded["config"]["layers"]] == [e["type"] for e in LENET]
    snapshot = wire.until(ws, "snapshot")
    if "W1" not in snapshot["arrays"]:   # the dense network's last snapshot may still come after "loaded"
        snapshot = wire.until(ws, "snapshot")
    np.testing.assert_array_equal(snapshot["arrays"]["W1"], net.layers[0].W)
    ws.send_json({"type": "save", "name": "Pretrained", "id": "s"})
    error = reply(wire, ws, "s")
    assert error["code"] == "bad_value" and "pretrained digit model" in error["message"]


def test_the_cli_trains_the_conv_preset_and_refuses_bad_layers(monkeypatch, tmp_path, mnist_dir, capsys):
    monkeypatch.setenv("NNPLAY_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(mnist_dir))
    assert main(["train", "mnist_cnn", "--epochs", "1", "--mnist-train-size", "500", "--save", "small"]) == 0
    out, err = capsys.readouterr()
    assert "conv 5×5×8 → pool → conv 5×5×16 → pool → flatten → dense 64 → dense 10" in err
    accuracy = float(out.split("test  loss")[1].split("accuracy")[1].split("%")[0])
    assert 20 < accuracy <= 100
    assert not modelfile.load(tmp_path / "models" / "small.npz")[0].is_dense
    assert main(["train", "mnist_cnn", "--layers", '[{"type": "conv", "size": 40, "channels": 3}, {"type": "flatten"}]']) == 2
    assert "layers[0].size=40 is over this server's max_kernel=9" in capsys.readouterr().err
    assert main(["train", "xor", "--layers", '[{"type": "flatten"}]']) == 2
    assert "conv layers need images" in capsys.readouterr().err


def test_the_conv_preset_is_a_lenet_that_plans(tmp_path):
    from app import presets
    c = cfg.normalise(cfg.DEFAULT, presets.get("mnist_cnn")["config"], Settings())
    empty = (np.zeros((200, 784), np.float32), np.zeros(200, np.int64)) * 2   # MNIST's shapes, no digits needed
    plans = cfg.network_plans(c, cfg.build_data(c, lambda: empty))
    assert [p.spec["type"] for p in plans] == ["conv", "pool", "conv", "pool", "flatten", "dense", "dense"]
    assert plans[-1].out_shape == (10,) and math.prod(plans[4].out_shape) == 256
    assert presets.get("mnist_cnn")["milestone"] == 0.985 and presets.get("mnist")["milestone"] == 0.97


HEAVY = [{"type": "conv", "size": 9, "channels": 64, "padding": "same"}] * 3 + [{"type": "pool"}, {"type": "flatten"}]


def test_a_conv_network_too_slow_to_read_one_digit_is_refused_naming_its_work_and_the_limit(session, wire):
    """Three 9×9×64 "same" conv layers fit the memory budget at batch 1, but reading one digit takes
    about 1,050 MFLOP (24 ms on one core): scoring the test set on pause would hold a training slot
    for four minutes. Dense networks within the default limits stay under the limit."""
    _, ws = session
    ws.send_json({"type": "configure", "config": {**CONV, "layers": HEAVY, "batch_size": 1}, "id": "h"})
    error = reply(wire, ws, "h")
    assert error["code"] == "limit" and error["field"] == "layers", error
    assert "max_sample_mflop=20" in error["message"] and "1049 MFLOP" in error["message"], error["message"]
    widest = spec.plan([784], [{"type": "dense", "size": n} for n in [1024] * 8 + [10]])
    assert budget.flops(widest) / 1e6 < Settings().max_sample_mflop
