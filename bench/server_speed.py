"""How much the server costs: training through a WebSocket session vs the bare engine, and
the latency of reading a digit over REST and over the WebSocket.

    .venv/bin/python bench/server_speed.py [--seconds 5] [--rounds 2] [--requests 200]

1. Bare engine: Trainer.step() in a loop for each config (MNIST 784-128-64-10 batch 64, the
   circle preset), steps per second.
2. The same config in a live server (``python -m app serve`` in a subprocess) driven flat out
   over /ws/session by a client that reads every message at the default frame rate; steps per
   second from the ``metrics`` step counter. Rounds alternate bare / server; the best of each is kept
   (``ratio``), and ``paired`` is the median over rounds of each round's session / bare, which a
   machine that speeds up and slows down over minutes disturbs less.
   Also per CPU second (bare: this process; session: the whole server process, sender included):
   on a busy machine the client and the server's sender take CPU share from the worker, so the
   wall-clock ratio understates what an idle machine gives; the CPU ratio measures the overhead.
3. POST /api/predict with a 280×280 PNG of a drawn digit: median and 90th percentile over N requests;
   then GET /healthz the same way, the part of any request that is HTTP and client alone (on a
   noisy machine it moves with the predict figure).
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
import io
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
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


def bare_steps_per_second(preset: str, overrides: dict, settings: Settings, seconds: float) -> float:
    config = cfg.normalise(cfg.DEFAULT, {**presets.get(preset)["config"], **overrides}, settings)
    data = cfg.build_data(config, MnistData(settings.data_dir).arrays)
    network = cfg.build_network(config, data)
    trainer = cfg.build_trainer(config, network, data)
    with np.errstate(all="ignore"):  # as in the session's worker: it speeds up small NumPy calls
        for _ in range(20):  # warm up
            trainer.step()
        start, cpu, steps = time.perf_counter(), time.process_time(), 0
        while time.perf_counter() - start < seconds:
            trainer.step()
            steps += 1
    return steps / (time.perf_counter() - start), steps / (time.process_time() - cpu)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def receive_until(ws, kind: str) -> dict:
    while True:
        message = ws.recv()
        if isinstance(message, str) and json.loads(message)["type"] == kind:
            return json.loads(message)


def session_steps_per_second(url: str, preset: str, overrides: dict, seconds: float,
                             server_pid: int) -> tuple[float, float, int]:
    """Steps per wall-clock second and per server CPU second flat out in a session, and how many
    binary frames the client got meanwhile."""
    with connect(url, max_size=None) as ws:
        receive_until(ws, "hello")
        ws.send(json.dumps({"type": "configure", "preset": preset, "config": overrides}))
        receive_until(ws, "configured")
        ws.send(json.dumps({"type": "speed", "steps_per_second": None}))
        ws.send(json.dumps({"type": "play"}))
        receive_until(ws, "ack")
        first = last = None
        frames_received = 0
        deadline = time.perf_counter() + seconds + 1.0
        while time.perf_counter() < deadline:
            message = ws.recv()
            if isinstance(message, bytes):
                frames_received += 1
                continue
            body = json.loads(message)
            if body["type"] == "metrics" and body["running"]:
                now = time.perf_counter()
                if first is None and now > deadline - seconds:  # skip the first second
                    first = (now, body["step"], process_cpu_seconds(server_pid))
                    frames_received = 0
                last = (now, body["step"], process_cpu_seconds(server_pid))
        ws.send(json.dumps({"type": "pause"}))
    steps = last[1] - first[1]
    return steps / (last[0] - first[0]), steps / (last[2] - first[2]), frames_received


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


def rest_latency(base: str, n: int, path: str, body: dict | None = None) -> tuple[float, float]:
    """Median and p90 of GET ``path`` (or POST ``body`` to it) over ``n`` requests, after 10 more."""
    times = []
    with httpx.Client(base_url=base) as client:
        for i in range(n + 10):
            start = time.perf_counter()
            response = client.get(path) if body is None else client.post(path, json=body)
            elapsed = time.perf_counter() - start
            response.raise_for_status()
            if i >= 10:
                times.append(elapsed)
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
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
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
    base, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws/session"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
              f"{args.seconds:g} s per run, best of {args.rounds} rounds\n")
        print(f"{'':28} {'steps per wall-clock second':^33}   {'steps per CPU second':^33}")
        print(f"{'config':28} {'bare':>9} {'session':>9} {'ratio':>7} {'paired':>7} {'frames/s':>9}   "
              f"{'bare':>9} {'server':>9} {'ratio':>7}")
        for label, (preset, overrides) in CONFIGS.items():
            bare, bare_cpu, live, live_cpu, fps = 0.0, 0.0, 0.0, 0.0, 0.0
            pairs = []  # session / bare of each round: the two ran seconds apart, on the same machine state
            for _ in range(args.rounds):
                wall_bare, cpu = bare_steps_per_second(preset, overrides, settings, args.seconds)
                bare, bare_cpu = max(bare, wall_bare), max(bare_cpu, cpu)
                wall, cpu, frames = session_steps_per_second(url, preset, overrides, args.seconds, server.pid)
                pairs.append(wall / wall_bare)
                if wall > live:
                    live, fps = wall, frames / args.seconds
                live_cpu = max(live_cpu, cpu)
            print(f"{label:28} {bare:9.0f} {live:9.0f} {live / bare:7.1%} {statistics.median(pairs):7.1%} {fps:9.1f}   "
                  f"{bare_cpu:9.0f} {live_cpu:9.0f} {live_cpu / bare_cpu:7.1%}")
        image, pixels = digit_png()
        median, p90 = rest_latency(base, args.requests, "/api/predict", {"image": image})
        print(f"\nPOST /api/predict, 280×280 PNG:  median {median:.2f} ms   p90 {p90:.2f} ms"
              f"   ({args.requests} requests)")
        median, p90 = rest_latency(base, args.requests, "/healthz")
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
