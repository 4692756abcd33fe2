"""Shared pytest fixtures."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_HOST = "testserver"  # the Host header of Starlette's TestClient: allowed in the tests' settings


def pytest_collection_modifyitems(items):
    """Browser tests run last: the quick tests report first, and Playwright's sync API keeps an
    event loop running in the main thread for the rest of the session, where asyncio.run() fails."""
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder with the four MNIST .gz files: $NNPLAY_DATA_DIR, else ../shared/mnist beside the repo."""
    path = Path(os.environ["NNPLAY_DATA_DIR"]) if os.environ.get("NNPLAY_DATA_DIR") else (
        REPO_ROOT.parent / "shared" / "mnist")
    if not path.is_dir():
        pytest.skip(f"MNIST files not found in {path}: set NNPLAY_DATA_DIR or put them in ../shared/mnist")
    return path


# -- the server (app/) -------------------------------------------------------------------------
@pytest.fixture
def make_client(tmp_path):
    """make_client(**settings) -> a started FastAPI TestClient of a fresh app.

    Models go to tmp_path/models, MNIST is read from $NNPLAY_DATA_DIR or ../shared/mnist, and the
    pretrained model is a missing file unless ``pretrained=`` is given."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    clients = []
    base = Settings.from_env({
        "NNPLAY_MODELS_DIR": str(tmp_path / "models"),
        "NNPLAY_DATA_DIR": os.environ.get("NNPLAY_DATA_DIR") or str(REPO_ROOT.parent / "shared" / "mnist"),
        "NNPLAY_PRETRAINED": str(tmp_path / "no-such-model.npz"),
        "NNPLAY_ALLOWED_HOSTS": TEST_HOST,
    })

    def make(**overrides):
        client = TestClient(create_app(base.with_overrides(**overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    """A started TestClient of a fresh app with the default test settings."""
    return make_client()


@pytest.fixture
def ws(client, wire):
    """A session socket on ``client`` whose hello has been read."""
    with client.websocket_connect("/ws/session") as socket:
        assert wire.recv(socket)["type"] == "hello"
        yield socket


class Wire:
    """Reading the session socket in tests: text is parsed strictly (NaN or Infinity fail the
    test), binary frames are decoded with app.protocol.decode_frame."""

    @staticmethod
    def recv(ws) -> dict:
        import json

        from app.protocol import decode_frame

        message = ws.receive()
        if message.get("type") == "websocket.close":
            return {"type": "websocket.close", "code": message.get("code")}
        if message.get("text") is not None:
            def refuse(name):
                raise AssertionError(f"the server sent {name} in JSON: {message['text'][:200]}")
            return json.loads(message["text"], parse_constant=refuse)
        return decode_frame(message["bytes"])

    @classmethod
    def until(cls, ws, kind: str, limit: int = 10000) -> dict:
        """The next message of type ``kind``, skipping others (at most ``limit`` of them)."""
        for _ in range(limit):
            message = cls.recv(ws)
            if message["type"] == kind:
                return message
            if message["type"] == "websocket.close":
                raise AssertionError(f"the socket closed ({message['code']}) while waiting for {kind!r}")
            if message["type"] == "error" and message.get("code") == "internal":
                raise AssertionError(f"the server failed while we waited for {kind!r}: {message['message']}")
        raise AssertionError(f"no {kind!r} message in {limit} messages")

    @classmethod
    def take(cls, ws, count: int) -> list[dict]:
        return [cls.recv(ws) for _ in range(count)]


@pytest.fixture(scope="session")
def wire():
    return Wire
