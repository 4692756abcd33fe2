"""docs/protocol.md's MNIST side through FastAPI's TestClient: test figures early in the first
epoch, configure and snapshot, the whole-test-set evaluation, predict, mnist_missing without the
files, and download_mnist from a local mirror."""
from __future__ import annotations

import base64
import http.server
import math
import shutil
import threading
from functools import partial

import numpy as np
import pytest

from engine import digits, mnist
from tests.conftest import TEST_HOST
from tests.sessions import configure


def test_mnist_test_figures_are_measured_early_in_the_first_epoch_and_say_where(ws, wire, mnist_dir):
    # 469 steps an epoch: scorings due after steps 10, 20, 40, ..., 320. With 157 (20,000 images) a loaded
    # machine, whose metrics came only every 30-60 steps, showed two of them
    configured, _ = configure(ws, wire, preset="mnist")
    steps_per_epoch = math.ceil(configured["dataset"]["n_train"] / configured["config"]["batch_size"])
    ws.send_json({"type": "play"})
    measured = set()
    while (m := wire.until(ws, "metrics"))["epoch"] == 0:
        assert m["test_step"] <= m["step"]
        measured.add(m["test_step"])
    ws.send_json({"type": "pause"})
    early = sorted(step for step in measured if 0 < step < steps_per_epoch)
    assert len(early) >= 3, early    # the test line moves within the first epoch, not only at its end


# -- an MNIST session: configure, evaluation, predict; mnist_missing; download_mnist ----------------
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
