"""How much the server costs: training through a WebSocket session vs the bare engine, and
the latency of reading a digit over REST and over the WebSocket.

    .venv/bin/python bench/server_speed.py [--slices 20] [--seconds 1] [--requests 200]

1. Bare engine: Trainer.step() in a loop for each config (MNIST 784-128-64-10 batch 64, the
   circle preset), in this process.
2. The same config in a live server (``python -m app serve`` in a subprocess), played flat out
   over /ws/session by a client that reads every message (metrics and snapshots at the server's
   default rates); steps from the ``metrics`` step counter. Bare engine and session take turns in
   slices of ``--seconds``, ``--slices`` of each: this machine's speed changes within seconds, so
   only slices taken back to back see the same machine. ``ratio`` is the session's total steps per
   second over the bare engine's; ``slices`` is the 10th–90th percentile of the slice pairs' ratios.
   Also per CPU second (bare: this process; session: the whole server process, sender included).
3. POST /api/predict with a 280×280 PNG of a drawn digit: median and 90th percentile over N requests
   from the standard library's http.client on one kept-alive connection; then GET /healthz the same
   way, the part of any request that is HTTP and client alone (on a noisy machine it moves with the
   predict figure).
4. WebSocket ``predict`` round trip (pixels of a 28×28 digit) in an MNIST session: median and p90.

Both sides run with OPENBLAS_NUM_THREADS=1 (as ``nnplay serve`` does) and NumPy's floating-point
error checks off (as the session worker does; a non-finite loss is caught by the engine). Needs the MNIST files
($NNPLAY_DATA_DIR or ../shared/mnist) and the pretrained model (or NNPLAY_PRETRAINED).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # noqa: E402  (before NumPy loads; a script, not a module)

import argparse
import base64
import http.client
import io
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import config as cfg  # noqa: E402
from app import presets  # noqa: E402
from app.mnist_data import MnistData  # noqa: E402
from app.settings import Settings  # noqa: E402
from engine import digits  # noqa: E402

CONFIGS = {"mnist 784-128-64-10 b64": ("mnist", {"batch_size": 64}), "circle 2-4-2-1 b10": ("circle", {})}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bare:
    """The engine alone on one config, trained a slice at a time, in this process."""

    def __init__(self, preset: str, overrides: dict, settings: Settings):
        config = cfg.normalise(cfg.DEFAULT, {**presets.get(preset)["config"], **overrides}, settings)
        data = cfg.build_data(config, MnistData(settings.data_dir).arrays)
        self.trainer = cfg.build_trainer(config, cfg.build_network(config, data), data)
        self.run(0.2)  # warm up

    def run(self, seconds: float) -> tuple[int, float, float]:
        """(steps, wall seconds, CPU seconds) of training flat out for ``seconds``."""
        with np.errstate(all="ignore"):  # as in the session's worker: it speeds up small NumPy calls
            start, cpu, steps = time.perf_counter(), time.process_time(), 0
            while time.perf_counter() - start < seconds:
                self.trainer.step()
                steps += 1
        return steps, time.perf_counter() - start, time.process_time() - cpu


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def receive_until(ws, kind: str) -> dict:
    """The next text message of type ``kind``; an ``error`` on the way stops the benchmark."""
    while True:
        message = ws.recv()
        if isinstance(message, str):
            body = json.loads(message)
            if body["type"] == kind:
                return body
            if body["type"] == "error":
                raise RuntimeError(f"the server answered an error while waiting for {kind}: {body['message']}")


class Live:
    """The same config in a server session over a WebSocket, played a slice at a time; the client
    reads every message, as a page does."""

    def __init__(self, ws, preset: str, overrides: dict, server_pid: int):
        self.ws, self.server_pid = ws, server_pid
        ws.send(json.dumps({"type": "configure", "preset": preset, "config": overrides}))
        receive_until(ws, "configured")
        ws.send(json.dumps({"type": "speed", "steps_per_second": None}))
        receive_until(ws, "ack")
        self.run(0.2)  # warm up

    def run(self, seconds: float) -> tuple[int, float, float, int]:
        """(steps, wall seconds, server CPU seconds, binary frames) between the first and the last
        ``metrics`` of a slice of ``seconds`` of play; the first 0.1 s, while the worker starts, is skipped."""
        self.ws.send(json.dumps({"type": "play"}))
        first = last = None
        frames = 0
        deadline = time.perf_counter() + seconds + 0.1
        while time.perf_counter() < deadline:
            message = self.ws.recv()
            if isinstance(message, bytes):
                frames += first is not None
                continue
            body = json.loads(message)
            if body["type"] == "metrics" and body["running"]:
                now = time.perf_counter()
                if first is None and now > deadline - seconds:
                    first = (now, body["step"], process_cpu_seconds(self.server_pid))
                last = (now, body["step"], process_cpu_seconds(self.server_pid))
        self.ws.send(json.dumps({"type": "pause"}))
        receive_until(self.ws, "ack")
        return last[1] - first[1], last[0] - first[0], last[2] - first[2], frames


def digit_png() -> tuple[str, str]:
    """A drawn 3 as a 280×280 PNG data URL (ink on transparent, like a canvas) and as 28×28 pixels."""
    strokes = [[(90, 70), (150, 50), (200, 90), (150, 140), (200, 190), (150, 230), (90, 210)]]
    grey = digits.draw_strokes(strokes, size=280, pen_width=20)
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = grey
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    small = np.asarray(Image.fromarray(grey).resize((28, 28), Image.Resampling.BILINEAR))
    return ("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(),
            base64.b64encode(small.tobytes()).decode())


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times) * 1000, times[int(0.9 * (len(times) - 1))] * 1000


def rest_latency(port: int, n: int, path: str, body: dict | None = None) -> tuple[float, float]:
    """Median and p90 of GET ``path`` (or POST ``body`` to it) over ``n`` requests, after 10 more.
    The client is the standard library's, on one kept-alive connection: httpx would add about
    0.4 ms of its own Python to every request."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"} if body is not None else {}
    times = []
    connection = http.client.HTTPConnection("127.0.0.1", port)
    try:
        for i in range(n + 10):
            start = time.perf_counter()
            connection.request("GET" if body is None else "POST", path, body=data, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
            if i >= 10:
                times.append(elapsed)
    finally:
        connection.close()
    return percentiles(times)


def ws_predict(url: str, pixels: str, n: int) -> tuple[float, float]:
    times = []
    with connect(url, max_size=None) as ws:
        receive_until(ws, "hello")
        ws.send(json.dumps({"type": "configure", "preset": "mnist", "config": {"mnist_train_size": 1000}}))
        receive_until(ws, "configured")
        for i in range(n + 10):
            start = time.perf_counter()
            ws.send(json.dumps({"type": "predict", "id": i, "pixels": pixels}))
            receive_until(ws, "prediction")
            if i >= 10:
                times.append(time.perf_counter() - start)
    return percentiles(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one slice")
    parser.add_argument("--slices", type=int, default=20, help="slices of each, bare and session, per config")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    settings = Settings.from_env()
    if not settings.data_dir.is_dir() and (ROOT.parent / "shared" / "mnist").is_dir():
        os.environ["NNPLAY_DATA_DIR"] = str(ROOT.parent / "shared" / "mnist")
        settings = Settings.from_env()
    port = free_port()
    env = dict(os.environ, NNPLAY_DATA_DIR=str(settings.data_dir))
    server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"ws://127.0.0.1:{port}/ws/session"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
              f"{args.slices} slices of {args.seconds:g} s each, bare and session taking turns\n")
        print(f"{'':28} {'steps per wall-clock second':^39}   {'steps per CPU second':^27}")
        print(f"{'config':28} {'bare':>8} {'session':>8} {'ratio':>7} {'slices':>13} {'frames/s':>9}   "
              f"{'bare':>8} {'server':>8} {'ratio':>7}")
        for label, (preset, overrides) in CONFIGS.items():
            bare = Bare(preset, overrides, settings)
            with connect(url, max_size=None) as ws:
                receive_until(ws, "hello")
                live = Live(ws, preset, overrides, server.pid)
                totals, pairs = np.zeros(7), []
                for _ in range(args.slices):
                    b_steps, b_wall, b_cpu = bare.run(args.seconds)
                    l_steps, l_wall, l_cpu, frames = live.run(args.seconds)
                    totals += (b_steps, b_wall, b_cpu, l_steps, l_wall, l_cpu, frames)
                    pairs.append((l_steps / l_wall) / (b_steps / b_wall))
            b_steps, b_wall, b_cpu, l_steps, l_wall, l_cpu, frames = totals
            low, high = np.percentile(pairs, [10, 90])
            print(f"{label:28} {b_steps / b_wall:8.0f} {l_steps / l_wall:8.0f} {l_steps / l_wall / (b_steps / b_wall):7.1%}"
                  f" {low:6.0%}–{high:<6.0%} {frames / l_wall:9.1f}   "
                  f"{b_steps / b_cpu:8.0f} {l_steps / l_cpu:8.0f} {(l_steps / l_cpu) / (b_steps / b_cpu):7.1%}")
        image, pixels = digit_png()
        median, p90 = rest_latency(port, args.requests, "/api/predict", {"image": image})
        print(f"\nPOST /api/predict, 280×280 PNG:  median {median:.2f} ms   p90 {p90:.2f} ms"
              f"   ({args.requests} requests)")
        median, p90 = rest_latency(port, args.requests, "/healthz")
        print(f"GET /healthz (any request's share): median {median:.2f} ms   p90 {p90:.2f} ms")
        median, p90 = ws_predict(url, pixels, args.requests)
        print(f"WS predict round trip, 28×28:    median {median:.2f} ms   p90 {p90:.2f} ms"
              f"   ({args.requests} requests)")
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
