"""The repository's nginx configuration (deploy/nginx.conf) in front of local nnplay replicas,
for tests/test_proxy.py and bench/class_capacity.py.

    with replicas(3, tmp, env) as servers:              # [(port, process)], all healthy
        with proxied(listen_port, [p for p, _ in servers], log) as nginx: ...

The site file is used as it is, but for two lines: its upstream ``server nnplay:8000 ...;`` is
copied once per replica with that replica's address (the parameters kept), and ``listen 80;``
becomes a loopback test port. Around it goes a main file of the test's own (pid file, temp
folders, error log, one worker process), in a temporary prefix: nginx runs in the foreground
(``daemon off``), as any user, writing nothing outside its prefix.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.servers import free_port, serving, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SERVER = re.compile(r"^(?P<indent>[ \t]*)server nnplay:8000(?P<parameters>[^;\n]*);", re.M)
LISTEN = re.compile(r"^(?P<indent>[ \t]*)listen 80;", re.M)


def site_for(listen: int, replicas: list[int]) -> str:
    """deploy/nginx.conf with its one upstream server line per replica and a loopback port."""
    text = SITE.read_text()
    (server,), (listen_line,) = SERVER.findall(text), LISTEN.findall(text)  # exactly one of each
    indent, parameters = server
    lines = "\n".join(f"{indent}server 127.0.0.1:{port}{parameters};" for port in replicas)
    text = SERVER.sub(lambda _: lines, text)
    return LISTEN.sub(lambda m: f"{m['indent']}listen 127.0.0.1:{listen};", text)


def main_config(prefix: Path) -> str:
    paths = "\n".join(f"    {kind}_temp_path {prefix / 'tmp' / kind};"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log stderr notice;\n"
            f"events {{ worker_connections 4096; }}\n"
            f"http {{\n{paths}\n    include {prefix / 'nnplay.conf'};\n}}\n")


def nginx_available() -> bool:
    return Path(NGINX).is_file() and os.access(NGINX, os.X_OK)


@contextlib.contextmanager
def proxied(listen: int, replicas: list[int], log: Path):
    """nginx with the repository's site config on 127.0.0.1:``listen``, until the block ends."""
    prefix = Path(tempfile.mkdtemp(prefix="nnplay-nginx-"))
    prefix.chmod(0o755)  # nginx's workers may run as another user (nobody, when started as root)
    try:
        (prefix / "tmp").mkdir()
        (prefix / "nnplay.conf").write_text(site_for(listen, replicas))
        (prefix / "nginx.conf").write_text(main_config(prefix))
        command = [NGINX, "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", "stderr", "-g", "daemon off;"]
        check = subprocess.run(command[:-2] + ["-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, f"nginx -t refused the configuration:\n{check.stderr}"
        with serving(command, prefix, dict(os.environ), log) as proc:
            wait_healthy(f"http://127.0.0.1:{listen}", proc, log)
            yield proc
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


@contextlib.contextmanager
def replicas(count: int, folder: Path, env: dict, extra_args: tuple[str, ...] = ()):
    """``count`` ``python -m app serve`` processes on free loopback ports, started together;
    [(port, process)] once every one answers /healthz."""
    with contextlib.ExitStack() as stack:
        started = []
        for i in range(count):
            port = free_port()
            log = folder / f"replica-{i}.log"
            command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args]
            started.append((port, stack.enter_context(serving(command, ROOT, env, log)), log))
        for port, proc, log in started:
            wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        yield [(port, proc) for port, proc, _ in started]


def predict_loop(url: str, body: dict, until: float, results: list, stop) -> None:
    """POST /api/predict one at a time until ``until`` or ``stop.is_set()``; appends
    (monotonic time sent, status code or the transport error's name)."""
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() < until and not stop.is_set():
            sent = time.monotonic()
            try:
                results.append((sent, client.post("/api/predict", json=body).status_code))
            except httpx.HTTPError as e:
                results.append((sent, type(e).__name__))
