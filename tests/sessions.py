"""Helpers for the protocol tests' sessions (the ``ws`` fixture of tests/conftest.py):

    def test_something(ws, wire):
        configured, snapshot = configure(ws, wire, config=XOR)
"""
from __future__ import annotations

XOR = {"dataset": "xor_table", "hidden": [2], "activation": "sigmoid", "output": "sigmoid",
       "loss": "squared_error", "optimizer": "sgd", "learning_rate": 0.5, "batch_size": 4, "seed": 3}


def configure(ws, wire, **fields):
    """Sends ``configure`` with ``fields``; (configured, snapshot) of the reply."""
    ws.send_json({"type": "configure", "id": "c", **fields})
    configured = wire.until(ws, "configured")
    return configured, wire.until(ws, "snapshot")
