"""Helpers for the protocol tests' sessions (the ``ws`` fixture of tests/conftest.py):

    def test_something(ws, wire):
        configured, snapshot = configure(ws, wire, config=XOR)

and for driving a Session by hand, its worker's steps on the test's thread, to put the sender's
turn exactly where a race once put it:

    with SessionByHand(tmp_path, config) as by_hand:
        by_hand.sender_takes_a_batch_before(monkeypatch, "refresh")
        ... by_hand.session._train_one_step() ...
    by_hand.sent()  -> every message the sender took, decoded, in order
"""
from __future__ import annotations

import asyncio
import json

from app import config as cfg
from app.gate import TrainingGate
from app.mnist_data import MnistData
from app.models import ModelStore
from app.outbox import Outbox
from app.protocol import decode_frame
from app.session import Session
from app.settings import Settings

XOR = {"dataset": "xor_table", "hidden": [2], "activation": "sigmoid", "output": "sigmoid",
       "loss": "squared_error", "optimizer": "sgd", "learning_rate": 0.5, "batch_size": 4, "seed": 3}


def configure(ws, wire, **fields):
    """Sends ``configure`` with ``fields``; (configured, snapshot) of the reply."""
    ws.send_json({"type": "configure", "id": "c", **fields})
    configured = wire.until(ws, "configured")
    return configured, wire.until(ws, "snapshot")


class SessionByHand:
    """A Session built from ``config``, whose Outbox lives on a private event loop."""

    def __init__(self, tmp_path, config: dict):
        self.tmp_path, self.config, self.batches = tmp_path, config, []

    def __enter__(self) -> "SessionByHand":
        settings = Settings.from_env({"NNPLAY_MODELS_DIR": str(self.tmp_path / "models")})
        self.loop = asyncio.new_event_loop()
        self.outbox = Outbox(self.loop)
        self.session = Session(settings, MnistData(self.tmp_path / "mnist"), ModelStore(self.tmp_path / "models"),
                               self.outbox, TrainingGate(1))
        self.session._build(cfg.normalise(cfg.DEFAULT, self.config, settings))
        return self

    def __exit__(self, *exc) -> None:
        self.loop.close()

    def take(self) -> None:
        """The sender takes whatever is waiting, as it does when the socket is free."""
        self.batches.append(self.loop.run_until_complete(self.outbox.take()))

    def sender_takes_a_batch_before(self, monkeypatch, method: str) -> None:
        """Every call of the reporter's ``method`` first lets the sender take a batch."""
        original = getattr(self.session.report, method)

        def sender_first(*args, **kwargs):
            self.take()
            return original(*args, **kwargs)
        monkeypatch.setattr(self.session.report, method, sender_first)

    def sent(self) -> list[dict]:
        return [json.loads(m) if isinstance(m, str) else decode_frame(m) for batch in self.batches for _, m in batch]
