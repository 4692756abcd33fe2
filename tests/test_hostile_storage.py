"""Hostile and unlucky storage: a folder filled with models, leftovers of killed saves, names that
differ in case, unreadable model files, a truncated MNIST file, connections that never send their
headers. Each test once failed."""
from __future__ import annotations

import json
import os
import shutil
import socket
import time

import numpy as np
import pytest

from engine import mnist, modelfile
from engine.network import Network
from tests.real_server import running_server


def save(client, wire, name: str, hidden=(4,)) -> dict:
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "config": {"hidden": list(hidden)}, "id": "c"})
        wire.until(ws, "configured")
        ws.send_json({"type": "save", "name": name, "id": "s"})
        while True:
            message = wire.recv(ws)
            if message.get("id") == "s":
                return message


def test_the_models_folder_has_a_count_quota(make_client, wire, tmp_path):
    client = make_client(max_models=2)
    assert save(client, wire, "a")["type"] == "saved" and save(client, wire, "b")["type"] == "saved"
    refused = save(client, wire, "c")
    assert refused["code"] == "limit" and "max_models=2" in refused["message"]
    assert save(client, wire, "a")["type"] == "saved"  # overwriting takes no new room
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["a.npz", "b.npz"]


def test_the_models_folder_has_a_size_quota(make_client, wire):
    client = make_client(max_models_mb=1)
    assert save(client, wire, "small", hidden=(16,))["type"] == "saved"
    refused = save(client, wire, "big", hidden=(512, 512))
    assert refused["code"] == "limit" and "max_models_mb=1" in refused["message"]


def test_names_that_differ_only_in_case_are_one_model(make_client, wire, tmp_path):
    client = make_client()
    save(client, wire, "MyNet", hidden=(3,))
    save(client, wire, "mynet", hidden=(5,))
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["MyNet.npz"]
    listed = client.get("/api/models").json()["models"]
    assert [(m["name"], m["sizes"][1:-1]) for m in listed] == [("MyNet", [5])]
    assert client.get("/api/models/MYNET/weights").status_code == 200


def test_leftovers_of_killed_saves_are_swept_at_start(make_client, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    stale, fresh = folder / ".net.npz.abc123.tmp", folder / ".net.npz.def456.tmp"
    stale.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"x")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    make_client()
    assert not stale.exists() and fresh.exists()  # a save in progress in another process is left alone


@pytest.mark.parametrize("architecture", [
    [1, 2, 3], "a string", {"format": "nnplay-model", "version": 1, "sizes": [2, 1], "activations": [["relu"]],
                            "loss": "squared_error"},
    "[" * 100_000 + "]" * 100_000,
])
def test_one_unreadable_model_file_never_breaks_the_list_or_the_routes(make_client, wire, tmp_path, architecture):
    folder = tmp_path / "models"
    folder.mkdir()
    modelfile.save(Network.create([2, 1], ["tanh"]), folder / "good.npz")
    text = architecture if isinstance(architecture, str) and architecture.startswith("[") else json.dumps(architecture)
    np.savez(folder / "bad.npz", architecture=np.array(text), W0=np.zeros((2, 1)), b0=np.zeros(1))
    client = make_client()
    listed = client.get("/api/models")
    assert listed.status_code == 200
    assert [m["name"] for m in listed.json()["models"]] == ["good"]
    assert [u["name"] for u in listed.json()["unreadable"]] == ["bad"]
    for response in (client.get("/api/models/bad/weights"),
                     client.post("/api/predict", json={"model": "bad", "width": 1, "height": 1, "pixels": "/w=="})):
        assert 400 <= response.status_code < 500, response.text[:200]
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "load", "name": "bad", "id": "l"})
        assert wire.until(ws, "error")["code"] == "bad_value"


def test_a_truncated_mnist_file_is_not_ready(make_client, wire, mnist_dir, tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(mnist_dir, folder, ignore=shutil.ignore_patterns("README*"))
    cut = folder / "t10k-labels-idx1-ubyte.gz"
    cut.write_bytes(cut.read_bytes()[:-100])
    assert mnist.status(folder)["ready"] is False
    client = make_client(data_dir=folder)
    status = client.get("/api/mnist").json()
    assert status["ready"] is False and status["corrupt"][0]["file"] == cut.name
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "download_mnist", "id": "d"})
        answer = wire.until(ws, "error")
        assert answer["code"] == "mnist_missing" and "corrupt" in answer["message"]


def test_a_corrupt_mnist_file_found_by_loading_is_reported_until_it_changes(make_client, wire, mnist_dir,
                                                                            tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(mnist_dir, folder, ignore=shutil.ignore_patterns("README*"))
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    import gzip
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[-1] ^= 1  # the right size, the wrong checksum
    labels.write_bytes(gzip.compress(bytes(raw)))
    client = make_client(data_dir=folder)
    assert client.get("/api/mnist").json()["ready"] is True  # the size looks right
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "preset": "mnist", "id": "m"})
        assert wire.until(ws, "error")["code"] == "mnist_missing"
    status = client.get("/api/mnist").json()
    assert status["ready"] is False and "sha256" in status["problem"]
    shutil.copy(mnist_dir / labels.name, labels)
    assert client.get("/api/mnist").json()["ready"] is True


@pytest.mark.slow
def test_connections_that_never_finish_their_headers_are_dropped(tmp_path):
    with running_server(tmp_path, NNPLAY_HEADER_TIMEOUT_S="0.5") as server:
        silent, slow = socket.create_connection(("127.0.0.1", server.port)), socket.create_connection(
            ("127.0.0.1", server.port))
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for sock in (silent, slow):
            sock.settimeout(10)
            started = time.monotonic()
            assert sock.recv(100) == b""  # closed by the server
            assert time.monotonic() - started < 5
        ws = server.session()  # a WebSocket lives on past the header deadline
        time.sleep(1.0)
        ws.send(json.dumps({"type": "hello", "id": 1}))
        assert json.loads(ws.recv(timeout=10))["id"] == 1
        ws.close()


def test_a_zip_bomb_or_an_oversized_model_is_refused_before_its_weights_are_read(make_client, wire, tmp_path):
    """A 2 GB array compressed into a few MB, and a 784×100000 layer over max_width: both refused from
    the file's headers in well under a second, the bomb never inflated."""
    import resource
    import zipfile
    folder = tmp_path / "models"
    folder.mkdir()
    arch = {"format": "nnplay-model", "version": 1, "sizes": [784, 100000, 10],
            "activations": ["relu", "softmax"], "loss": "cross_entropy"}
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 1), np.float32))
    header["shape"] = (784, 100000)
    with zipfile.ZipFile(folder / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("architecture.npy", _npy(np.array(json.dumps(arch))))
        with z.open("W0.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            zeros = bytes(1 << 20)
            for _ in range(784 * 100000 * 4 >> 20):
                f.write(zeros)
    assert (folder / "bomb.npz").stat().st_size < 1 << 20
    client = make_client()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    response = client.get("/api/models/bomb/weights")
    assert response.status_code == 422 and "max_width" in response.json()["detail"]["message"]
    listed = client.get("/api/models").json()
    assert [u["name"] for u in listed["unreadable"]] == ["bomb"]
    assert time.monotonic() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB: nothing inflated


def _npy(array: np.ndarray) -> bytes:
    import io
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()
