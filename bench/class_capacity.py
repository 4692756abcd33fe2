"""How many students one machine carries: sessions per core through the proxy (deploy/nginx.conf).

    .venv/bin/python bench/class_capacity.py [--workload circle|mnist|both] [--replicas N]
                                             [--seconds 8] [--slots K] [--speed STEPS_PER_S]

Starts ``--replicas`` ``nnplay serve`` processes (default: one per core) behind Debian's nginx
running the repository's deploy/nginx.conf (as tests/test_proxy.py does), then ramps the number
of sessions opened through the proxy. At each level every session is configured, played flat
out (or at ``--speed`` steps per second: the Playground page starts at 150), and read by a
client that takes every message (as a page does); once all of them train,
each session's rates are measured over ``--seconds``:

  circle   snapshots per second (binary ``snapshot`` frames); target ≥ 10 each
  mnist    images per second = Δ``step`` × batch size (128) from its ``metrics``; target ≥ 1,000 each

A level passes when every session opened, none failed, and the *slowest* session meets the
target. Levels grow ×1.5 until one fails, then the gap is halved until it is within 10 %. The
answer is the largest passing level, divided by the machine's cores, and divided by the cores
the servers actually got at that level: on a machine shared with other jobs the second is the
steadier figure.

The clients run in this process, on the same machine, and take CPU from the servers; in a
classroom each browser does that work on its own machine. So the figures are a floor, and the
table prints the CPU that the servers (replicas + nginx) and the client each used, in cores.
Needs nginx (apt-get install nginx); MNIST from $NNPLAY_DATA_DIR or ../shared/mnist.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from tests.proxy import nginx_available, proxied, replicas  # noqa: E402
from tests.servers import free_port  # noqa: E402

WORKLOADS = {  # name: (configure message, what is measured, target per session, first level per core)
    "circle": ({"type": "configure", "preset": "circle"}, "snapshots/s", 10.0, 8),
    "mnist": ({"type": "configure", "preset": "mnist"}, "images/s", 1000.0, 2),
}
MNIST_BATCH = 128  # app/presets.py, "mnist"
SNAPSHOT = b'{"type":"snapshot"'
GROWTH = 1.5
CLOSE_ENOUGH = 0.10
START_SECONDS = 60  # at most this long for every session of a level to be training


@dataclass
class Session:
    worker: int | None = None
    snapshots: list[float] = field(default_factory=list)     # arrival times
    steps: list[tuple[float, int]] = field(default_factory=list)  # (arrival time, metrics step)
    failure: str | None = None

    def training(self) -> bool:
        return any(step > 0 for _, step in self.steps)

    def rate(self, measured: str, t0: float, t1: float) -> float:
        if measured == "snapshots/s":
            return sum(t0 <= t < t1 for t in self.snapshots) / (t1 - t0)
        inside = [(t, s) for t, s in self.steps if t0 <= t < t1]
        if len(inside) < 2:
            return 0.0
        (ta, sa), (tb, sb) = inside[0], inside[-1]
        return (sb - sa) * MNIST_BATCH / (tb - ta)


async def run_session(url: str, commands: list[dict], session: Session, stop: asyncio.Event) -> None:
    try:
        async with connect(url.replace("http", "ws") + "/ws/session", origin=url, max_size=None, proxy=None,
                           open_timeout=60) as ws:
            hello = json.loads(await ws.recv())
            if hello["type"] != "hello":
                session.failure = f"refused: {hello}"
                return
            session.worker = hello["worker"]
            for command in commands:
                await ws.send(json.dumps(command))
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), 0.5)
                except asyncio.TimeoutError:
                    continue
                now = time.monotonic()
                if isinstance(message, bytes):
                    if message[8:8 + len(SNAPSHOT)] == SNAPSHOT:
                        session.snapshots.append(now)
                elif message.startswith('{"type":"metrics"'):
                    session.steps.append((now, json.loads(message)["step"]))
                elif message.startswith('{"type":"error"'):
                    session.failure = json.loads(message)["message"]
    except (OSError, ConnectionClosed, asyncio.TimeoutError) as e:
        session.failure = f"{type(e).__name__}: {e}"


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes and their children's threads, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def nginx_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *map(int, children)]


@dataclass
class Level:
    sessions: int
    rates: list[float]
    spread: list[int]
    failures: list[str]
    server_cores: float
    client_cores: float

    def passed(self, target: float) -> bool:
        return not self.failures and len(self.rates) == self.sessions and min(self.rates) >= target


def commands(workload: str, speed: float | None) -> list[dict]:
    configure = WORKLOADS[workload][0]
    return [configure, *([{"type": "speed", "steps_per_second": speed}] if speed else []), {"type": "play"}]


async def level(url: str, n: int, workload: str, seconds: float, server_pids: list[int],
                speed: float | None) -> Level:
    measured = WORKLOADS[workload][1]
    stop = asyncio.Event()
    sessions = [Session() for _ in range(n)]
    tasks = [asyncio.create_task(run_session(url, commands(workload, speed), s, stop)) for s in sessions]
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and not all(s.training() or s.failure for s in sessions):
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)  # past the first steps' start-up
    t0, server0, client0 = time.monotonic(), cpu_seconds(server_pids), time.process_time()
    await asyncio.sleep(seconds)
    t1, server1, client1 = time.monotonic(), cpu_seconds(server_pids), time.process_time()
    stop.set()
    await asyncio.gather(*tasks)
    failures = [s.failure for s in sessions if s.failure] + ["never trained"] * sum(
        1 for s in sessions if not s.failure and not s.training())
    spread = sorted((sum(s.worker == w for s in sessions) for w in {s.worker for s in sessions if s.worker}),
                    reverse=True)
    await asyncio.sleep(1)  # the replicas close the sessions
    return Level(n, [s.rate(measured, t0, t1) for s in sessions if s.training()], spread, failures,
                 (server1 - server0) / (t1 - t0), (client1 - client0) / (t1 - t0))


def show(result: Level, measured: str, target: float) -> None:
    rates = result.rates or [0.0]
    print(f"{result.sessions:>9}{min(rates):>10.1f}{statistics.median(rates):>10.1f}   "
          f"{'/'.join(map(str, result.spread)):<16}{result.server_cores:>8.2f}{result.client_cores:>8.2f}   "
          f"{'ok' if result.passed(target) else 'FAIL'}"
          + (f"   {len(result.failures)} failed: {result.failures[0]}" if result.failures else ""), flush=True)


async def ramp(url: str, workload: str, seconds: float, server_pids: list[int], cores: int, limit: int,
               speed: float | None) -> Level | None:
    _, measured, target, first = WORKLOADS[workload]
    pace = f"{speed:g} steps/s" if speed else "flat out"
    print(f"\n{workload}, {pace}: each session must get >= {target:g} {measured}; {seconds:g} s per level")
    print(f"{'sessions':>9}{'min':>10}{'median':>10}   {'per replica':<16}{'servers':>8}{'client':>8}   "
          f"(rates in {measured}; CPU in cores)")
    best, worst, found = 0, None, None
    n = first * cores
    while n <= limit:
        result = await level(url, n, workload, seconds, server_pids, speed)
        show(result, measured, target)
        if result.passed(target):
            best, found = n, result
        else:
            worst = n
        if worst is None:
            n = max(n + 1, round(n * GROWTH))
        elif worst - best > max(1, CLOSE_ENOUGH * best):
            n = (best + worst) // 2
        else:
            break
    return found


async def run(args) -> None:
    cores = os.cpu_count() or 1
    folder = Path(tempfile.mkdtemp(prefix="nnplay-capacity-"))
    env = {**os.environ, "NNPLAY_MODELS_DIR": str(folder / "models"), "NNPLAY_MAX_SESSIONS": "1000",
           "NNPLAY_MAX_SESSIONS_PER_CLIENT": "1000", "PYTHONUNBUFFERED": "1"}  # every client is 127.0.0.1
    env.setdefault("NNPLAY_DATA_DIR", str(ROOT.parent / "shared" / "mnist"))
    if args.slots:
        env["NNPLAY_TRAINING_SLOTS"] = str(args.slots)
    listen = free_port()
    url = f"http://127.0.0.1:{listen}"
    print(f"nproc={cores}  load average={os.getloadavg()[0]:.1f}  replicas={args.replicas}  "
          f"training slots per replica={args.slots or cores}  logs in {folder}", flush=True)
    with replicas(args.replicas, folder, env) as servers, \
            proxied(listen, [port for port, _ in servers], folder / "nginx.log") as nginx:
        server_pids = [proc.pid for _, proc in servers] + nginx_pids(nginx.pid)
        found = {}
        for workload in (("circle", "mnist") if args.workload == "both" else (args.workload,)):
            await level(url, args.replicas, workload, 2, server_pids, args.speed)  # warm up: MNIST loads
            found[workload] = await ramp(url, workload, args.seconds, server_pids, cores, args.limit, args.speed)
    print()
    for workload, best in found.items():
        _, measured, target, _ = WORKLOADS[workload]
        pace = f"{args.speed:g} steps/s" if args.speed else "flat out"
        if best is None:
            print(f"{workload}, {pace}: not even the first level met {target:g} {measured} per session")
            continue
        print(f"{workload}, {pace}: {best.sessions} sessions at >= {target:g} {measured} each through nginx, "
              f"{args.replicas} replicas on {cores} cores: {best.sessions / cores:.1f} sessions per core; "
              f"the servers used {best.server_cores:.2f} cores: {best.sessions / best.server_cores:.1f} "
              f"sessions per server core")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=("circle", "mnist", "both"), default="both")
    parser.add_argument("--replicas", type=int, default=os.cpu_count() or 1, help="nnplay processes (default: cores)")
    parser.add_argument("--seconds", type=float, default=8, help="measuring time per level (default 8)")
    parser.add_argument("--slots", type=int, help="NNPLAY_TRAINING_SLOTS of each replica (default: theirs)")
    parser.add_argument("--speed", type=float, help="steps per second of every session (default: flat out)")
    parser.add_argument("--limit", type=int, default=400, help="stop ramping at this many sessions (default 400)")
    args = parser.parse_args()
    if not (1 <= args.replicas <= 64 and 1 <= args.seconds <= 120 and 1 <= args.limit <= 2000):
        parser.error("--replicas 1..64, --seconds 1..120, --limit 1..2000")
    if not nginx_available():
        parser.error("nginx is not installed (apt-get install nginx)")
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
