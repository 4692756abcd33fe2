"""The REST API and pages: /healthz, /api/predict, /api/presets, /api/models, /api/mnist."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from app.protocol import decode_frame
from engine import digits, mnist, modelfile
from engine.network import Network
from engine.optim import make_optimizer
from engine.train import Trainer


@pytest.fixture(scope="module")
def digit_model(mnist_dir, tmp_path_factory):
    """A small digit reader (784-32-10) trained for a moment on 6000 MNIST images, saved to a file."""
    images, labels = mnist.load("train", mnist_dir)
    X = images[:6000].reshape(6000, 784) / 255.0
    net = Network.create([784, 32, 10], ["relu", "softmax"], "cross_entropy", init="he", seed=0)
    trainer = Trainer(net, X, net.targets(labels[:6000]), make_optimizer("adam", 0.003), batch_size=64, seed=0)
    for _ in range(2 * trainer.steps_per_epoch):
        trainer.step()
    path = tmp_path_factory.mktemp("pretrained") / "digits.npz"
    modelfile.save(net, path)
    return path


@pytest.fixture
def client(make_client, digit_model):
    return make_client(pretrained=digit_model)


def png_url(pixels: np.ndarray, mode: str) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def canvases(grey: np.ndarray) -> dict[str, str]:
    """The same drawing (grey: 255 = ink) as a browser canvas might send it, three ways."""
    transparent = np.zeros(grey.shape + (4,), np.uint8)
    transparent[..., 3] = grey  # black ink on a transparent canvas: RGB is all 0
    return {"dark on light": png_url(255 - grey, "L"), "light on dark": png_url(grey, "L"),
            "ink on transparent": png_url(transparent, "RGBA")}


def test_healthz_and_the_home_page(make_client):
    client = make_client()
    assert client.get("/healthz").json() == {"status": "ok"}
    home = client.get("/")
    assert home.status_code == 200 and "nnplay" in home.text and "/static/css/style.css" in home.text
    assert client.get("/static/js/socket.js").status_code == 200


def test_predict_reads_test_digits_drawn_as_canvas_pngs(client, digit_model, mnist_dir):
    images, labels = mnist.load("test", mnist_dir)
    net, _ = modelfile.load(digit_model)
    right = 0
    for image, label in zip(images[:10], labels[:10]):
        big = np.asarray(Image.fromarray(image).resize((280, 280), Image.Resampling.BILINEAR))
        answers = [client.post("/api/predict", json={"image": url}).json() for url in canvases(big).values()]
        x28 = digits.to_mnist(big)
        expected = net.forward(x28.reshape(1, 784))[0]
        for answer in answers:  # every polarity gives the same reading, the model's own
            assert answer["model"] == "pretrained"
            np.testing.assert_allclose(answer["probabilities"], expected, atol=1e-5)
            np.testing.assert_allclose(answer["input28"], x28, atol=1e-6)
            assert answer["digit"] == int(np.argmax(expected))
            assert [len(a) for a in answer["activations"]] == [32, 10]
        right += answers[0]["digit"] == label
    assert right >= 7  # a small model, two epochs: most test digits are read right


def test_predict_takes_raw_grey_pixels(client):
    grey = digits.draw_strokes([[(30, 10), (30, 50)]], size=60, pen_width=6)
    answer = client.post("/api/predict", json={"width": 60, "height": 60,
                                                "pixels": base64.b64encode(grey.tobytes()).decode()})
    assert answer.status_code == 200
    np.testing.assert_allclose(answer.json()["input28"], digits.to_mnist(grey), atol=1e-6)


@pytest.mark.parametrize("body, status, code, field", [
    ({"width": 28, "height": 28, "pixels": base64.b64encode(bytes(784)).decode()}, 422, "no_ink", "pixels"),
    ({"image": png_url(np.full((50, 50), 255, np.uint8), "L")}, 422, "no_ink", "image"),
    ({"image": "data:image/png;base64,AAAA"}, 422, "bad_value", "image"),
    ({"image": "data:image/png;base64,%%%"}, 422, "bad_value", "image"),
    ({"image": 5}, 422, "bad_value", "image"),
    ({"width": 28, "height": 28, "pixels": "AAAA"}, 422, "bad_value", "pixels"),
    ({"width": 0, "height": 28, "pixels": ""}, 422, "bad_value", "width"),
    ({"width": "a", "height": 28, "pixels": ""}, 422, "bad_value", "width"),
    ({}, 422, "bad_value", "image"),
    ({"image": png_url(np.zeros((3000, 1), np.uint8), "L")}, 413, "limit", "image"),
    ({"image": "x", "model": "../etc"}, 422, "bad_value", "model"),
    ({"width": 2, "height": 1, "pixels": "AP8=", "model": "unknown"}, 404, "not_found", "model"),
])
def test_predict_refuses_bad_input_naming_the_field(client, body, status, code, field):
    answer = client.post("/api/predict", json=body)
    assert answer.status_code == status
    detail = answer.json()["detail"]
    assert detail["code"] == code and detail["field"] == field and len(detail["message"]) > 10


def test_predict_refuses_malformed_and_oversized_bodies(make_client, digit_model):
    client = make_client(pretrained=digit_model, max_message_bytes=4096)
    answer = client.post("/api/predict", content=b"{nope", headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["detail"]["code"] == "bad_json"
    answer = client.post("/api/predict", content=b"[1]", headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["detail"]["code"] == "bad_json"
    answer = client.post("/api/predict", json={"image": "data:image/png;base64," + "A" * 5000})
    assert answer.status_code == 413 and "max_message_bytes=4096" in answer.json()["detail"]["message"]


def test_predict_without_the_pretrained_model_is_a_clear_503(make_client):
    answer = make_client().post("/api/predict", json={"width": 2, "height": 1, "pixels": "AP8="})
    assert answer.status_code == 503
    assert answer.json()["detail"]["code"] == "model_missing" and "run make model" in answer.json()["detail"]["message"]


def test_predict_with_a_saved_model_and_its_weights_frame(client, digit_model, tmp_path):
    net, _ = modelfile.load(digit_model)
    (tmp_path / "models").mkdir(exist_ok=True)
    modelfile.save(net, tmp_path / "models" / "mine.npz", {"note": "copy"})
    body = {"width": 2, "height": 1, "pixels": "AP8=", "model": "mine"}
    assert client.post("/api/predict", json=body).json()["model"] == "mine"
    listed = client.get("/api/models").json()["models"]
    assert [(m["name"], m["sizes"], m["meta"]["note"]) for m in listed] == [("mine", [784, 32, 10], "copy")]
    for name in ("mine", "pretrained"):
        frame = decode_frame(client.get(f"/api/models/{name}/weights").content)
        assert frame["type"] == "weights" and frame["sizes"] == [784, 32, 10]
        np.testing.assert_array_equal(frame["arrays"]["W2"], net.layers[1].W)
    assert client.get("/api/models/none/weights").status_code == 404
    assert client.get("/api/models/..%2f..%2fetc/weights").status_code in (404, 422)


@pytest.fixture(scope="module")
def conv_model(mnist_dir, tmp_path_factory):
    """A small conv digit reader (conv 5×5×4 → pool → dense 10) trained for a moment, saved to a file."""
    images, labels = mnist.load("train", mnist_dir)
    X = images[:3000].reshape(3000, 784) / 255.0
    layers = [{"type": "conv", "size": 5, "channels": 4, "padding": "valid"}, {"type": "pool"}, {"type": "flatten"},
              {"type": "dense", "size": 10, "activation": "softmax"}]
    net = Network.from_spec([28, 28, 1], layers, "cross_entropy", init="he", seed=0)
    trainer = Trainer(net, X, net.targets(labels[:3000]), make_optimizer("adam", 0.003), batch_size=32, seed=0)
    for _ in range(2 * trainer.steps_per_epoch):
        trainer.step()
    path = tmp_path_factory.mktemp("conv") / "digits_cnn.npz"
    modelfile.save(net, path)
    return path


def test_predict_reads_drawn_digits_with_a_conv_model(make_client, conv_model, mnist_dir, tmp_path):
    client = make_client(pretrained=conv_model)
    net, _ = modelfile.load(conv_model)
    images, labels = mnist.load("test", mnist_dir)
    right = 0
    for image, label in zip(images[:10], labels[:10]):
        big = np.asarray(Image.fromarray(image).resize((280, 280), Image.Resampling.BILINEAR))
        x28 = digits.to_mnist(big)
        expected = net.forward(x28.reshape(1, 784))[0]
        for url in canvases(big).values():
            answer = client.post("/api/predict", json={"image": url}).json()
            np.testing.assert_allclose(answer["probabilities"], expected, atol=1e-5)
            assert answer["digit"] == int(np.argmax(expected)) and answer["model"] == "pretrained"
            assert [np.shape(a) for a in answer["activations"]] == [(24, 24, 4), (12, 12, 4), (576,), (10,)]
            assert [(layer["type"], layer["shape"]) for layer in answer["layers"]] == [
                ("conv", [24, 24, 4]), ("pool", [12, 12, 4]), ("flatten", [576]), ("dense", [10])]
        right += answer["digit"] == label
    assert right >= 7
    (tmp_path / "models").mkdir(exist_ok=True)
    modelfile.save(net, tmp_path / "models" / "cnn.npz")
    assert client.post("/api/predict", json={"width": 2, "height": 1, "pixels": "AP8=", "model": "cnn"}).status_code == 200
    frame = decode_frame(client.get("/api/models/cnn/weights").content)
    assert sorted(frame["arrays"]) == ["W1", "W4", "b1", "b4"] and frame["arrays"]["W1"].shape == (5, 5, 1, 4)
    assert frame["layers"][0]["type"] == "conv" and frame["input_shape"] == [28, 28, 1]


def test_presets_describe_every_required_setup(make_client):
    presets = make_client().get("/api/presets").json()
    assert {"xor", "one_neuron", "circle", "spiral", "gaussian", "xor_2d", "regression_plane", "mnist"} <= set(presets)
    xor = presets["xor"]["config"]
    assert (xor["dataset"], xor["hidden"], xor["activation"], xor["output"], xor["loss"], xor["optimizer"],
            xor["batch_size"]) == ("xor_table", [2], "sigmoid", "sigmoid", "squared_error", "sgd", 4)
    assert presets["one_neuron"]["config"]["hidden"] == [] and presets["one_neuron"]["config"]["output"] == "sigmoid"
    m = presets["mnist"]["config"]
    assert (m["hidden"], m["activation"], m["output"], m["loss"]) == ([128, 64], "relu", "softmax", "cross_entropy")


def test_mnist_status(make_client, mnist_dir, tmp_path):
    assert make_client(data_dir=mnist_dir).get("/api/mnist").json()["ready"] is True
    empty = make_client(data_dir=tmp_path / "none").get("/api/mnist").json()
    assert empty["ready"] is False and len(empty["missing"]) == 4 and empty["downloading"] is False


def test_every_preset_configures_and_trains_a_step(make_client, wire):
    client = make_client()
    for name in client.get("/api/presets").json():
        if name == "mnist":
            continue
        with client.websocket_connect("/ws/session") as ws:
            wire.recv(ws)
            ws.send_json({"type": "configure", "preset": name})
            assert wire.until(ws, "configured")["config"]["dataset"]
            ws.send_json({"type": "step", "id": 1})
            assert wire.until(ws, "ack")["state"]["step"] == 1
