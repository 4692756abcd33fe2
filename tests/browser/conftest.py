"""Real Chromium (Debian's, at /usr/bin/chromium) driven by Playwright against a real server.

The server runs as `python -m app serve` in a subprocess on a free loopback port. Without a
Chromium the browser tests skip on a developer's machine, but fail under CI=true: there they
must run.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("NNPLAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m app serve`` in a subprocess on a loopback port; ``env`` overrides settings and
    ``preamble`` is Python run in the server process before it serves (e.g. to register an
    activation). ``stop()`` and ``start()`` again keep the port, as a restarted server would."""

    def __init__(self, log_dir: Path, env: dict | None = None, preamble: str = "", port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.env.setdefault("NNPLAY_DATA_DIR", str(ROOT.parent / "shared" / "mnist"))  # CI sets it itself
        self.env.setdefault("NNPLAY_MODELS_DIR", str(log_dir / "models"))
        self.preamble, self.log_path, self.proc = preamble, log_dir / "server.log", None

    def start(self) -> "Server":
        serve = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command = ([sys.executable, "-c", f"{self.preamble}\nfrom app.cli import main\nraise SystemExit(main({serve!r}))"]
                   if self.preamble else [sys.executable, "-m", "app", *serve])
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"the server did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of a live nnplay server; its models directory is a fresh temp dir."""
    s = Server(tmp_path_factory.mktemp("server")).start()
    yield s.url
    s.stop()


@pytest.fixture
def start_server(tmp_path):
    """start_server(env=..., preamble=...) -> a started Server of this test's own, stopped after it."""
    servers = []

    def start(**options) -> Server:
        servers.append(Server(tmp_path, **options).start())
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: CI must run the browser tests (apt-get install chromium)")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def open_tab(browser, base_url: str, errors: list, ignore=()):
    context = browser.new_context(base_url=base_url, viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    tab.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}")
           if m.type == "error" and not any(text in m.text for text in ignore) else None)
    return context, tab


@pytest.fixture
def page(browser, server):
    """A fresh tab; console errors and uncaught exceptions fail the test."""
    errors = []
    context, tab = open_tab(browser, server, errors)
    yield tab
    context.close()
    assert not errors, "the page logged errors:\n" + "\n".join(errors)


@pytest.fixture
def tab_on(browser):
    """tab_on(url, ignore=(...)) -> a fresh tab on another server; console errors fail the test,
    except those containing a text in ``ignore`` (a browser logs the failed connections of a page
    whose server is down: that is what some tests do)."""
    opened, errors = [], []

    def open_on(url: str, ignore=()):
        context, tab = open_tab(browser, url, errors, ignore)
        opened.append(context)
        return tab

    yield open_on
    for context in opened:
        context.close()
    assert not errors, "the page logged errors:\n" + "\n".join(errors)


@pytest.fixture
def shot_dir():
    """Where tests save screenshots for people to look at."""
    path = ROOT / "test-results"
    path.mkdir(exist_ok=True)
    return path
