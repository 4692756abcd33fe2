"""Starting ``nnplay serve`` processes for tests, and talking to them as a client would.

    port = free_port()
    with serving([nnplay, "serve", "--port", str(port)], cwd=..., env=..., log=path) as proc:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        with open_session(f"ws://127.0.0.1:{port}/ws/session") as (hello, ws):

Every wait is bounded; ``serving`` kills the process (and, for ``--workers``, its group) on exit.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(command: list[str], cwd: Path, env: dict, log: Path):
    """The process of ``command``, its output in ``log``, in a process group of its own."""
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # uvicorn's worker processes too
        proc.wait(10)


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        if proc.poll() is not None:
            raise AssertionError(f"the server stopped with {proc.returncode}:\n{log.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"no answer from {url}/healthz in {seconds} s:\n{log.read_text()}")


@contextlib.contextmanager
def open_session(ws_url: str, **connect_options):
    """(hello, socket) of a new session, on a websockets sync client. Its queue is unbounded: a
    full queue stops the client's reader, which then misses the server's close and makes the
    final close() wait close_timeout (10 s) for it."""
    from websockets.sync.client import connect

    options = {"open_timeout": 20, "max_size": None, "max_queue": None, "proxy": None, **connect_options}
    with connect(ws_url, **options) as ws:
        hello = json.loads(ws.recv(timeout=20))
        assert hello["type"] == "hello", hello
        yield hello, ws


def trains(ws, preset: str = "circle", seconds: float = 30, steps_per_second: float | None = None) -> int:
    """Configures ``preset`` (at ``steps_per_second``, else the preset's speed), plays, and
    returns the step of the first metrics after step 0."""
    ws.send(json.dumps({"type": "configure", "preset": preset}))
    if steps_per_second is not None:
        ws.send(json.dumps({"type": "speed", "steps_per_second": steps_per_second}))
    ws.send(json.dumps({"type": "play"}))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        if isinstance(message, str):
            body = json.loads(message)
            if body["type"] == "error":
                raise AssertionError(f"the session failed: {body}")
            if body["type"] == "metrics" and body["step"] > 0:
                return body["step"]
    raise AssertionError(f"no training step in {seconds} s")
