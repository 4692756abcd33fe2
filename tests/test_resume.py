"""A network blip loses nothing: a session whose socket dropped is parked, and the page reclaims it
with the token from its hello (docs/protocol.md, "Reconnecting")."""
from __future__ import annotations

import time

import numpy as np

XOR = {"type": "configure", "preset": "xor", "id": "c"}


def until_id(wire, ws, id_):
    for _ in range(5000):
        message = wire.recv(ws)
        assert message["type"] != "websocket.close", f"closed before the reply to {id_!r}"
        if message.get("id") == id_:
            return message
    raise AssertionError(id_)


def trained_session(client, wire, steps: int = 5):
    """Open a session, configure XOR, take ``steps`` steps; returns (hello, last snapshot) after leaving."""
    with client.websocket_connect("/ws/session") as ws:
        hello = wire.recv(ws)
        ws.send_json(XOR)
        until_id(wire, ws, "c")
        for i in range(steps):
            ws.send_json({"type": "step", "id": f"s{i}"})
            until_id(wire, ws, f"s{i}")
        snapshot = wire.until(ws, "snapshot")
        while snapshot["step"] < steps:
            snapshot = wire.until(ws, "snapshot")
    return hello, snapshot


def test_hello_carries_a_secret_resume_token_and_the_grace_period(make_client, wire):
    client = make_client(resume_grace_s=42)
    with client.websocket_connect("/ws/session") as ws:
        hello = wire.recv(ws)
    assert hello["resume"]["grace_s"] == 42 and len(hello["resume"]["token"]) >= 20
    assert hello["resume"]["token"] != hello["session"] and "resumed" not in hello


def test_a_dropped_session_is_reclaimed_with_its_weights_and_step_count(make_client, wire):
    client = make_client()
    hello, before = trained_session(client, wire, steps=5)
    with client.websocket_connect(f"/ws/session?resume={hello['resume']['token']}") as ws:
        again = wire.recv(ws)
        assert again["type"] == "hello" and again["resumed"] is True and again["session"] == hello["session"]
        configured = wire.recv(ws)
        assert configured["type"] == "configured" and configured["state"]["step"] == 5
        assert configured["state"]["running"] is False and configured["config"]["dataset"] == "xor_table"
        snapshot = wire.until(ws, "snapshot")
        assert snapshot["step"] == 5
        for name, array in before["arrays"].items():
            if name.startswith(("W", "b")):
                np.testing.assert_array_equal(snapshot["arrays"][name], array)
        ws.send_json({"type": "step", "id": "next"})
        assert until_id(wire, ws, "next")["state"]["step"] == 6


def test_a_token_works_once(make_client, wire):
    client = make_client()
    hello, _ = trained_session(client, wire, steps=1)
    url = f"/ws/session?resume={hello['resume']['token']}"
    with client.websocket_connect(url) as ws:
        assert wire.recv(ws)["resumed"] is True
    # that socket closed normally from the client's side: the session is parked again, same token
    with client.websocket_connect(url) as first, client.websocket_connect(url) as second:
        assert wire.recv(first)["resumed"] is True
        fresh = wire.recv(second)
        assert fresh["resumed"] is False and fresh["session"] != hello["session"]


def test_an_unknown_or_expired_token_gives_a_fresh_session(make_client, wire):
    client = make_client(resume_grace_s=0.2)
    with client.websocket_connect("/ws/session?resume=no-such-token") as ws:
        hello = wire.recv(ws)
        assert hello["resumed"] is False
        ws.send_json({"type": "step", "id": "s"})
        assert until_id(wire, ws, "s")["state"]["step"] == 1
    old, _ = trained_session(client, wire, steps=2)
    time.sleep(0.5)
    assert len(client.app.state.sessions) == 0, "an expired session is still held"
    with client.websocket_connect(f"/ws/session?resume={old['resume']['token']}") as ws:
        assert wire.recv(ws)["resumed"] is False


def test_sessions_that_never_configured_or_were_closed_by_the_server_are_not_kept(make_client, wire):
    client = make_client(idle_timeout_s=0.3)
    with client.websocket_connect("/ws/session") as ws:
        token = wire.recv(ws)["resume"]["token"]
    with client.websocket_connect(f"/ws/session?resume={token}") as ws:
        assert wire.recv(ws)["resumed"] is False
    with client.websocket_connect("/ws/session") as ws:
        token = wire.recv(ws)["resume"]["token"]
        ws.send_json(XOR)
        until_id(wire, ws, "c")
        assert wire.until(ws, "error")["code"] == "limit"  # closed for idling
    with client.websocket_connect(f"/ws/session?resume={token}") as ws:
        assert wire.recv(ws)["resumed"] is False


def test_a_parked_session_is_paused_and_gives_way_to_new_users(make_client, wire):
    client = make_client(max_sessions=2)
    with client.websocket_connect("/ws/session") as ws:
        token = wire.recv(ws)["resume"]["token"]
        ws.send_json(XOR)
        until_id(wire, ws, "c")
        ws.send_json({"type": "play", "id": "p"})
        until_id(wire, ws, "p")
    with client.websocket_connect(f"/ws/session?resume={token}") as ws:
        wire.recv(ws)
        first = wire.until(ws, "configured")["state"]
        assert first["running"] is False
        time.sleep(0.2)
        ws.send_json({"type": "hello", "id": "h"})
        until_id(wire, ws, "h")
    with client.websocket_connect(f"/ws/session?resume={token}") as ws:
        wire.recv(ws)
        assert wire.until(ws, "configured")["state"]["step"] == first["step"], "a parked session kept training"
    with client.websocket_connect("/ws/session") as a, client.websocket_connect("/ws/session") as b:
        assert wire.recv(a)["type"] == "hello" and wire.recv(b)["type"] == "hello"  # the parked one gave way
    with client.websocket_connect(f"/ws/session?resume={token}") as ws:
        assert wire.recv(ws)["resumed"] is False


def test_a_page_that_goes_away_is_not_kept(make_client, wire):
    client = make_client()
    with client.websocket_connect("/ws/session") as ws:
        token = wire.recv(ws)["resume"]["token"]
        ws.send_json(XOR)
        until_id(wire, ws, "c")
        ws.close(1001)  # what a browser sends when its tab closes or navigates away
    with client.websocket_connect(f"/ws/session?resume={token}") as ws:
        assert wire.recv(ws)["resumed"] is False
