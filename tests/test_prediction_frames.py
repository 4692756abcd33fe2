"""Predictions as binary frames (docs/protocol.md, "format": "frame") and the pretrained models by name:
every layer's activations travel as arrays, conv and pool maps quantised to bytes, and come back
within half a quantisation step of the JSON answer; both pretrained models (the CNN, the dense one)
answer by name in REST, over the WebSocket's weights route and in ``nnplay predict --model``."""
from __future__ import annotations

import base64

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.protocol import decode_frame
from engine import digits, modelfile
from engine.network import Network

LAYERS = [{"type": "conv", "size": 5, "channels": 3, "padding": "valid"}, {"type": "pool"}, {"type": "flatten"},
          {"type": "dense", "size": 12, "activation": "relu"}, {"type": "dense", "size": 10, "activation": "softmax"}]
ONE = digits.draw_strokes([[(150, 45), (145, 100), (140, 160), (137, 235)]], size=280, pen_width=20)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """An untrained conv model and an untrained dense one (the wire format does not care how well they read)."""
    folder = tmp_path_factory.mktemp("pretrained")
    conv = Network.from_spec([28, 28, 1], LAYERS, "cross_entropy", init="he", seed=1)
    dense = Network.create([784, 20, 10], ["relu", "softmax"], "cross_entropy", init="he", seed=2)
    modelfile.save(conv, folder / "cnn.npz")
    modelfile.save(dense, folder / "dense.npz")
    return folder / "cnn.npz", folder / "dense.npz"


@pytest.fixture
def client(make_client, models):
    return make_client(pretrained=models[0], pretrained_dense=models[1])


def pixels_body(**extra):
    return {"width": 280, "height": 280, "pixels": base64.b64encode(ONE.tobytes()).decode(), **extra}


def test_a_prediction_frame_carries_every_layer_as_arrays_within_half_a_step_of_the_json(client):
    answer = client.post("/api/predict", json=pixels_body()).json()
    response = client.post("/api/predict", json=pixels_body(format="frame"))
    assert response.headers["content-type"] == "application/octet-stream"
    frame = decode_frame(response.content)
    assert frame["type"] == "prediction" and frame["digit"] == answer["digit"] and frame["model"] == "pretrained"
    np.testing.assert_allclose(frame["probabilities"], answer["probabilities"], rtol=1e-6)
    assert [layer["shape"] for layer in frame["layers"]] == [[24, 24, 3], [12, 12, 3], [432], [12], [10]]
    np.testing.assert_allclose(frame["arrays"]["input28"], answer["input28"], atol=1e-7)
    header = decode_header(response.content)
    for l, json_values in enumerate(answer["activations"], start=1):
        values, d = frame["arrays"][f"a{l}"], header[f"a{l}"]
        assert values.shape == np.shape(json_values)
        if values.ndim == 3:   # maps: quantised bytes, one scale per layer
            assert d["dtype"] == "uint8" and d["scale"] > 0
            assert np.abs(values - np.asarray(json_values)).max() <= d["scale"] / 2 + 1e-6
        else:
            assert d["dtype"] == "float32"
            np.testing.assert_allclose(values, json_values, rtol=1e-6)


def decode_header(frame: bytes) -> dict:
    import json
    import struct
    (length,) = struct.unpack_from("<I", frame, 4)
    return {d["name"]: d for d in json.loads(frame[8:8 + length])["arrays"]}


def test_the_pretrained_models_answer_by_name_and_a_bad_format_is_refused(client, models):
    dense = modelfile.load(models[1])[0]
    answer = client.post("/api/predict", json=pixels_body(model="pretrained-dense")).json()
    assert answer["model"] == "pretrained-dense" and [len(a) for a in answer["activations"]] == [20, 10]
    np.testing.assert_allclose(answer["probabilities"], dense.forward(digits.to_mnist(ONE).reshape(1, 784))[0], atol=1e-6)
    frame = decode_frame(client.get("/api/models/pretrained-dense/weights").content)
    assert frame["sizes"] == [784, 20, 10]
    assert decode_frame(client.get("/api/models/pretrained/weights").content)["layers"][0]["type"] == "conv"
    bad = client.post("/api/predict", json=pixels_body(format="xml"))
    assert bad.status_code == 422 and bad.json()["detail"]["field"] == "format" and "json, frame" in bad.json()["detail"]["message"]


def test_a_missing_pretrained_model_says_which(make_client, models, tmp_path):
    client = make_client(pretrained=models[0], pretrained_dense=tmp_path / "gone.npz")
    assert client.post("/api/predict", json=pixels_body()).status_code == 200
    missing = client.post("/api/predict", json=pixels_body(model="pretrained-dense"))
    assert missing.status_code == 503 and "gone.npz" in missing.json()["detail"]["message"]


def test_a_session_answers_predict_with_a_frame_carrying_its_id(make_client, wire, mnist_dir):
    client = make_client(data_dir=mnist_dir)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "preset": "mnist_cnn", "config": {"mnist_train_size": 500}, "id": "c"})
        wire.until(ws, "configured")
        ws.send_json({"type": "predict", "id": 7, "format": "frame", **pixels_body()})
        frame = wire.until(ws, "prediction")
        assert frame["id"] == 7 and "arrays" in frame
        assert frame["arrays"]["a1"].shape == (24, 24, 8) and frame["arrays"]["a7"].shape == (10,)
        assert sum(frame["probabilities"]) == pytest.approx(1, abs=1e-5)


def test_nnplay_predict_reads_with_either_pretrained_model(monkeypatch, models, tmp_path, capsys):
    monkeypatch.setenv("NNPLAY_PRETRAINED", str(models[0]))
    monkeypatch.setenv("NNPLAY_PRETRAINED_DENSE", str(models[1]))
    monkeypatch.setenv("NNPLAY_MODELS_DIR", str(tmp_path / "models"))
    Image.fromarray(255 - ONE).save(tmp_path / "one.png")
    for name, path in (("pretrained", models[0]), ("pretrained-dense", models[1])):
        assert main(["predict", str(tmp_path / "one.png"), "--model", name]) == 0
        expected = modelfile.load(path)[0].forward(digits.to_mnist(np.asarray(Image.open(tmp_path / "one.png").convert("RGB")))
                                                   .reshape(1, 784))[0]
        assert f"digit: {int(np.argmax(expected))}" in capsys.readouterr().out
