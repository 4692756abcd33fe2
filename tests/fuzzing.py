"""What the fuzzing tests share: one in-process app with small limits, the hypothesis settings, the
tally of inputs tried, the clear-refusal checks, wild values, hostile PNGs and the poison messages.

Every input must get a 4xx or an ``error`` message that names the problem: never a 5xx, an
``internal`` error, a dropped connection or a dead server. Each fuzz module gets its own app
(``client``), which must still answer /healthz when the module is done, and prints its tally
("fuzz inputs tried: ...") at its end. Everything runs in-process (ASGI), derandomised.
"""
from __future__ import annotations

import base64
import collections
import json
import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from app.main import create_app
from app.settings import REPO_ROOT, Settings
from tests.conftest import TEST_HOST

ERROR_CODES = {"bad_json", "unknown_command", "bad_value", "limit", "diverged", "mnist_missing", "no_ink",
               "not_found", "version", "model_missing"}  # "internal" is a server bug: never expected
FUZZ = settings(deadline=None, derandomize=True, database=None, max_examples=60,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def fuzz_settings(tmp_path_factory) -> Settings:
    """Small limits keep each example cheap; MNIST is absent and its mirror refuses at once."""
    root = tmp_path_factory.mktemp("fuzz")
    return Settings.from_env({
        "NNPLAY_MODELS_DIR": str(root / "models"), "NNPLAY_DATA_DIR": str(root / "no-mnist"),
        "NNPLAY_PRETRAINED": str(REPO_ROOT / "engine" / "pretrained" / "digits.npz"),
        "NNPLAY_MNIST_MIRRORS": "http://127.0.0.1:9/", "NNPLAY_MAX_WIDTH": "32", "NNPLAY_MAX_LAYERS": "4",
        "NNPLAY_MAX_SAMPLES": "500", "NNPLAY_MAX_SESSIONS": "4", "NNPLAY_ALLOWED_HOSTS": TEST_HOST})


class Tally:
    """Inputs tried, by kind, and how the WebSocket answered them (error code, or "ok")."""

    def __init__(self):
        self.inputs: collections.Counter = collections.Counter()
        self.answers: collections.Counter = collections.Counter()

    def lines(self) -> list[str]:
        tried = [f"fuzz inputs tried: {sum(self.inputs.values())} "
                 f"({', '.join(f'{kind} {n}' for kind, n in sorted(self.inputs.items()))})"]
        answers = ', '.join(f'{kind} {n}' for kind, n in self.answers.most_common())
        return tried + ([f"websocket answers: {answers}"] if answers else [])


@pytest.fixture(scope="module")
def tally(request):
    """Printed when the module is done."""
    counts = Tally()
    yield counts
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            for line in counts.lines():
                reporter.write_line(line)


@pytest.fixture(scope="module")
def client(fuzz_settings):
    """The app under fuzzing; when the module is done it must still answer /healthz."""
    if not fuzz_settings.pretrained.exists():
        pytest.skip(f"the pretrained digit model is missing at {fuzz_settings.pretrained}: run make model")
    with TestClient(create_app(fuzz_settings)) as client:
        yield client
        assert client.get("/healthz").json() == {"status": "ok"}, "the fuzzed server stopped answering"


def assert_http_refusal_is_clear(status: int, body: bytes) -> None:
    """No 5xx; a 4xx carries a message that says what is wrong."""
    assert status < 500, f"server error {status}: {body[:300]!r}"
    if status >= 400:
        text = body.decode()
        detail = json.loads(text)["detail"]
        message = detail["message"] if isinstance(detail, dict) else detail
        assert isinstance(message, str) and len(message) > 5, text[:300]


def post(client, tally, kind: str, content: bytes, headers: dict | None = None):
    tally.inputs[kind] += 1
    response = client.post("/api/predict", content=content,
                           headers={"content-type": "application/json", **(headers or {})})
    assert_http_refusal_is_clear(response.status_code, response.content)
    return response


# -- wild values, hostile PNGs, poison messages -----------------------------------------------
wild_numbers = st.one_of(st.integers(), st.integers(min_value=10**18, max_value=10**300),
                         st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e308, -1e308, 5e-324]))
json_values = st.recursive(st.none() | st.booleans() | wild_numbers | st.text(max_size=40),
                           lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=6),
                           max_leaves=30)
huge_arrays = st.tuples(wild_numbers, st.integers(1000, 60000)).map(lambda pair: [pair[0]] * pair[1])
wild = st.one_of(json_values, huge_arrays,
                 st.text(alphabet="AZaz09+/=", max_size=3000))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, rows: int | None = None, text_bomb: int = 0) -> bytes:
    """An 8-bit grey PNG header claiming width × height; the pixel data is ``rows`` rows of zeros
    (all of them by default: a decompression bomb) and an optional zTXt chunk inflating to
    ``text_bomb`` bytes."""
    rows = height if rows is None else rows
    pixels = zlib.compress(bytes((width + 1) * rows), 9)
    chunks = [png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))]
    if text_bomb:
        chunks.append(png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(bytes(text_bomb), 9)))
    chunks += [png_chunk(b"IDAT", pixels), png_chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def data_url(raw: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


BIG = "1" + "0" * 30     # fits no 64-bit integer
HUGE = "9" * 400         # fits no float either
POISON = [  # messages that once killed a session's worker, or made its reply unwritable
    '{"type": "pause", "id": ' + BIG + '}', '{"type": "pause", "id": 9007199254740993}',
    '{"type": "pause", "id": -' + BIG + '}', '{"type": "pause", "id": 1.5}', '{"type": "pause", "id": true}',
    '{"type": "pause", "id": "\\ud800"}', '{"type": "pause", "id": "tab\\tid"}', '{"type": "pause", "id": [1]}',
    '{"type": "step", "unit": "epoch", "id": ' + HUGE + '}', '{"type": "set", "learning_rate": ' + HUGE + '}',
    '{"type": "set", "batch_size": ' + BIG + '}', '{"type": "set", "\\udfff": 1}', '{"type": "reset", "seed": ' + BIG + '}',
    '{"type": "speed", "steps_per_second": ' + HUGE + '}', '{"type": "configure", "config": {"seed": ' + BIG + '}}',
    '{"type": "configure", "config": {"\\ud800": 1}}', '{"type": "configure", "config": {"dataset": "\\ud800"}}',
    '{"type": "configure", "config": {"hidden": [' + BIG + ']}}', '{"type": "configure", "config": {"noise": -' + HUGE + '}}',
    '{"type": "save", "name": "\\ud800"}', '{"type": "load", "name": ' + BIG + '}',
    '{"type": "probe", "inputs": [[' + HUGE + ', 0]]}', '{"type": "add_point", "x1": ' + BIG + ', "x2": 0, "label": 1}',
    '{"type": "set_weight", "layer": ' + BIG + ', "from": 0, "to": 0, "value": 1}',
    '{"type": "set_bias", "layer": 1, "neuron": 0, "value": -' + HUGE + '}',
    '{"type": "predict", "width": ' + BIG + ', "height": 1, "pixels": "AA=="}',
]
