"""One published schema (issue 14): every config field's choices, defaults, ranges and limits come
from the engine's registries and Settings, in hello, at GET /api/schema and in the pages' controls;
the server checks configs against the same ranges. Also the pages' 404."""
from __future__ import annotations

import re

import numpy as np
import pytest

from app import config as cfg
from app import schema
from app.protocol import CommandError
from app.settings import Settings
from engine import activations, losses
from engine import data as toysets
from engine.layers import INITS
from engine.optim import OPTIMIZERS, REGULARIZERS


def values(field: dict) -> list:
    return [c["value"] for c in field["choices"]]


@pytest.fixture
def softsign(monkeypatch):
    """A new activation, registered the way engine/activations.py registers its own (and removed after)."""
    monkeypatch.setattr(activations, "ACTIVATIONS", dict(activations.ACTIVATIONS))
    return activations.register("softsign", lambda z: z / (1 + np.abs(z)), lambda z, a: (1 - np.abs(a)) ** 2)


def test_every_config_field_is_described_once_with_the_engine_choices():
    s = schema.build(Settings())
    f = s["fields"]
    assert set(f) == set(cfg.DEFAULT)
    assert {name: field["default"] for name, field in f.items()} == cfg.DEFAULT | {"problem": "classification"}
    assert values(f["activation"]) == [n for n, a in activations.ACTIVATIONS.items() if not a.output_only]
    assert values(f["output"]) == [n for n, a in activations.ACTIVATIONS.items() if not a.hidden_only]
    assert values(f["loss"]) == list(losses.LOSSES)
    assert values(f["init"]) == list(INITS) and values(f["optimizer"]) == list(OPTIMIZERS)
    assert values(f["regularization"]) == list(REGULARIZERS)
    assert values(f["features"]) == list(toysets.FEATURES)
    assert values(f["dataset"]) == list(cfg.datasets())
    assert {c["value"]: c["losses"] for c in f["output"]["choices"]}["softmax"] == ["cross_entropy"]
    assert s["live"] == ["learning_rate", "batch_size", "regularization", "regularization_rate"]


def test_the_ranges_published_are_the_ranges_checked():
    settings = Settings()
    fields = schema.build(settings)["fields"]
    for name, field in fields.items():
        if field["type"] not in ("number", "integer"):
            continue
        low, high = field["min"], field["max"]
        assert cfg.checked(name, high, settings) == high
        if not field.get("min_open"):
            assert cfg.checked(name, low, settings) == low
        step = 1 if field["type"] == "integer" else 1e-9 * max(1, abs(high))
        for wrong in ([low] if field.get("min_open") else [low - step]) + [high + step]:
            with pytest.raises(CommandError, match=rf"^{name}="):
                cfg.checked(name, wrong, settings)
        for v in field.get("suggested", []):
            assert cfg.checked(name, v, settings) == v, (name, v)
        if "slider" in field:
            assert low <= field["slider"]["min"] < field["slider"]["max"] <= high


def test_limits_follow_the_settings():
    s = schema.build(Settings.from_env({"NNPLAY_MAX_LAYERS": "3", "NNPLAY_MAX_WIDTH": "16", "NNPLAY_MAX_SAMPLES": "300"}))
    assert s["fields"]["hidden"]["max_layers"] == 3 and s["fields"]["hidden"]["max_width"] == 16
    assert s["fields"]["n_samples"]["max"] == 300 and s["fields"]["n_samples"]["slider"]["max"] == 300
    assert s["limits"]["max_layers"] == 3


def test_hello_and_the_api_publish_the_same_schema(make_client, wire):
    client = make_client(max_layers=3)
    with client.websocket_connect("/ws/session") as ws:
        hello = wire.recv(ws)
    published = client.get("/api/schema").json()
    assert hello["schema"] == published
    assert published["fields"]["hidden"]["max_layers"] == 3


def test_a_registered_activation_is_offered_everywhere_and_trains(make_client, wire, softsign):
    client = make_client()
    assert "softsign" in values(client.get("/api/schema").json()["fields"]["activation"])
    for page, select in (("/playground", 'data-field="activation"'), ("/digits", 'name="activation"')):
        html = client.get(page).text
        options = re.search(rf"<select {select}>(.*?)</select>", html, re.S).group(1)
        assert '<option value="softsign">Softsign</option>' in options, page
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "configure", "config": {"activation": "softsign", "output": "softsign"}})
        configured = wire.until(ws, "configured")
        assert configured["network"]["activations"] == ["softsign", "softsign", "softsign"]
        ws.send_json({"type": "step", "unit": "epoch", "id": 1})
        assert wire.until(ws, "ack")["command"] == "step"
        assert np.isfinite(wire.until(ws, "metrics")["train_loss"])


def test_the_pages_render_their_controls_from_the_schema(make_client):
    client = make_client(max_samples=300)
    playground = client.get("/playground").text
    assert 'data-field="n_samples" data-type="number" min="50" max="300"' in playground
    assert '<option value="0.00001">0.00001</option>' in playground          # the learning-rate ladder
    assert 'data-feature="sin_x2"' in playground and 'value="multigauss"' in playground
    digits = client.get("/digits").text
    mnist = client.get("/api/presets").json()["mnist"]["config"]
    assert f'<option value="{mnist["learning_rate"]}" selected>' in digits    # the preset, not a copy of it
    assert f'<option value="{mnist["batch_size"]}" selected>' in digits
    assert 'value="128, 64"' in digits and '<option value="60000" selected>60,000</option>' in digits


def test_unknown_pages_get_a_page_and_unknown_api_paths_json(make_client):
    client = make_client()
    page = client.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text and 'href="/playground"' in page.text and "/no/such/page" in page.text
    api = client.get("/api/nosuch")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
    assert not client.get("/static/js/nosuch.js").headers["content-type"].startswith("text/html")
    assert client.post("/playground").status_code == 405
