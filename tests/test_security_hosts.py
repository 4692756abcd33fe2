"""Security: where the server listens and whom it answers. Loopback by default; WebSocket origins
(cross-site WebSocket hijacking: foreign origins get 1008); the Host header (DNS rebinding: a
rebound or unknown host gets 400 on every route and no session), allowed hosts and origins from
the environment."""
from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from app import cli
from app.settings import Settings


# -- where the server listens -------------------------------------------------------------------
def test_the_default_bind_is_loopback(monkeypatch, tmp_path):
    assert Settings().host == "127.0.0.1"
    assert Settings.from_env({}).host == "127.0.0.1"
    for variable in ("NNPLAY_HOST", "PORT", "NNPLAY_PORT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NNPLAY_MODELS_DIR", str(tmp_path))
    started = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: started.update(options))
    assert cli.main(["serve"]) == 0
    assert started["host"] == "127.0.0.1" and started["port"] == 8000


# -- WebSocket origins (cross-site WebSocket hijacking) ------------------------------------------
FOREIGN = ["http://evil.example", "https://evil.example", "null", "http://testserver.evil.example",
           "http://evil.example/testserver", "http://testserver@evil.example", "http://testserver:8080",
           "http://friend.example.evil.example", "file://"]


@pytest.mark.parametrize("origin", FOREIGN)
def test_websocket_refuses_an_origin_from_another_site_with_1008(make_client, origin):
    client = make_client(allowed_origins=("http://friend.example",))
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws/session", headers={"origin": origin}) as ws:
            ws.receive()
    assert refused.value.code == 1008


@pytest.mark.parametrize("origin", ["http://testserver", "https://testserver", "http://friend.example",
                                    "http://friend.example/", None])
def test_websocket_accepts_its_own_host_listed_origins_and_non_browsers(make_client, wire, origin):
    client = make_client(allowed_origins=("http://friend.example",))
    headers = {} if origin is None else {"origin": origin}
    with client.websocket_connect("/ws/session", headers=headers) as ws:
        assert wire.recv(ws)["type"] == "hello"


def test_allowed_origins_come_from_the_environment():
    settings = Settings.from_env({"NNPLAY_ALLOWED_ORIGINS": " https://a.example/ ,http://b.example:8080"})
    assert settings.allowed_origins == ("https://a.example", "http://b.example:8080")


# -- the Host header (DNS rebinding) ------------------------------------------------------------------
REBOUND = "evil.example:8000"  # a page on evil.example whose DNS name now points at this machine
ROUTES = ["/", "/playground", "/digits", "/math", "/healthz", "/api/models", "/api/mnist", "/api/presets",
          "/api/models/x/weights", "/api/models/pretrained/weights", "/static/js/socket.js", "/api/openapi.json"]


@pytest.mark.parametrize("path", ROUTES)
def test_a_rebound_host_gets_400_on_every_route(make_client, path):
    response = make_client().get(path, headers={"host": REBOUND})
    assert response.status_code == 400, path
    detail = response.json()["detail"]
    assert detail["code"] == "bad_host" and "evil.example:8000" in detail["message"]
    assert "NNPLAY_ALLOWED_HOSTS" in detail["message"]


def test_a_rebound_host_cannot_post_or_open_a_session(make_client):
    client = make_client()
    response = client.post("/api/predict", headers={"host": REBOUND}, json={"pixels": "AA==", "width": 1,
                                                                            "height": 1})
    assert response.status_code == 400 and response.json()["detail"]["code"] == "bad_host"
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws/session", headers={"host": REBOUND,
                                                              "origin": "http://evil.example:8000"}) as ws:
            ws.receive()
    assert refused.value.code == 1008
    assert len(client.app.state.sessions) == 0


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "LOCALHOST:1", "localhost.:8000", "127.0.0.1",
                                  "127.0.0.1:8000", "127.8.9.10:80", "[::1]:8000", "[::1]", "app.localhost:5",
                                  "testserver"])
def test_loopback_names_and_listed_names_are_served(make_client, host):
    assert make_client().get("/healthz", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1.evil.example",
                                  "evillocalhost", "10.0.0.5:8000", "[::2]:80", "0.0.0.0:8000", "", "a b",
                                  "localhost:8000@evil.example", "testserver.evil.example"])
def test_every_other_host_is_refused(make_client, host):
    response = make_client().get("/healthz", headers={"host": host})
    assert response.status_code == 400 and response.json()["detail"]["field"] == "host"


def test_the_address_the_server_listens_on_is_allowed():
    settings = Settings.from_env({"NNPLAY_HOST": "192.168.1.5"})
    assert settings.host_allowed("192.168.1.5") and not settings.host_allowed("192.168.1.6")
    assert Settings.from_env({"NNPLAY_HOST": "::1"}).host_allowed("::1")
    assert not Settings.from_env({"NNPLAY_HOST": "0.0.0.0"}).host_allowed("0.0.0.0.evil.example")


def test_allowed_hosts_come_from_the_environment_with_subdomains_and_a_wildcard():
    settings = Settings.from_env({"NNPLAY_ALLOWED_HOSTS": " Class.Example.org , .school.example"})
    assert settings.allowed_hosts == ("class.example.org", ".school.example")
    for name in ("class.example.org", "school.example", "room1.school.example"):
        assert settings.host_allowed(name), name
    for name in ("example.org", "evilschool.example", "school.example.evil"):
        assert not settings.host_allowed(name), name
    assert Settings.from_env({"NNPLAY_ALLOWED_HOSTS": "*"}).host_allowed("anything.example")


def test_a_websocket_needs_an_allowed_host_and_the_same_origin(make_client, wire):
    client = make_client()
    with client.websocket_connect("/ws/session", headers={"host": "localhost:8000",
                                                          "origin": "http://localhost:8000"}) as ws:
        assert wire.recv(ws)["type"] == "hello"
    for origin in ("http://evil.example:8000", "http://localhost:9999", "http://127.0.0.1:8000"):
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws/session", headers={"host": "localhost:8000", "origin": origin}) as ws:
                ws.receive()
