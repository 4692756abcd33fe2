"""Sessions as a server sees them: limits, idle time-out, origins, isolation, training pace."""
from __future__ import annotations

import threading
import time

import pytest
from starlette.websockets import WebSocketDisconnect


def test_sessions_over_the_cap_get_a_limit_error_and_close_1013(make_client, wire):
    client = make_client(max_sessions=1)
    with client.websocket_connect("/ws/session") as first:
        assert wire.recv(first)["type"] == "hello"
        with client.websocket_connect("/ws/session") as second:
            error = wire.recv(second)
            assert error["code"] == "limit" and "max_sessions=1" in error["message"]
            assert wire.recv(second) == {"type": "websocket.close", "code": 1013}
        first.send_json({"type": "step", "id": 1})  # the first session is unaffected
        assert wire.recv(first)["id"] == 1
    with client.websocket_connect("/ws/session") as third:  # a closed session frees its place
        assert wire.recv(third)["type"] == "hello"


def test_an_idle_session_is_closed_naming_the_limit(make_client, wire):
    client = make_client(idle_timeout_s=0.3)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        error = wire.recv(ws)
        assert error["code"] == "limit" and "idle_timeout_s=0.3" in error["message"]
        assert wire.recv(ws) == {"type": "websocket.close", "code": 1001}


def test_a_running_session_is_not_idle(make_client, wire):
    client = make_client(idle_timeout_s=0.3)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "preset": "xor"})
        ws.send_json({"type": "play"})
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:  # four idle periods of nothing but watching
            message = wire.recv(ws)
            assert message["type"] not in ("error", "websocket.close"), message
        ws.send_json({"type": "pause", "id": "still-here"})
        assert wire.until(ws, "ack")["id"] == "still-here"


def test_messages_keep_a_session_alive(make_client, wire):
    client = make_client(idle_timeout_s=0.5)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        for i in range(4):
            time.sleep(0.25)
            ws.send_json({"type": "hello", "id": i})
            assert wire.recv(ws)["id"] == i


def test_foreign_origins_are_refused_and_listed_ones_accepted(make_client, wire):
    client = make_client(allowed_origins=("http://friend.example",))
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws/session", headers={"origin": "http://evil.example"}) as ws:
            ws.receive()
    assert refused.value.code == 1008
    for origin in ("http://testserver", "http://friend.example"):
        with client.websocket_connect("/ws/session", headers={"origin": origin}) as ws:
            assert wire.recv(ws)["type"] == "hello"


def test_a_bad_session_never_disturbs_another(make_client, wire):
    client = make_client()
    with client.websocket_connect("/ws/session") as good, client.websocket_connect("/ws/session") as bad:
        wire.recv(good), wire.recv(bad)
        good.send_json({"type": "configure", "preset": "xor"})
        wire.until(good, "snapshot")
        for text in ["{", "[]", '{"type": "nope"}', '{"type": "configure", "config": {"hidden": [99999]}}',
                     '{"type": "predict", "image": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"}']:
            bad.send_text(text)
            assert wire.recv(bad)["type"] == "error"
        bad.send_json({"type": "configure", "config": {"dataset": "plane", "output": "linear", "activation": "linear",
                                                       "learning_rate": 100, "hidden": [8, 8]}})
        bad.send_json({"type": "play"})
        assert wire.until(bad, "error")["code"] == "diverged"
        good.send_json({"type": "step", "trace": True, "id": "g"})
        assert wire.until(good, "trace")["id"] == "g"


def test_closing_the_socket_stops_its_worker(make_client, wire):
    client = make_client()
    before = {t.name for t in threading.enumerate()}
    with client.websocket_connect("/ws/session") as ws:
        hello = wire.recv(ws)
        ws.send_json({"type": "play"})
        wire.until(ws, "metrics")
        assert f"nnplay-session-{hello['session']}" in {t.name for t in threading.enumerate()}
    deadline = time.monotonic() + 5
    while f"nnplay-session-{hello['session']}" in {t.name for t in threading.enumerate()}:
        assert time.monotonic() < deadline, "the worker thread outlived its socket"
        time.sleep(0.02)
    assert {t.name for t in threading.enumerate() if t.name.startswith("nnplay-session")} <= before


@pytest.mark.slow
def test_the_xor_preset_converges_at_a_pace_a_person_can_follow(make_client, wire):
    client = make_client()
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "preset": "xor"})
        configured = wire.until(ws, "configured")
        pace = configured["state"]["steps_per_second"]
        ws.send_json({"type": "play"})
        wire.until(ws, "ack")
        started = time.monotonic()
        while True:
            metrics = wire.until(ws, "metrics")
            if metrics["train_accuracy"] == 1.0 and metrics["train_loss"] < 0.02:
                break
            assert time.monotonic() - started < 60, "XOR did not converge in a minute"
        elapsed = time.monotonic() - started
        ws.send_json({"type": "pause"})
    # it takes hundreds of steps, so at the preset's pace it needs several seconds to watch
    assert metrics["step"] >= 300
    assert metrics["step"] <= pace * (elapsed + 0.1) + 1


@pytest.mark.slow
def test_a_slow_paced_session_is_watched_at_the_frame_rate(make_client, wire):
    """XOR at the preset's 150 steps/s leaves the worker idle most of the time: that idle time
    pays for snapshots, so the graph moves smoothly (it got 4.6 snapshots/s when only the
    worker's CPU time counted)."""
    client = make_client(frame_rate=30.0)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "preset": "xor"})
        wire.until(ws, "configured")
        ws.send_json({"type": "play"})
        wire.until(ws, "ack")
        started, snapshots = time.monotonic(), 0
        while time.monotonic() - started < 3:
            snapshots += wire.recv(ws)["type"] == "snapshot"
        ws.send_json({"type": "pause"})
    assert snapshots / 3 >= 12, f"{snapshots / 3:.1f} snapshots/s at frame_rate 30"


def test_the_outbox_keeps_every_reply_but_only_the_newest_of_each_slot():
    """A client that reads slowly gets the newest metrics and snapshot, never a backlog of them."""
    import asyncio

    from app.outbox import Outbox

    async def scenario():
        outbox = Outbox(asyncio.get_running_loop())
        threads = [threading.Thread(target=lambda i=i: (outbox.publish("metrics", f"m{i}"),
                                                        outbox.publish("snapshot", b"s%d" % i)))
                   for i in range(50)]
        for t in threads:
            t.start()
            t.join()  # publish from other threads, one after another
        outbox.post("ack1")
        outbox.post("ack2")
        assert outbox.snapshot_wanted is False  # a snapshot waits unsent: the worker builds no other
        return await asyncio.wait_for(outbox.take(), 5)

    batch = asyncio.run(scenario())
    assert batch == [("reply", "ack1"), ("reply", "ack2"), ("metrics", "m49"), ("snapshot", b"s49")]


def test_the_outbox_sends_an_evaluation_before_the_metrics_that_report_it():
    """refresh(evaluate=True) publishes the evaluation, then metrics with its figures: a client
    waiting for both in that order must get both, however the sender's batches fall."""
    import asyncio

    from app.outbox import Outbox

    async def scenario():
        outbox = Outbox(asyncio.get_running_loop())
        outbox.publish("evaluation", b"e")
        outbox.publish("metrics", "m")
        outbox.publish("snapshot", b"s")
        await asyncio.sleep(0)  # the call_soon_threadsafe hops run
        return await asyncio.wait_for(outbox.take(), 5)

    assert [kind for kind, _ in asyncio.run(scenario())] == ["evaluation", "metrics", "snapshot"]
