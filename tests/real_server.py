"""A real server for fault tests: ``python -m app serve`` on a free loopback port, and clients that
talk to it over real sockets (only real TCP has partial frames, resets and full buffers).

    with running_server(tmp_path, NNPLAY_MAX_SESSIONS="4") as server:
        ws = server.session()                      # a websockets client past its hello
        sock = raw_socket(server.port)             # a TCP socket past the WebSocket handshake
        sock.sendall(client_frame(b'{"type": "play"}'))
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from app.settings import REPO_ROOT
from tests.servers import free_port


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
