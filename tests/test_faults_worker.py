"""Faults inside a session: a worker whose engine step or snapshot raises is an ``internal`` error
for that session only (it still answers, and the other sessions train on), and a session runs
one MNIST download at a time."""
from __future__ import annotations

import socket
import threading

import pytest

pytestmark = pytest.mark.slow


# -- a worker that raises --------------------------------------------------------------------
FAULTY_BATCH = 7         # the faulty session trains with this batch size,
FAULTY_HIDDEN = [4, 3]   # and this network; the healthy one uses the circle preset's


@pytest.mark.parametrize("where", ["engine step", "snapshot"])
def test_a_fault_inside_a_worker_is_an_internal_error_for_that_session_only(make_client, wire, monkeypatch,
                                                                            where):
    from app import frames
    from engine.train import Trainer

    def faulty(original, hit):
        def wrapped(*args, **kwargs):
            if hit(*args):
                raise RuntimeError("injected fault")
            return original(*args, **kwargs)
        return wrapped

    if where == "engine step":
        monkeypatch.setattr(Trainer, "step", faulty(Trainer.step, lambda trainer, *_: trainer.batch_size == FAULTY_BATCH))
    else:  # after the first step: configure itself must still work
        monkeypatch.setattr(frames, "snapshot", faulty(
            frames.snapshot, lambda network, data, step, *_: step > 0 and network.sizes[1:-1] == FAULTY_HIDDEN))
    client = make_client()
    with client.websocket_connect("/ws/session") as good, client.websocket_connect("/ws/session") as bad:
        wire.recv(good), wire.recv(bad)
        good.send_json({"type": "configure", "preset": "circle", "id": "g"})
        assert wire.until(good, "configured")["id"] == "g"
        bad.send_json({"type": "configure", "preset": "circle", "id": "b",
                       "config": {"batch_size": FAULTY_BATCH, "hidden": FAULTY_HIDDEN}})
        assert wire.until(bad, "configured")["id"] == "b"
        bad.send_json({"type": "play"})
        good.send_json({"type": "play"})
        error = wire.until(bad, "error")
        assert error["code"] == "internal" and "injected fault" in error["message"], error
        bad.send_json({"type": "hello", "id": "alive"})  # the faulty session still answers
        assert wire.until(bad, "ack")["id"] == "alive"
        bad.send_json({"type": "step", "id": "s"})  # and a command that hits the fault gets the error too
        error = wire.until(bad, "error")
        assert (error["code"], error["id"]) == ("internal", "s") and "injected fault" in error["message"]
        assert client.get("/healthz").json() == {"status": "ok"}
        first = wire.until(good, "metrics")["step"]
        later = first
        for _ in range(200):
            later = wire.until(good, "metrics")["step"]
            if later > first:
                break
        assert later > first, "the healthy session stopped training"


# -- one download at a time ----------------------------------------------------------------------
def test_a_session_runs_one_download_at_a_time(make_client, wire, tmp_path):
    """Repeated download_mnist while one is under way get a limit error, not one more thread each."""
    release = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def stalling_mirror():
        connection, _ = listener.accept()
        release.wait(20)
        connection.close()  # no answer: the download fails

    threading.Thread(target=stalling_mirror, daemon=True).start()
    client = make_client(data_dir=tmp_path / "mnist", mnist_mirrors=(f"http://127.0.0.1:{listener.getsockname()[1]}/",))
    try:
        with client.websocket_connect("/ws/session") as ws:
            wire.recv(ws)
            ws.send_json({"type": "download_mnist", "id": 1})
            for i in (2, 3):
                ws.send_json({"type": "download_mnist", "id": i})
                error = wire.until(ws, "error")
                assert (error["id"], error["code"]) == (i, "limit") and "still running" in error["message"]
            release.set()
            error = wire.until(ws, "error")
            assert (error["id"], error["code"]) == (1, "mnist_missing")
    finally:
        release.set()
        listener.close()
