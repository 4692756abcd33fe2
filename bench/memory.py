"""The worst case the memory budget allows: the server's peak RSS with every session at its limit.

    .venv/bin/python bench/memory.py [--seconds 20] [--sessions 32]

For each of three shapes of "worst" it starts ``python -m app serve`` with the default limits
(session_memory_mb, max_sessions; per-client limit raised, since every client is on this machine),
opens ``--sessions`` WebSocket sessions (default: max_sessions), configures each with the
configuration the server accepts that app/budget.py estimates highest, trains them all flat out
for ``--seconds``, and samples the server's VmRSS and VmHWM (its peak). Then the clients leave and
the RSS is sampled until it settles. "Idle" is the server after one small MNIST session came and
went, so that it holds the MNIST arrays (about 220 MB, shared by every session).

    widest   MNIST, Adam, the widest and deepest hidden layers accepted at batch 128
    batch    MNIST, Adam, two hidden layers of 256 at the largest batch accepted
    conv     MNIST, Adam, the Digits page's conv layers (app/presets.py) at the largest batch accepted

It prints the idle RSS, the peak, the peak per session next to the estimate, budget × sessions,
and the RSS after the sessions left.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app import budget  # noqa: E402
from app.frames import EVALUATION_ROWS  # noqa: E402
from app.presets import CNN_LAYERS  # noqa: E402
from app.settings import Settings  # noqa: E402
from engine import spec  # noqa: E402
from engine.optim import optimizer_class  # noqa: E402
from load import ROOT, free_port, rss_mb, settle  # noqa: E402

OUTPUT = {"type": "dense", "size": 10, "activation": "softmax"}


def plans(config: dict) -> list:
    """engine.spec plans of an MNIST config: dense from "hidden", or conv from "layers"."""
    if config.get("architecture") == "conv":
        return spec.plan([28, 28, 1], [*config["layers"], OUTPUT])
    return spec.plan([784], [*({"type": "dense", "size": n} for n in config["hidden"]), OUTPUT])


def need(config: dict, batch: int) -> int:
    return budget.estimate(plans(config), batch, len(optimizer_class("adam").ARRAYS), EVALUATION_ROWS)


def largest_batch(config: dict, limit: int) -> int:
    return max(b for b in range(1, 65537) if need(config, b) <= limit) if need(config, 1) <= limit else 1


def worst_configs(settings: Settings) -> dict[str, dict]:
    limit = settings.session_memory_mb * budget.MB
    widest = max(({"hidden": [w] * k} for k in range(1, settings.max_layers + 1)
                  for w in range(64, settings.max_width + 1, 64) if need({"hidden": [w] * k}, 128) <= limit),
                 key=lambda c: need(c, 128))
    pair, conv = {"hidden": [256, 256]}, {"architecture": "conv", "layers": CNN_LAYERS}
    return {"widest": {**widest, "batch_size": 128}, "batch": {**pair, "batch_size": largest_batch(pair, limit)},
            "conv": {**conv, "batch_size": largest_batch(conv, limit)}}


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


async def session(url: str, config: dict, until: float, report: dict) -> None:
    async with connect(url, max_size=None, proxy=None, open_timeout=60) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        await ws.send(json.dumps({"type": "configure", "preset": "mnist", "id": "c",
                                  "config": {"optimizer": "adam", "learning_rate": 0.001, **config}}))
        await ws.send(json.dumps({"type": "play"}))
        while (left := until - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(ws.recv(), left)
            except asyncio.TimeoutError:
                break
            if isinstance(message, str) and '"type":"error"' in message:
                report.setdefault("errors", []).append(json.loads(message)["message"])
            elif isinstance(message, str) and message.startswith('{"type":"metrics"'):
                report["steps"] = report.get("steps", 0) + 1
        await ws.close(1001)


async def measure(name: str, config: dict, sessions: int, seconds: float, settings: Settings) -> bool:
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1", NNPLAY_MAX_SESSIONS_PER_CLIENT=str(sessions),
               NNPLAY_MAX_SESSIONS=str(max(sessions, settings.max_sessions)))
    env.setdefault("NNPLAY_DATA_DIR", str(ROOT.parent / "shared" / "mnist"))
    with open(f"/tmp/nnplay-memory-{name}.log", "w") as log:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "app", "serve", "--host", "127.0.0.1",
                                                    "--port", str(port), cwd=ROOT, env=env, stdout=log,
                                                    stderr=log)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                for _ in range(300):
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)
            warm = {"hidden": [16], "batch_size": 16}  # loads the MNIST arrays, which every session shares
            await session(f"ws://127.0.0.1:{port}/ws/session", warm, time.monotonic() + 2, {})
            idle = await settle(proc.pid)
            reports = [{} for _ in range(sessions)]
            until = time.monotonic() + seconds
            await asyncio.gather(*(session(f"ws://127.0.0.1:{port}/ws/session", config, until, r) for r in reports))
            peak = peak_mb(proc.pid)
            after = await settle(proc.pid)
        finally:
            proc.kill()
            await proc.wait()
    estimate = need(config, config["batch_size"]) / budget.MB
    errors = [e for r in reports for e in r.get("errors", [])]
    trained = sum(1 for r in reports if r.get("steps"))
    shape = budget.describe(plans(config))
    print(f"{name:<7} {shape} adam batch {config['batch_size']}: estimate {estimate:.0f} MB a session "
          f"(budget {settings.session_memory_mb} MB)")
    print(f"        {sessions} sessions, {trained} trained, {len(errors)} errors{': ' + errors[0] if errors else ''}")
    print(f"        RSS idle {idle:.0f} MB, peak {peak:.0f} MB (+{peak - idle:.0f} MB = "
          f"{(peak - idle) / sessions:.0f} MB a session); budget × sessions = "
          f"{settings.session_memory_mb * sessions} MB; after they left {after:.0f} MB ({after - idle:+.0f} MB)")
    return not errors and peak - idle <= settings.session_memory_mb * sessions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--sessions", type=int, default=Settings().max_sessions)
    args = parser.parse_args()
    settings = Settings.from_env({})
    print(f"nproc={os.cpu_count()}  load average={os.getloadavg()[0]:.1f}")
    ok = True
    for name, config in worst_configs(settings).items():
        ok &= asyncio.run(measure(name, config, args.sessions, args.seconds, settings))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
