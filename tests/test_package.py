"""The package as a user gets it: ``python -m build`` makes an sdist and a wheel from it; the
wheel carries the page assets, the templates and the pretrained model(s); installed into a
fresh virtualenv, ``nnplay serve`` serves the whole app from an empty folder with no nnplay
variable set.

Building and installing take ~30-60 s on 2 cores (the fresh venv installs every dependency
from the package index), so they happen once, in module-scoped fixtures.
"""
from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import httpx
import pytest
from PIL import Image

import app
from engine import digits
from tests.servers import free_port, open_session, serving, trains, wait_healthy

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
PAGES = ("/", "/playground", "/digits", "/math")
SEVEN = [[(60, 50), (220, 50), (120, 250)]]  # as tests/test_digits.py draws it, on a 280 × 280 canvas


def run(command: list, **options) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, **options)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done


def clean_environment(home: Path) -> dict:
    """The environment of a user who never heard of nnplay: no NNPLAY_* variable, no PYTHONPATH,
    a HOME of its own (saved models and the MNIST cache go there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NNPLAY_") and k not in ("PYTHONPATH", "PORT")}
    return {**env, "HOME": str(home), "XDG_DATA_HOME": "", "XDG_CACHE_HOME": "", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> tuple[Path, str]:
    """(folder with the sdist and the wheel, what the build printed). ``python -m build`` with
    no target builds the sdist, then the wheel from the unpacked sdist: a file missing from the
    sdist is missing from the wheel too."""
    out = tmp_path_factory.mktemp("dist")
    done = run([sys.executable, "-m", "build", "--outdir", out, ROOT])
    return out, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    """The bin/ folder of a fresh virtualenv with only the wheel (and its dependencies) installed."""
    folder, _ = dist
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", venv])
    wheel = next(folder.glob("nnplay-*.whl"))
    done = run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel])
    assert "deprecat" not in (done.stdout + done.stderr).lower(), done.stderr
    return venv / "bin"


def repo_files(*folders: str) -> set[str]:
    """The files git tracks under ``folders``: what a fresh clone has."""
    listed = run(["git", "ls-files", *folders], cwd=ROOT).stdout.split()
    return {name for name in listed if (ROOT / name).is_file()}


def test_the_wheel_carries_the_code_the_pages_and_every_pretrained_model(dist):
    folder, _ = dist
    (wheel,) = folder.glob(f"nnplay-{app.__version__}-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    front_end = repo_files("static", "templates")
    assert any(name.startswith("static/js/") for name in front_end) and "templates/base.html" in front_end
    assert {f"app/{name}" for name in front_end} <= names
    models = {name for name in repo_files("engine/pretrained") if name.endswith(".npz")}
    assert "engine/pretrained/digits.npz" in models and models <= names
    assert {name for name in repo_files("app", "engine") if name.endswith(".py")} <= names
    assert not [name for name in names if "__pycache__" in name or name.startswith(("tests/", "static/"))]


def test_the_sdist_carries_what_the_wheel_is_built_from(dist):
    folder, _ = dist
    (sdist,) = folder.glob(f"nnplay-{app.__version__}.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert repo_files("app", "engine", "static", "templates", "tests") | {"pyproject.toml", "README.md"} <= names


def test_the_build_prints_no_deprecation_warning_and_twine_accepts_the_metadata(dist):
    folder, output = dist
    assert "deprecat" not in output.lower(), output
    checked = run([sys.executable, "-m", "twine", "check", "--strict", *sorted(folder.iterdir())])
    assert checked.stdout.count("PASSED") == 2, checked.stdout
    (wheel,) = folder.glob("*.whl")
    metadata = zipfile.ZipFile(wheel).read(f"nnplay-{app.__version__}.dist-info/METADATA").decode()
    assert re.search(r"^License-Expression: MIT$", metadata, re.M) and f"\nVersion: {app.__version__}\n" in metadata


def test_nnplay_version_prints_the_one_version(installed):
    assert run([installed / "nnplay", "--version"]).stdout.strip() == f"nnplay {app.__version__}"


def drawn_digit_png(strokes) -> str:
    """A data URL of black strokes on white, as the Digits page's canvas sends it."""
    buffer = io.BytesIO()
    Image.fromarray(255 - digits.draw_strokes(strokes, size=280, pen_width=18)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_the_installed_app_serves_everything_from_an_empty_folder(installed, tmp_path):
    empty, home = tmp_path / "empty", tmp_path / "home"
    empty.mkdir()
    home.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with serving([str(installed / "nnplay"), "serve", "--port", str(port)], empty, clean_environment(home), log) as proc:
        wait_healthy(url, proc, log)
        with httpx.Client(base_url=url, timeout=30) as client:
            assets = set()
            for page in PAGES:
                response = client.get(page)
                assert response.status_code == 200 and "text/html" in response.headers["content-type"], page
                assets |= set(re.findall(r'(?:src|href)="(?:https?://[^/"]+)?(/static/[^"]+)"', response.text))
            assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), assets
            for asset in sorted(assets):
                response = client.get(asset)
                assert response.status_code == 200, asset
                assert response.headers["content-type"].split(";")[0] in ("text/javascript", "text/css"), asset
            script = client.get("/static/js/socket.js")
            assert script.status_code == 200 and "export function" in script.text
            answer = client.post("/api/predict", json={"image": drawn_digit_png(SEVEN)})
            assert answer.status_code == 200, answer.text
            assert answer.json()["digit"] == 7 and answer.json()["model"] == "pretrained"
        with open_session(f"ws://127.0.0.1:{port}/ws/session") as (_, ws):
            assert trains(ws) > 0
    assert list(empty.iterdir()) == []  # nothing written where it was started
