"""A server killed with SIGKILL while it saves a model over an older one: the older model stays
intact (one of the two complete networks), and the temp file left behind is never listed or
loadable as a model."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.models import ModelStore
from engine import modelfile
from tests.real_server import reply, running_server

pytestmark = pytest.mark.slow


# -- SIGKILL while saving -------------------------------------------------------------------------
def weights(path: Path) -> list[np.ndarray]:
    network, _ = modelfile.load(path)
    return [a for layer in network.layers for a in (layer.W, layer.b)]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_sigkill_while_saving_keeps_the_previous_model_intact(tmp_path):
    """Save a wide network as "keep", then save another one over it again and again; kill -9 the
    server while a temp file shows a save in progress. "keep" must be one of the two complete
    networks, and the leftover temp file must never be listed or loadable as a model."""
    with running_server(tmp_path) as server:
        models = server.models
        ws = server.session()
        config = {"dataset": "circle", "hidden": [1000, 1000], "seed": 1}
        ws.send(json.dumps({"type": "configure", "config": config, "id": "c1"}))
        assert reply(ws, "c1")["type"] == "configured"
        ws.send(json.dumps({"type": "save", "name": "keep", "id": "s1"}))
        assert reply(ws, "s1")["type"] == "saved"
        previous = weights(models / "keep.npz")
        ws.send(json.dumps({"type": "configure", "config": {**config, "seed": 2}, "id": "c2"}))
        assert reply(ws, "c2")["type"] == "configured"
        ws.send(json.dumps({"type": "save", "name": "other", "id": "s2"}))
        assert reply(ws, "s2")["type"] == "saved"
        newer = weights(models / "other.npz")
        assert not same(previous, newer)

        def save_again_and_again():
            with contextlib.suppress(Exception):  # ends when the server dies
                for i in range(1000):
                    ws.send(json.dumps({"type": "save", "name": "keep", "id": i}))
                    reply(ws, i, timeout=60)

        saver = threading.Thread(target=save_again_and_again, daemon=True)
        saver.start()
        deadline = time.monotonic() + 60
        while not list(models.glob("*.tmp")):
            assert time.monotonic() < deadline, "no save was ever seen in progress"
            time.sleep(0.001)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
        saver.join(10)
        ws.close()
    leftovers = list(models.glob("*.tmp"))
    kept = weights(models / "keep.npz")
    assert same(kept, previous) or same(kept, newer)
    print(f"killed mid-save: keep.npz holds the {'first' if same(kept, previous) else 'newer'} network; "
          f"temp files left: {[p.name for p in leftovers]}")
    assert [m["name"] for m in ModelStore(models).list()["models"]] == ["keep", "other"]
    assert all(path.name.startswith(".") for path in leftovers), leftovers  # no model name can reach them
    if leftovers:
        with pytest.raises(Exception):
            ModelStore(models).load(leftovers[0].name.removesuffix(".npz"))
