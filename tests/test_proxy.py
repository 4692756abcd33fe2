"""deploy/nginx.conf for real: Debian's nginx in front of three ``nnplay serve`` replicas.

30 sessions opened through the proxy spread over all three replicas and all train. Then one
replica is killed with SIGKILL: its clients' connections close (not hang until a timeout), they
reconnect through the proxy to the other two and train again, and POST /api/predict through the
proxy keeps answering throughout, with no 5xx beyond the requests in flight at the kill.

Without nginx (apt-get install nginx) the tests skip, except under CI=true, where they fail.
The compose file is checked with Debian's docker-compose the same way.
"""
from __future__ import annotations

import base64
import collections
import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import yaml
from websockets.exceptions import ConnectionClosedError

from app.settings import Settings
from tests.proxy import nginx_available, predict_loop, proxied, replicas, site_for
from tests.servers import free_port, open_session, trains

ROOT = Path(__file__).resolve().parents[1]
SESSIONS = 30
REPLICAS = 3
PREDICTORS = 2  # predict loops through the proxy, one request in flight each


def need(tool: str, available: bool) -> None:
    if not available:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing: CI must run the deployment tests (.ci/run installs it)")
        pytest.skip(f"{tool} is not installed (apt-get install {tool})")


def digit_body() -> dict:
    pixels = np.zeros((28, 28), np.uint8)
    pixels[4:24, 13:16] = 255  # a "1"
    return {"width": 28, "height": 28, "pixels": base64.b64encode(pixels.tobytes()).decode()}


def test_the_site_config_is_templated_line_for_line():
    text = site_for(18080, [18001, 18002])
    assert "server nnplay:8000" not in text and "listen 80;" not in text
    assert "    server 127.0.0.1:18001 max_fails=1 fail_timeout=10s;\n" in text
    assert "    server 127.0.0.1:18002 max_fails=1 fail_timeout=10s;\n" in text
    assert "listen 127.0.0.1:18080;" in text and "least_conn;" in text


def seconds(duration: str) -> float:
    value, unit = re.fullmatch(r"(\d+)([smhd]?)", duration).groups()
    return int(value) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def test_the_proxy_never_cuts_a_quiet_session_before_nnplay_would():
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    for directive in ("proxy_read_timeout", "proxy_send_timeout"):
        (value,) = re.findall(rf"^\s*{directive} (\w+);", text, re.M)
        assert seconds(value) >= Settings().idle_timeout_s, directive


@pytest.mark.slow
def test_sessions_spread_over_replicas_and_survive_one_being_killed(tmp_path):
    need("nginx", nginx_available())
    env = {**os.environ, "NNPLAY_MODELS_DIR": str(tmp_path / "models"), "PYTHONUNBUFFERED": "1",
           "NNPLAY_TRAINING_SLOTS": "1", "NNPLAY_MAX_SESSIONS_PER_CLIENT": "40"}  # all clients are 127.0.0.1
    listen = free_port()
    url, ws_url = f"http://127.0.0.1:{listen}", f"ws://127.0.0.1:{listen}/ws/session"
    origin = {"origin": url}  # as a browser sends it: nnplay checks it against the Host nginx passes on
    with replicas(REPLICAS, tmp_path, env) as servers, proxied(listen, [p for p, _ in servers], tmp_path / "nginx.log"), \
            contextlib.ExitStack() as sessions:
        pids = {proc.pid for _, proc in servers}
        by_worker = collections.defaultdict(list)
        for _ in range(SESSIONS):
            hello, ws = sessions.enter_context(open_session(ws_url, **origin))
            assert trains(ws, steps_per_second=20) > 0
            by_worker[hello["worker"]].append(ws)
        assert set(by_worker) == pids, "every session is served by one of the three replicas, all are used"
        assert sorted(map(len, by_worker.values())) == [10, 10, 10]

        (_, victim), (_, quiet), _ = servers
        for ws in by_worker[quiet.pid][-4:]:  # four sessions of one replica end ...
            ws.close()
        del by_worker[quiet.pid][-4:]
        for _ in range(4):  # ... and least_conn sends the next four there, the replica with fewest
            hello, ws = sessions.enter_context(open_session(ws_url, **origin))
            assert hello["worker"] == quiet.pid
            by_worker[quiet.pid].append(ws)

        stop, results = threading.Event(), []
        loops = [threading.Thread(target=predict_loop, args=(url, digit_body(), time.monotonic() + 120, results, stop))
                 for _ in range(PREDICTORS)]
        for loop in loops:
            loop.start()
        try:
            time.sleep(1)
            killed_at = time.monotonic()
            victim.send_signal(signal.SIGKILL)

            for ws in by_worker[victim.pid]:  # every client of the killed replica is told at once
                with pytest.raises(ConnectionClosedError):
                    while True:
                        ws.recv(timeout=15)  # not until proxy_read_timeout (1 h)
            survivors = pids - {victim.pid}
            for _ in by_worker[victim.pid]:  # ... and reconnects through the proxy
                hello, ws = sessions.enter_context(open_session(ws_url, **origin))
                assert hello["worker"] in survivors
                assert trains(ws, steps_per_second=20) > 0
            for pid in survivors:  # the others never noticed
                assert trains(by_worker[pid][0], steps_per_second=20) > 0
            time.sleep(1)
        finally:
            stop.set()
            for loop in loops:
                loop.join(60)
        before = [status for sent, status in results if sent < killed_at]
        after = [status for sent, status in results if sent >= killed_at]
        assert before and set(before) == {200}
        assert len(after) > 10 and after.count(200) >= len(after) - PREDICTORS, collections.Counter(after)


def mounts(service: dict) -> dict[str, str]:
    """{target: source} of a service's volumes, from the short ("src:dst:mode") or long form."""
    pairs = [v.split(":")[:2] if isinstance(v, str) else (v["source"], v["target"]) for v in service["volumes"]]
    return {target: source for source, target in pairs}


def test_the_compose_file_runs_replicas_behind_the_proxy_with_one_models_volume():
    need("docker-compose", shutil.which("docker-compose") is not None)
    done = subprocess.run(["docker-compose", "-f", str(ROOT / "deploy" / "compose.yaml"), "config"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "NNPLAY_REPLICAS": "5"})
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    app, proxy = config["services"]["nnplay"], config["services"]["proxy"]
    assert app["deploy"]["replicas"] == 5 and "ports" not in app  # only the proxy is reachable
    assert Path(app["build"]["context"]) == ROOT and app["image"] == "nnplay"
    assert mounts(app)["/data/models"] == "models" and "models" in config["volumes"]
    assert mounts(proxy)["/etc/nginx/conf.d/default.conf"] == str(ROOT / "deploy" / "nginx.conf")
    assert proxy["depends_on"]["nnplay"]["condition"] == "service_healthy"
