"""Bounded load on loopback: many sessions training at once, REST latency meanwhile, memory after.

    .venv/bin/python bench/load.py [--cap 32] [--sessions 20] [--seconds 60]
                                   [--workload circle|mnist|large] [--mnist-train-size 1000]

Starts ``python -m app serve`` on a free 127.0.0.1 port with NNPLAY_MAX_SESSIONS=cap, warms it
up (one predict, one short session), then measures its resident memory (VmRSS) as the start
level and runs two phases, each for ``--seconds``:

  1. ``--sessions`` WebSocket sessions (default 20) train flat out: the circle preset, or MNIST
     on its first ``--mnist-train-size`` images (read from $NNPLAY_DATA_DIR, else ../shared/mnist),
     or ``large``: MNIST with a 784-1024-1024-10 network and Adam (about 60 MB a session).
     Each client reads every message, and leaves as a browser tab does (close code 1001).
  2. cap + 5 sessions try the same: the 5 over the cap must be refused with an ``error`` of code
     ``limit`` naming max_sessions=cap and close code 1013.

Throughout, one probe loop times GET /healthz and one POST /api/predict (a 28×28 digit), one
request in flight each, 10 a second. After each phase the clients leave; memory is sampled
until it settles (at most 15 s) and compared with the start level (target: within 50 MB).
Everything stops by itself: loops are bounded by deadlines and the server is killed at the end.
The client runs in this process, on the same machine: on a small machine it takes CPU from the
server, so the figures are a bound on a shared box, not the server's capacity.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CAP = 32  # app.settings.Settings.max_sessions; tests/test_app_settings.py checks they agree
PROBES_PER_SECOND = 10
P99_TARGET_MS = 250
RSS_TARGET_MB = 50
SETTLE_SECONDS = 15
LARGE = {"hidden": [1024, 1024], "optimizer": "adam", "learning_rate": 0.001}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def digit_pixels() -> dict:
    """A 28×28 drawing of a "1" in the /api/predict pixels form."""
    pixels = np.zeros((28, 28), np.uint8)
    pixels[4:24, 13:16] = 255
    return {"width": 28, "height": 28, "pixels": base64.b64encode(pixels.tobytes()).decode()}


@dataclass
class SessionResult:
    accepted: bool = False
    refusal: dict | None = None
    close_code: int | None = None
    steps: int = 0
    messages: int = 0
    bytes: int = 0
    failure: str | None = None


@dataclass
class PhaseResult:
    name: str
    sessions: list[SessionResult]
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    probe_errors: int = 0
    rss_peak: float = 0.0
    rss_after: float = 0.0
    seconds: float = 0.0


async def train(ws_url: str, configure: dict, until: float) -> SessionResult:
    result = SessionResult()
    try:
        async with connect(ws_url, max_size=None, proxy=None, open_timeout=30) as ws:
            first = json.loads(await ws.recv())
            if first["type"] != "hello":
                result.refusal = first
                try:
                    await asyncio.wait_for(ws.recv(), 10)
                except ConnectionClosed as closed:
                    result.close_code = closed.rcvd.code if closed.rcvd else None
                return result
            result.accepted = True
            await ws.send(json.dumps(configure))
            await ws.send(json.dumps({"type": "play"}))
            while (left := until - time.monotonic()) > 0:
                try:
                    message = await asyncio.wait_for(ws.recv(), left)
                except asyncio.TimeoutError:
                    break
                result.messages += 1
                result.bytes += len(message)
                if isinstance(message, str) and message.startswith('{"type":"metrics"'):
                    result.steps = json.loads(message)["step"]
                elif isinstance(message, str) and message.startswith('{"type":"error"'):
                    result.failure = json.loads(message)["message"]
            await ws.close(1001)  # the page went away: the server closes the session at once
    except (OSError, ConnectionClosed, asyncio.TimeoutError) as e:
        result.failure = f"{type(e).__name__}: {e}"
    return result


async def probe(client: httpx.AsyncClient, method: str, path: str, body: dict | None, until: float,
                latencies: list[float]) -> int:
    """Time one request at a time, PROBES_PER_SECOND a second; returns how many failed."""
    errors = 0
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            response = await client.request(method, path, json=body, timeout=30)
            response.raise_for_status()
            latencies.append(1000 * (time.perf_counter() - started))
        except httpx.HTTPError:
            errors += 1
        await asyncio.sleep(max(0.0, 1 / PROBES_PER_SECOND - (time.perf_counter() - started)))
    return errors


async def sample_rss(pid: int, until: float, samples: list[float]) -> None:
    while time.monotonic() < until:
        samples.append(rss_mb(pid))
        await asyncio.sleep(0.5)


async def settle(pid: int) -> float:
    """RSS once it stops falling (three samples 1 s apart within 1 MB), or after SETTLE_SECONDS."""
    samples = [rss_mb(pid)]
    for _ in range(SETTLE_SECONDS):
        await asyncio.sleep(1)
        samples.append(rss_mb(pid))
        if max(samples[-3:]) - min(samples[-3:]) < 1 and len(samples) >= 3:
            break
    return samples[-1]


async def phase(name: str, url: str, pid: int, sessions: int, seconds: float, configure: dict) -> PhaseResult:
    started = time.monotonic()
    until = started + seconds
    ws_url = url.replace("http", "ws") + "/ws/session"
    result = PhaseResult(name, [], {"/healthz": [], "/api/predict": []})
    rss: list[float] = []
    async with httpx.AsyncClient(base_url=url) as client:
        tasks = [asyncio.create_task(train(ws_url, configure, until)) for _ in range(sessions)]
        errors = await asyncio.gather(
            probe(client, "GET", "/healthz", None, until, result.latency_ms["/healthz"]),
            probe(client, "POST", "/api/predict", digit_pixels(), until, result.latency_ms["/api/predict"]),
            sample_rss(pid, until, rss))
        result.sessions = await asyncio.gather(*tasks)
    result.seconds = time.monotonic() - started
    result.probe_errors = sum(e for e in errors if e)
    result.rss_peak = max(rss)
    result.rss_after = await settle(pid)
    return result


async def warm_up(url: str, configure: dict) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        (await client.post("/api/predict", json=digit_pixels(), timeout=60)).raise_for_status()
    await train(url.replace("http", "ws") + "/ws/session", configure, time.monotonic() + 3)


def start_server(port: int, cap: int, log) -> subprocess.Popen:
    env = dict(os.environ, NNPLAY_MAX_SESSIONS=str(cap), PYTHONUNBUFFERED="1",
               NNPLAY_MAX_SESSIONS_PER_CLIENT=str(cap + 5))  # every client is on this machine's address
    env.setdefault("NNPLAY_DATA_DIR", str(ROOT.parent / "shared" / "mnist"))  # as the tests read it
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server did not start; see {log.name}")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def report(start_rss: float, cap: int, phases: list[PhaseResult]) -> bool:
    ok = True
    print(f"\nserver RSS after warm-up: {start_rss:.1f} MB; max_sessions = {cap}\n")
    head = (f"{'phase':<18}{'tried':>6}{'open':>6}{'refused':>8}{'failed':>7}{'steps/s':>9}{'msgs/s':>8}"
            f"{'healthz p50/p99 ms':>20}{'predict p50/p99 ms':>20}{'RSS peak':>9}{'after':>7}{'Δ start':>8}")
    print(head)
    print("-" * len(head))
    for p in phases:
        opened = [s for s in p.sessions if s.accepted]
        refused = [s for s in p.sessions if s.refusal is not None]
        failed = [s for s in p.sessions if s.failure is not None or not (s.accepted or s.refusal)]
        health, pred = p.latency_ms["/healthz"], p.latency_ms["/api/predict"]
        print(f"{p.name:<18}{len(p.sessions):>6}{len(opened):>6}{len(refused):>8}{len(failed):>7}"
              f"{sum(s.steps for s in opened) / p.seconds:>9.0f}{sum(s.messages for s in opened) / p.seconds:>8.0f}"
              f"{percentile(health, 50):>9.1f} /{percentile(health, 99):>7.1f}  "
              f"{percentile(pred, 50):>9.1f} /{percentile(pred, 99):>7.1f}  "
              f"{p.rss_peak:>8.1f}{p.rss_after:>7.1f}{p.rss_after - start_rss:>+8.1f}")
        expected_refusals = max(0, len(p.sessions) - cap)
        good_refusals = [s for s in refused if s.refusal.get("code") == "limit"
                         and f"max_sessions={cap}" in s.refusal.get("message", "") and s.close_code == 1013]
        checks = {
            f"{expected_refusals} refused with code limit naming max_sessions={cap}, close 1013":
                len(refused) == len(good_refusals) == expected_refusals,
            "every other session trained": len(opened) == len(p.sessions) - expected_refusals and not failed,
            f"healthz p99 ≤ {P99_TARGET_MS} ms": percentile(health, 99) <= P99_TARGET_MS,
            f"predict p99 ≤ {P99_TARGET_MS} ms": percentile(pred, 99) <= P99_TARGET_MS,
            "no probe failed": p.probe_errors == 0,
            f"RSS back within {RSS_TARGET_MB} MB of start": p.rss_after - start_rss <= RSS_TARGET_MB,
        }
        for name, passed in checks.items():
            print(f"    {'ok  ' if passed else 'FAIL'} {name}")
            ok &= passed
        for s in failed[:3]:
            print(f"    failure: {s.failure}")
        if refused:
            print(f"    refusal: {refused[0].refusal.get('message')}")
    return ok


async def run(args) -> bool:
    configure = {"type": "configure", "preset": "circle"} if args.workload == "circle" else {
        "type": "configure", "preset": "mnist", "config": {"mnist_train_size": args.mnist_train_size,
                                                           **(LARGE if args.workload == "large" else {})}}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = Path(args.log)
    with open(log_path, "w") as log:
        proc = start_server(port, args.cap, log)
        try:
            await warm_up(url, configure)
            start_rss = await settle(proc.pid)
            phases = []
            for name, n in ((f"{args.sessions} sessions", args.sessions), (f"cap+5 = {args.cap + 5}", args.cap + 5)):
                print(f"{name}: {args.workload}, {args.seconds:g} s ...", flush=True)
                phases.append(await phase(name, url, proc.pid, n, args.seconds, configure))
            return report(start_rss, args.cap, phases)
        finally:
            proc.kill()
            proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap", type=int, default=DEFAULT_CAP,
                        help=f"NNPLAY_MAX_SESSIONS of the server (default: the server's own, {DEFAULT_CAP})")
    parser.add_argument("--sessions", type=int, default=20, help="sessions in the first phase (default 20)")
    parser.add_argument("--seconds", type=float, default=60, help="length of each phase (default 60)")
    parser.add_argument("--workload", choices=("circle", "mnist", "large"), default="circle")
    parser.add_argument("--mnist-train-size", type=int, default=1000)
    parser.add_argument("--log", default="/tmp/nnplay-load-server.log", help="where the server's output goes")
    args = parser.parse_args()
    if not (1 <= args.cap <= 1000 and 1 <= args.sessions <= 1000 and 1 <= args.seconds <= 600):
        parser.error("--cap and --sessions must be 1..1000, --seconds 1..600")
    print(f"nproc={os.cpu_count()}  load average={os.getloadavg()[0]:.1f} (a shared machine: other jobs run too)")
    return 0 if asyncio.run(run(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
