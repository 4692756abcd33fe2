"""app/settings.py: defaults, environment variables, CLI overrides, and the injected app state."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import REPO_ROOT, Settings
from engine import mnist


def test_defaults(monkeypatch):
    monkeypatch.delenv("NNPLAY_DATA_DIR", raising=False)
    s = Settings.from_env({"HOME": "/home/ann"})
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.data_dir == mnist.default_data_dir()
    assert s.models_dir == Path.home() / ".local" / "share" / "nnplay" / "models"
    assert s.pretrained == REPO_ROOT / "engine" / "pretrained" / "digits.npz"
    assert s.static_dir == REPO_ROOT / "static" and s.templates_dir == REPO_ROOT / "templates"
    assert (s.max_layers, s.max_width, s.max_samples, s.max_message_bytes, s.max_sessions) == (8, 1024, 5000,
                                                                                               1 << 20, 32)
    assert (s.idle_timeout_s, s.frame_rate, s.metrics_rate, s.allowed_origins) == (900, 30, 20, ())


def test_environment_variables():
    s = Settings.from_env({"PORT": "9001", "NNPLAY_HOST": "0.0.0.0", "NNPLAY_DATA_DIR": "/data/mnist",
                           "XDG_DATA_HOME": "/xdg", "NNPLAY_MAX_WIDTH": "64", "NNPLAY_IDLE_TIMEOUT_S": "2.5",
                           "NNPLAY_ALLOWED_ORIGINS": "http://a.example/, http://b.example",
                           "NNPLAY_PRETRAINED": "/m/d.npz"})
    assert (s.port, s.host, s.data_dir) == (9001, "0.0.0.0", Path("/data/mnist"))
    assert s.models_dir == Path("/xdg/nnplay/models") and s.pretrained == Path("/m/d.npz")
    assert (s.max_width, s.idle_timeout_s) == (64, 2.5)
    assert s.allowed_origins == ("http://a.example", "http://b.example")
    assert Settings.from_env({"NNPLAY_MODELS_DIR": "/models"}).models_dir == Path("/models")


@pytest.mark.parametrize("name, value, message", [
    ("PORT", "eighty", "PORT='eighty' is not a whole number"),
    ("PORT", "70000", "PORT='70000' is out of range"),
    ("NNPLAY_MAX_LAYERS", "0", "max_layers must be between 1 and 64"),
    ("NNPLAY_FRAME_RATE", "nan", "NNPLAY_FRAME_RATE='nan' is out of range"),
])
def test_bad_environment_values_name_the_variable(name, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Settings.from_env({name: value})


def test_cli_overrides_win_and_none_keeps_the_value():
    s = Settings.from_env({"PORT": "9001"}).with_overrides(host="0.0.0.0", port=None)
    assert (s.host, s.port) == ("0.0.0.0", 9001)
    with pytest.raises(ValueError, match="port=-1"):
        s.with_overrides(port=-1)
    with pytest.raises(Exception):  # frozen
        s.port = 1


def test_the_app_gets_its_settings_injected(make_client, wire):
    client = make_client(max_width=5)
    assert client.app.state.settings.max_width == 5
    with client.websocket_connect("/ws/session") as ws:
        assert wire.recv(ws)["limits"]["max_width"] == 5
        ws.send_json({"type": "configure", "config": {"hidden": [6]}})
        error = wire.recv(ws)
        assert error["code"] == "limit" and "max_width=5" in error["message"]


def test_creating_the_app_starts_nothing():
    """No app at import time, and create_app alone opens no file, thread or data set."""
    import threading

    import app.main
    assert not hasattr(app.main, "app")
    before = threading.active_count()
    application = app.main.create_app(Settings.from_env({}))
    assert threading.active_count() == before and not hasattr(application.state, "sessions")


def test_the_load_benchmark_uses_the_servers_default_cap():
    import re
    text = (REPO_ROOT / "bench" / "load.py").read_text()
    assert int(re.search(r"^DEFAULT_CAP = (\d+)", text, re.M).group(1)) == Settings().max_sessions


def test_training_slots_default_to_the_cores_and_come_from_the_environment():
    import os
    assert Settings.from_env({}).training_slots == (os.cpu_count() or 1)
    assert Settings.from_env({"NNPLAY_TRAINING_SLOTS": "3"}).training_slots == 3
    with pytest.raises(ValueError, match=r"NNPLAY_TRAINING_SLOTS='0' is out of range: training_slots must be between 1 and 1024"):
        Settings.from_env({"NNPLAY_TRAINING_SLOTS": "0"})
