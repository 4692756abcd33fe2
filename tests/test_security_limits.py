"""Security: what a client may send. Request bodies (plain and chunked) and WebSocket messages over
max_message_bytes are refused naming it; model names must follow the rule, and nothing is ever
written outside the models folder; temp and foreign files never show as models."""
from __future__ import annotations

import json
from pathlib import Path

import pytest


# -- request body limits ------------------------------------------------------------------------
def assert_limit(response, limit: int) -> None:
    assert response.status_code == 413, response.text[:200]
    detail = response.json()["detail"]
    assert detail["code"] == "limit" and f"max_message_bytes={limit}" in detail["message"]


@pytest.mark.parametrize("path", ["/api/predict", "/api/models", "/healthz", "/playground", "/nowhere"])
def test_a_body_over_the_limit_gets_413_naming_it(make_client, path):
    client = make_client(max_message_bytes=4096)
    assert_limit(client.post(path, content=b"{" + b" " * 5000 + b"}"), 4096)


def test_a_chunked_body_over_the_limit_gets_413_naming_it(make_client):
    client = make_client(max_message_bytes=4096)
    read = []

    def chunks():
        for _ in range(100):
            read.append(1)
            yield b" " * 1000

    response = client.post("/api/predict", content=chunks())
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert_limit(response, 4096)


def test_a_body_within_the_limit_is_read(make_client):
    client = make_client(max_message_bytes=4096)
    body = json.dumps({"model": "no-such-model", "pixels": "A" * 4000})
    response = client.post("/api/predict", content=body)  # read, then refused for what it says
    assert response.status_code == 404 and response.json()["detail"]["field"] == "model"


def test_a_websocket_message_over_the_limit_gets_a_limit_error(make_client, wire):
    client = make_client(max_message_bytes=4096)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_text(json.dumps({"type": "probe", "inputs": [[0.5, 0.5]] * 1000}))
        error = wire.recv(ws)
        assert error["code"] == "limit" and "max_message_bytes=4096" in error["message"]


# -- model names ----------------------------------------------------------------------------------
BAD_NAMES = ["../x", "../../etc/passwd", "a/b", "a\\b", "%2e%2e", "..", ".", ".hidden", "/tmp/x", "C:\\x",
             "", "x" * 65, "a b", "a\x00b", "naïve", "-dash-first", 7, None, ["x"], {"n": 1}]


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_model_names_are_checked_and_nothing_is_written_outside_the_models_dir(make_client, wire, tmp_path):
    client = make_client()
    before = files_under(tmp_path.parent)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        for i, name in enumerate(BAD_NAMES):
            for kind in ("save", "load"):
                ws.send_text(json.dumps({"type": kind, "name": name, "id": i}))
                error = wire.until(ws, "error")
                assert (error["id"], error["code"], error["field"]) == (i, "bad_value", "name"), error
                assert "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" in error["message"], error["message"]
        ws.send_json({"type": "save", "name": "fine_name-1", "id": "ok"})
        assert wire.until(ws, "saved")["name"] == "fine_name-1"
    created = files_under(tmp_path.parent) - before
    assert created == {tmp_path / "models", tmp_path / "models" / "fine_name-1.npz"}, created


@pytest.mark.parametrize("path, status", [
    ("/api/models/%2e%2e/weights", 422), ("/api/models/.hidden/weights", 422), ("/api/models/..%5cx/weights", 422),
    (f"/api/models/{'x' * 65}/weights", 422), ("/api/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd/weights", 404),
    ("/api/models/a%2fb/weights", 404), ("/api/models/nope/weights", 404)])
def test_model_weights_refuse_names_that_break_the_rule(make_client, path, status):
    response = make_client().get(path)
    assert response.status_code == status, response.text[:200]
    if status == 422:
        assert "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" in response.json()["detail"]["message"]


def test_predict_refuses_a_model_name_with_a_path(make_client):
    response = make_client().post("/api/predict", json={"pixels": "AA==", "width": 1, "height": 1, "model": "../x"})
    assert response.status_code == 422 and response.json()["detail"]["field"] == "model"


def test_the_model_list_ignores_temp_and_foreign_files(make_client, wire, tmp_path):
    client = make_client()
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "save", "name": "kept"})
        wire.until(ws, "saved")
    models = tmp_path / "models"
    (models / ".kept.npz.x1y2z3.tmp").write_bytes((models / "kept.npz").read_bytes()[:100])
    (models / ".hidden.npz").write_bytes((models / "kept.npz").read_bytes())
    (models / "broken.npz").write_bytes(b"not a zip")
    assert [m["name"] for m in client.get("/api/models").json()["models"]] == ["kept"]
