"""Hostile and unlucky clients against the session machinery: poison messages, lock-outs, memory
bombs, steps that never end, one address taking every slot. Each test once failed."""
from __future__ import annotations

import json
import threading
import time

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.real_server import open_session_within, reply, running_server
from tests.fuzzing import POISON

MNIST_WORST = {"dataset": "mnist", "hidden": [1024] * 8, "optimizer": "adam", "batch_size": 65536}


def session_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("nnplay-session")}


def wait_until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def replies_to(wire, ws, id_, limit: int = 5000) -> dict:
    for _ in range(limit):
        message = wire.recv(ws)
        if message.get("id") == id_:
            return message
        assert message["type"] != "websocket.close", f"the socket closed before the reply to {id_!r}"
    raise AssertionError(f"no reply with id {id_!r}")


@pytest.mark.parametrize("poison", POISON[:8])
def test_clients_that_send_poison_and_leave_never_lock_the_server(make_client, wire, poison):
    """A full server of poisoners who left: the next user gets a working session at once."""
    client = make_client(max_sessions=3, max_sessions_per_client=3)
    for _ in range(3):
        with client.websocket_connect("/ws/session") as ws:
            wire.recv(ws)
            ws.send_text(poison)
            ws.send_json({"type": "play"})
            assert wire.until(ws, "error")["code"] == "bad_value"
    assert wait_until(lambda: len(client.app.state.sessions) == 0), "a poisoned session stayed registered"
    with client.websocket_connect("/ws/session") as ws:
        assert wire.recv(ws)["type"] == "hello"
        ws.send_json({"type": "configure", "preset": "xor", "id": "c"})
        assert replies_to(wire, ws, "c")["type"] == "configured"
        ws.send_json({"type": "step", "id": "s"})
        assert replies_to(wire, ws, "s")["state"]["step"] == 1


def test_a_reply_that_cannot_be_written_leaves_the_worker_alive(make_client, wire, monkeypatch):
    from app import commands

    def unwritable(self, command):
        self._reply(command, {"type": "ack", "command": "pause", "what": object()})

    monkeypatch.setattr(commands.Commands, "_cmd_pause", unwritable)
    client = make_client()
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "pause", "id": "p"})
        assert wire.until(ws, "error")["code"] == "internal"
        ws.send_json({"type": "step", "id": "s"})
        assert replies_to(wire, ws, "s")["type"] == "ack"


@pytest.mark.parametrize("failure", [MemoryError, RecursionError, KeyboardInterrupt])
def test_no_exception_in_a_command_ends_the_worker(make_client, wire, monkeypatch, failure):
    from app import commands

    def broken(self, command):
        raise failure("injected")

    monkeypatch.setattr(commands.Commands, "_cmd_reset", broken)
    client = make_client()
    with client.websocket_connect("/ws/session") as ws:
        hello = wire.recv(ws)
        ws.send_json({"type": "reset", "id": "r"})
        assert wire.until(ws, "error")["code"] == "internal"
        ws.send_json({"type": "step", "id": "s"})
        assert replies_to(wire, ws, "s")["type"] == "ack"
        assert f"nnplay-session-{hello['session']}" in session_threads()


@pytest.mark.slow
def test_a_client_that_leaves_during_a_whole_epoch_frees_its_place_within_seconds(tmp_path, mnist_dir):
    """On a real server (TestClient cancels the handler itself when a test's socket closes): an
    MNIST epoch at batch size 1 takes minutes; its client leaves; the next user gets in at once."""
    with running_server(tmp_path, NNPLAY_MAX_SESSIONS="1", NNPLAY_DATA_DIR=str(mnist_dir)) as server:
        ws = server.session()
        ws.send(json.dumps({"type": "configure", "preset": "mnist", "config": {"batch_size": 1}, "id": "c"}))
        assert reply(ws, "c", 60)["type"] == "configured"
        ws.send(json.dumps({"type": "step", "unit": "epoch"}))
        time.sleep(0.5)
        ws.close()
        started = time.monotonic()
        fresh = open_session_within(server, 5.0)
        fresh.send(json.dumps({"type": "step", "id": "s"}))
        assert reply(fresh, "s")["state"]["step"] == 1
        assert time.monotonic() - started < 5
        fresh.close()


def test_the_worst_network_the_limits_allow_is_refused_naming_the_budget(make_client, wire, mnist_dir):
    client = make_client(data_dir=mnist_dir)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "config": MNIST_WORST, "id": "w"})
        error = replies_to(wire, ws, "w")
        assert error["type"] == "error" and error["code"] == "limit", error
        assert "session_memory_mb=128" in error["message"] and "MB" in error["message"]
        ws.send_json({"type": "configure", "config": {**MNIST_WORST, "batch_size": 64, "optimizer": "sgd",
                                                      "hidden": [256, 128]}, "id": "ok"})
        assert replies_to(wire, ws, "ok")["type"] == "configured"
        ws.send_json({"type": "set", "batch_size": 65536, "id": "b"})
        error = replies_to(wire, ws, "b")
        assert error["code"] == "limit" and error["field"] == "batch_size"


def test_the_memory_budget_is_a_setting(make_client, wire):
    client = make_client(session_memory_mb=16)
    with client.websocket_connect("/ws/session") as ws:
        assert wire.recv(ws)["limits"]["session_memory_mb"] == 16
        ws.send_json({"type": "configure", "config": {"hidden": [1024, 1024, 1024]}, "id": "c"})
        error = replies_to(wire, ws, "c")
        assert error["code"] == "limit" and "session_memory_mb=16" in error["message"]


def test_a_whole_epoch_step_can_be_paused_and_ends_when_the_client_leaves(make_client, wire, mnist_dir):
    client = make_client(data_dir=mnist_dir, resume_grace_s=0)  # a session that left is closed, not parked
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "preset": "mnist", "config": {"batch_size": 1}, "id": "c"})
        assert replies_to(wire, ws, "c")["type"] == "configured"
        ws.send_json({"type": "step", "unit": "epoch", "id": "e"})
        time.sleep(0.3)
        ws.send_json({"type": "pause", "id": "p"})
        step = replies_to(wire, ws, "e")
        assert step["interrupted"] is True and 0 < step["state"]["step"] < 60000, step
        assert replies_to(wire, ws, "p")["state"]["running"] is False
        ws.send_json({"type": "step", "unit": "epoch"})  # and now leave in the middle of it
    assert wait_until(lambda: not session_threads(), 5.0), "an epoch step outlived its client"


def test_one_address_cannot_take_every_session(make_client, wire):
    client = make_client(max_sessions=6, max_sessions_per_client=2)
    with client.websocket_connect("/ws/session") as a, client.websocket_connect("/ws/session") as b:
        wire.recv(a), wire.recv(b)
        with client.websocket_connect("/ws/session") as c:
            refusal = wire.recv(c)
            assert refusal["code"] == "limit" and "max_sessions_per_client=2" in refusal["message"]
            assert wire.recv(c) == {"type": "websocket.close", "code": 1013}


def test_a_session_that_never_configures_is_closed_soon(make_client, wire):
    client = make_client(unconfigured_timeout_s=0.3)
    with client.websocket_connect("/ws/session") as idle:
        wire.recv(idle)
        error = wire.recv(idle)
        assert error["code"] == "limit" and "unconfigured_timeout_s=0.3" in error["message"]
    with client.websocket_connect("/ws/session") as busy:
        wire.recv(busy)
        busy.send_json({"type": "configure", "preset": "xor", "id": "c"})
        replies_to(wire, busy, "c")
        time.sleep(0.6)
        busy.send_json({"type": "step", "id": "s"})  # configured: the long idle timeout applies
        assert replies_to(wire, busy, "s")["type"] == "ack"


def test_too_many_unanswered_commands_get_a_limit_error(make_client, wire, monkeypatch):
    from app import commands, ws as ws_module
    release = threading.Event()
    monkeypatch.setattr(commands.Commands, "_cmd_reset", lambda self, command: release.wait(30))
    client = make_client()
    try:
        with client.websocket_connect("/ws/session") as ws:
            wire.recv(ws)
            for i in range(ws_module.MAX_PENDING + 1):
                ws.send_text(json.dumps({"type": "reset", "id": i}))
            error = wire.until(ws, "error")
            assert error["code"] == "limit" and error["id"] == ws_module.MAX_PENDING
    finally:
        release.set()


def test_a_rebound_or_foreign_client_never_reaches_the_registry(make_client):
    client = make_client()
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws/session", headers={"host": "evil.example"}) as ws:
            ws.receive()
    assert len(client.app.state.sessions) == 0


def test_a_closed_session_gives_its_network_back_without_waiting_for_the_collector(make_client, wire):
    import gc
    import weakref
    client = make_client(resume_grace_s=0)
    gc.disable()  # the automatic collector would hide a reference cycle
    try:
        with client.websocket_connect("/ws/session") as ws:
            wire.recv(ws)
            ws.send_json({"type": "configure", "config": {"hidden": [256, 256]}, "id": "c"})
            replies_to(wire, ws, "c")
            (session,) = list(client.app.state.sessions._client)
            network, trainer = weakref.ref(session.network), weakref.ref(session.trainer)
            del session
        assert wait_until(lambda: not session_threads())
        assert network() is None and trainer() is None, "a finished session still holds its network"
    finally:
        gc.enable()


def test_commands_and_saved_model_reads_wait_for_a_turn_at_the_gate(make_client, wire, tmp_path):
    """With every slot of the training gate taken, nothing heavy starts: not a configure, not a
    REST read of a saved model. (Each once ran beside the gate, so N clients allocated at once.)"""
    from engine import modelfile
    from engine.network import Network
    (tmp_path / "models").mkdir()
    modelfile.save(Network.create([784, 8, 10], ["relu", "softmax"], "cross_entropy"), tmp_path / "models" / "m.npz")
    client = make_client(training_slots=1)
    gate = client.app.state.gate
    answers = {}
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        with gate.turn():
            ws.send_json({"type": "configure", "preset": "xor", "id": "c"})
            rest = threading.Thread(target=lambda: answers.setdefault("rest", client.get("/api/models/m/weights")))
            rest.start()
            time.sleep(0.5)
            assert "rest" not in answers, "a saved model was read while the gate was full"
            (session,) = list(client.app.state.sessions._client)
            assert session.config["dataset"] == "circle", "configure ran while the gate was full"
            ws.send_json({"type": "hello", "id": "h"})
        assert replies_to(wire, ws, "c")["type"] == "configured"
        rest.join(10)
        assert answers["rest"].status_code == 200


def test_a_worker_that_cannot_even_start_says_so_and_closes(make_client, wire, monkeypatch):
    from app import config
    monkeypatch.setattr(config, "build_data", lambda *args: 1 / 0)
    client = make_client()
    with client.websocket_connect("/ws/session") as ws:
        assert wire.recv(ws)["type"] == "hello"
        assert wire.recv(ws)["code"] == "internal"
        ws.send_json({"type": "step", "id": "s"})  # answered, not left hanging
        assert wire.until(ws, "error")["code"] == "internal"
