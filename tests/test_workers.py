"""``nnplay serve --workers N``: N uvicorn worker processes on one port. Each session lives in one
process (``hello.worker`` is its process id); saved models are shared through the models folder;
settings from the environment and the command line reach every worker."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from app.cli import main
from app.settings import Settings
from tests.servers import free_port, open_session, serving, trains, wait_healthy

ROOT = Path(__file__).resolve().parents[1]


def test_workers_come_from_the_environment_with_a_range():
    assert Settings.from_env({}).workers == 1
    assert Settings.from_env({"NNPLAY_WORKERS": "4"}).workers == 4
    with pytest.raises(ValueError, match=r"NNPLAY_WORKERS='0' is out of range: workers must be between 1 and 256"):
        Settings.from_env({"NNPLAY_WORKERS": "0"})
    with pytest.raises(ValueError, match=r"--workers='300' is out of range: workers must be between 1 and 256"):
        Settings.from_env({}).with_overrides(workers=300)


def test_worker_processes_rebuild_the_command_lines_settings_from_their_environment():
    environment = {"NNPLAY_MAX_WIDTH": "77", "NNPLAY_MODELS_DIR": "/srv/models", "PORT": "1"}
    parent = Settings.from_env(environment).with_overrides(host="0.0.0.0", port=9100, workers=3)
    assert Settings.from_env({**environment, **parent.worker_environ()}) == parent
    with pytest.raises(ValueError, match="port=0 .* one worker only"):
        parent.with_overrides(port=0).worker_environ()


def test_bad_worker_counts_are_plain_errors(capsys):
    assert main(["serve", "--workers", "0"]) == 2
    assert "--workers='0' is out of range: workers must be between 1 and 256" in capsys.readouterr().err
    assert main(["serve", "--workers", "2", "--port", "0"]) == 2
    assert "one worker only" in capsys.readouterr().err


def until(ws, kind: str, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        if isinstance(message, str):
            body = json.loads(message)
            if body["type"] == kind:
                return body
            assert body["type"] != "error", body
    raise AssertionError(f"no {kind!r} in {seconds} s")


@pytest.mark.slow
def test_two_workers_share_the_port_and_the_models_folder(tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "NNPLAY_MODELS_DIR": str(tmp_path / "models"), "NNPLAY_MAX_WIDTH": "77",
           "PYTHONUNBUFFERED": "1", "NNPLAY_MAX_SESSIONS_PER_CLIENT": "24"}  # every client is 127.0.0.1
    command = [sys.executable, "-m", "app", "serve", "--workers", "2", "--port", str(port)]
    with serving(command, ROOT, env, log) as proc, contextlib.ExitStack() as sessions:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        by_worker: dict[int, list] = {}
        for _ in range(24):  # the kernel hands each connection to whichever worker accepts first
            hello, ws = sessions.enter_context(open_session(f"ws://127.0.0.1:{port}/ws/session"))
            assert hello["limits"]["max_width"] == 77  # the environment reached this worker
            assert trains(ws) > 0
            by_worker.setdefault(hello["worker"], []).append(ws)
            if len(by_worker) == 2 and min(map(len, by_worker.values())) >= 2:
                break
        assert len(by_worker) == 2 and min(map(len, by_worker.values())) >= 2, {k: len(v) for k, v in by_worker.items()}
        assert proc.pid not in by_worker  # sessions live in the workers, not in the supervisor
        (first, *_), (second, *_) = by_worker.values()
        first.send(json.dumps({"type": "save", "name": "made-in-one"}))
        assert until(first, "saved")["name"] == "made-in-one"
        second.send(json.dumps({"type": "load", "name": "made-in-one"}))
        assert until(second, "loaded")["name"] == "made-in-one"

        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        time.sleep(0.5)
        for pid in by_worker:  # the supervisor stopped its workers
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
