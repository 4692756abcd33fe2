"""Faults: clients that vanish mid-frame, stall or come back; a worker that raises; a server
killed with SIGKILL while it saves a model. The server must live on, stay bounded and lose no work.

Most tests run a real server (``python -m app serve`` on a free loopback port) and talk to it
over real sockets, because only real TCP has partial frames, resets and full buffers.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import httpx
import numpy as np
import pytest
from websockets.sync.client import connect

from app.models import ModelStore
from app.settings import REPO_ROOT
from engine import modelfile

pytestmark = pytest.mark.slow


# -- a real server and raw sockets ------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, proc: subprocess.Popen, port: int, models: Path):
        self.proc, self.port, self.models = proc, port, models
        self.url, self.ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws/session"

    def rss_mb(self) -> float:
        """The server process's resident memory (VmRSS), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS line")

    def healthy(self) -> bool:
        return httpx.get(f"{self.url}/healthz", timeout=5).json() == {"status": "ok"}

    def connection(self):
        """An open WebSocket (entered, so that its own close() ends it)."""
        return connect(self.ws_url, proxy=None, max_size=None, open_timeout=10).__enter__()

    def session(self):
        ws = self.connection()
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        return ws


@contextlib.contextmanager
def running_server(tmp_path: Path, **environment: str):
    port = free_port()
    models = tmp_path / "models"
    env = dict(os.environ, NNPLAY_MODELS_DIR=str(models), PYTHONUNBUFFERED="1", **environment)
    log = open(tmp_path / f"server-{port}.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(proc, port, models)
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if server.healthy():
                    break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"the server did not start:\n{log.read()}")
        yield server
    finally:
        proc.kill()
        proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("faults"), NNPLAY_MAX_SESSIONS="4") as live:
        yield live


def reply(ws, id_, timeout: float = 20.0) -> dict:
    """The text message answering the command with this id (binary frames and others skipped)."""
    end = time.monotonic() + timeout
    while True:
        message = ws.recv(timeout=max(0.01, end - time.monotonic()))
        if isinstance(message, str) and json.loads(message).get("id") == id_:
            return json.loads(message)


def raw_socket(port: int, receive_buffer: int | None = None) -> socket.socket:
    """A TCP connection that has done the WebSocket handshake and nothing else."""
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(f"GET /ws/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def client_frame(payload: bytes, opcode: int = 1) -> bytes:
    """One masked client frame (RFC 6455)."""
    mask = os.urandom(4)
    n = len(payload)
    length = bytes([0x80 | n]) if n < 126 else (bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536
                                                 else bytes([0x80 | 127]) + struct.pack(">Q", n))
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode]) + length + mask + masked


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a crashed client or a pulled cable would."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def open_session_within(server: Server, seconds: float):
    """A new session, retrying while the server is still noticing that earlier clients left."""
    end = time.monotonic() + seconds
    while True:
        ws = server.connection()
        first = json.loads(ws.recv(timeout=10))
        if first["type"] == "hello":
            return ws
        ws.close()
        assert first["code"] == "limit" and time.monotonic() < end, first
        time.sleep(0.1)


# -- clients that vanish, stall or return -------------------------------------------------------
def test_clients_that_vanish_mid_frame_leave_the_server_serving(server):
    with server.session() as bystander:
        bystander.send(json.dumps({"type": "configure", "preset": "xor", "id": 1}))
        assert reply(bystander, 1)["type"] == "configured"
        for cut in ("in the header", "in the payload", "with a reset while streaming"):
            sock = raw_socket(server.port)
            if cut == "in the header":
                sock.sendall(client_frame(b'{"type": "hello"}' * 100)[:3])
                sock.close()
            elif cut == "in the payload":
                sock.sendall(client_frame(json.dumps({"type": "probe", "inputs": [[0, 0]] * 60}).encode())[:200])
                sock.close()
            else:
                sock.sendall(client_frame(b'{"type": "play"}') + client_frame(b'{"type": "speed", '
                                                                                 b'"steps_per_second": null}'))
                sock.recv(65536)
                sock.sendall(client_frame(b'{"type": "hello"}')[:5])
                reset(sock)
        assert server.healthy()
        bystander.send(json.dumps({"type": "step", "id": 2}))
        assert reply(bystander, 2)["type"] == "ack"
        # every place those clients held is free again: 3 more sessions fit beside the bystander
        others = [open_session_within(server, 10) for _ in range(3)]
        for ws in others:
            ws.close()


def test_a_client_that_comes_back_after_a_reset_gets_a_working_session(server):
    for round_ in range(6):  # more rounds than places (max_sessions=4): a leaked place would show
        ws = open_session_within(server, 10)
        ws.send(json.dumps({"type": "configure", "preset": "circle", "id": "c"}))
        assert reply(ws, "c")["type"] == "configured"
        ws.send(json.dumps({"type": "play", "id": "p"}))
        assert reply(ws, "p")["state"]["running"] is True
        reset(ws.socket)
        with contextlib.suppress(Exception):
            ws.close()
    assert server.healthy()


def test_a_stalled_client_gets_fewer_frames_and_the_server_memory_stays_flat(server):
    """A client that never reads while a wide network trains flat out: every snapshot is ~3 MB,
    30 a second. The server keeps only the newest one, so its memory stays flat, and the
    other sessions and /healthz keep answering."""
    stalled = raw_socket(server.port, receive_buffer=4096)
    config = {"dataset": "circle", "hidden": [800, 800], "batch_size": 1}
    stalled.sendall(client_frame(json.dumps({"type": "configure", "config": config}).encode())
                    + client_frame(b'{"type": "speed", "steps_per_second": null}')
                    + client_frame(b'{"type": "play"}'))
    try:
        time.sleep(3)  # the socket buffers fill; the sender blocks
        start = server.rss_mb()
        samples = []
        with server.session() as other:
            for i in range(8):
                t = time.monotonic()
                other.send(json.dumps({"type": "hello", "id": i}))
                assert reply(other, i)["command"] == "hello"
                assert server.healthy()
                samples.append((round(server.rss_mb() - start, 1), round(time.monotonic() - t, 3)))
                time.sleep(0.5)
        growth = max(mb for mb, _ in samples)
        assert growth < 40, f"server memory grew by {growth} MB while a client stalled: {samples}"
    finally:
        reset(stalled)


ASGI_SCOPE = {"type": "websocket", "path": "/ws/session", "raw_path": b"/ws/session", "root_path": "",
              "scheme": "ws", "query_string": b"", "headers": [(b"host", b"testserver")],
              "client": ("127.0.0.1", 1), "server": ("testserver", 80), "subprotocols": [],
              "asgi": {"version": "3.0"}}


def test_a_client_that_sends_but_never_reads_is_not_read_from(make_client):
    """Every bad message earns an error reply; a client that never reads them would make the
    server queue replies without end. Instead the server stops reading from it once a few dozen
    replies wait (and TCP pushes back on the client)."""
    client = make_client()
    offered = 20000

    async def stalled_client(seconds: float) -> int:
        taken, connected = 0, False

        async def receive():
            nonlocal taken, connected
            if not connected:
                connected = True
                return {"type": "websocket.connect"}
            taken += 1
            if taken > offered:
                await anyio.sleep_forever()
            return {"type": "websocket.receive", "text": "not json"}

        async def send(message):
            if message["type"] == "websocket.send":
                await anyio.sleep_forever()  # the client never reads

        with anyio.move_on_after(seconds):
            await client.app(dict(ASGI_SCOPE), receive, send)
        return taken

    taken = client.portal.call(stalled_client, 2.0)
    assert taken < 100, f"the server read {taken} of {offered} messages from a client that reads nothing"
    assert client.get("/healthz").json() == {"status": "ok"}


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


# -- SIGKILL while saving -------------------------------------------------------------------------
def weights(path: Path) -> list[np.ndarray]:
    network, _ = modelfile.load(path)
    return [a for layer in network.layers for a in (layer.W, layer.b)]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_sigkill_while_saving_keeps_the_previous_model_intact(tmp_path):
    """Save a wide network as "keep", then save another one over it again and again; kill -9 the
    server while a temp file shows a save in progress. "keep" must be one of the two complete
    networks, and the leftover temp file must never be listed or loadable as a model."""
    with running_server(tmp_path) as server:
        models = server.models
        ws = server.session()
        config = {"dataset": "circle", "hidden": [1000, 1000], "seed": 1}
        ws.send(json.dumps({"type": "configure", "config": config, "id": "c1"}))
        assert reply(ws, "c1")["type"] == "configured"
        ws.send(json.dumps({"type": "save", "name": "keep", "id": "s1"}))
        assert reply(ws, "s1")["type"] == "saved"
        previous = weights(models / "keep.npz")
        ws.send(json.dumps({"type": "configure", "config": {**config, "seed": 2}, "id": "c2"}))
        assert reply(ws, "c2")["type"] == "configured"
        ws.send(json.dumps({"type": "save", "name": "other", "id": "s2"}))
        assert reply(ws, "s2")["type"] == "saved"
        newer = weights(models / "other.npz")
        assert not same(previous, newer)

        def save_again_and_again():
            with contextlib.suppress(Exception):  # ends when the server dies
                for i in range(1000):
                    ws.send(json.dumps({"type": "save", "name": "keep", "id": i}))
                    reply(ws, i, timeout=60)

        saver = threading.Thread(target=save_again_and_again, daemon=True)
        saver.start()
        deadline = time.monotonic() + 60
        while not list(models.glob("*.tmp")):
            assert time.monotonic() < deadline, "no save was ever seen in progress"
            time.sleep(0.001)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
        saver.join(10)
        ws.close()
    leftovers = list(models.glob("*.tmp"))
    kept = weights(models / "keep.npz")
    assert same(kept, previous) or same(kept, newer)
    print(f"killed mid-save: keep.npz holds the {'first' if same(kept, previous) else 'newer'} network; "
          f"temp files left: {[p.name for p in leftovers]}")
    assert [m["name"] for m in ModelStore(models).list()["models"]] == ["keep", "other"]
    assert all(path.name.startswith(".") for path in leftovers), leftovers  # no model name can reach them
    if leftovers:
        with pytest.raises(Exception):
            ModelStore(models).load(leftovers[0].name.removesuffix(".npz"))


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
