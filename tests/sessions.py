"""One WebSocket session on a fresh app through FastAPI's TestClient, for the protocol tests.

    from tests.sessions import XOR, client, configure, ws  # noqa: F401  (client and ws are fixtures)

    def test_something(ws, wire):
        configured, snapshot = configure(ws, wire, config=XOR)
"""
from __future__ import annotations

import pytest

XOR = {"dataset": "xor_table", "hidden": [2], "activation": "sigmoid", "output": "sigmoid",
       "loss": "squared_error", "optimizer": "sgd", "learning_rate": 0.5, "batch_size": 4, "seed": 3}


def configure(ws, wire, **fields):
    """Sends ``configure`` with ``fields``; (configured, snapshot) of the reply."""
    ws.send_json({"type": "configure", "id": "c", **fields})
    configured = wire.until(ws, "configured")
    return configured, wire.until(ws, "snapshot")


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def ws(client, wire):
    """A session socket whose hello has been read."""
    with client.websocket_connect("/ws/session") as socket:
        assert wire.recv(socket)["type"] == "hello"
        yield socket
