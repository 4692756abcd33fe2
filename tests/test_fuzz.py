"""Fuzzing: random, malformed and hostile input on every HTTP route and on the WebSocket.

Every input must get a 4xx or an ``error`` message that names the problem: never a 5xx, an
``internal`` error, a dropped connection or a dead server. Afterwards /healthz answers and a
session opened before the fuzzing still trains.

- schemathesis generates valid and invalid requests for every operation of /api/openapi.json;
- hypothesis throws bytes, any JSON, NaN and infinity, huge numbers and arrays at /api/predict;
- hand-made hostile pictures: decompression bombs, PNGs claiming 50000×50000 pixels, truncated
  files, data URLs that are not PNG;
- hypothesis drives one WebSocket session with binary garbage, any text, any JSON and every
  command with wild field values.

The number of inputs tried is printed at the end of the module ("fuzz inputs tried: ...").
Everything runs in-process (ASGI), derandomised; about a minute on two busy cores.
"""
from __future__ import annotations

import base64
import collections
import io
import json
import struct
import urllib.parse
import zlib

import pytest
import schemathesis
from schemathesis import GenerationMode
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from PIL import Image

from app import config as cfg
from app.main import create_app
from app.settings import REPO_ROOT, Settings
from app.ws import COMMANDS
from tests.conftest import TEST_HOST

ERROR_CODES = {"bad_json", "unknown_command", "bad_value", "limit", "diverged", "mnist_missing", "no_ink",
               "not_found", "version", "model_missing"}  # "internal" is a server bug: never expected
FUZZ = settings(deadline=None, derandomize=True, database=None, max_examples=60,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

# -- the servers under test -----------------------------------------------------------------


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
        return [f"fuzz inputs tried: {sum(self.inputs.values())} "
                f"({', '.join(f'{kind} {n}' for kind, n in sorted(self.inputs.items()))})",
                f"websocket answers: {', '.join(f'{kind} {n}' for kind, n in self.answers.most_common())}"]


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
    if not fuzz_settings.pretrained.exists():
        pytest.skip(f"the pretrained digit model is missing at {fuzz_settings.pretrained}: run make model")
    with TestClient(create_app(fuzz_settings)) as client:
        yield client


@pytest.fixture(scope="module")
def bystander(client):
    """A session opened (and configured, so that only the long idle timeout applies to it) before the
    fuzzing: it must still train when the fuzzing is over."""
    with client.websocket_connect("/ws/session") as ws:
        ws.send_json({"type": "configure", "preset": "circle", "id": "b0"})
        yield ws


@pytest.fixture(scope="module")
def api_schema(fuzz_settings):
    return schemathesis.openapi.from_asgi("/api/openapi.json", create_app(fuzz_settings))


def assert_http_refusal_is_clear(status: int, body: bytes) -> None:
    """No 5xx; a 4xx carries a message that says what is wrong."""
    assert status < 500, f"server error {status}: {body[:300]!r}"
    if status >= 400:
        text = body.decode()
        detail = json.loads(text)["detail"]
        message = detail["message"] if isinstance(detail, dict) else detail
        assert isinstance(message, str) and len(message) > 5, text[:300]


# -- schemathesis: every operation of the OpenAPI document ----------------------------------
def test_every_route_answers_generated_requests_without_a_server_error(api_schema, tally):
    """Valid (positive) requests for each operation in the document, and invalid (negative) ones
    for those with a body: a string path parameter has no invalid value (see the next test)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)[:2 if len(operation.body) else 1]:
            @settings(FUZZ, max_examples=25)
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case):
                note(f"{operation.label} ({mode.value})")
                response = case.call()
                tally.inputs[f"openapi {mode.value}"] += 1
                assert_http_refusal_is_clear(response.status_code, response.content)

            call()


@FUZZ
@given(name=st.text(max_size=80) | st.sampled_from(["..", ".", "%2e%2e", "%2E%2E%2Fetc", "..%2F..%2Fx", "a%00b",
                                                     "pretrained", "x" * 65, "/etc/passwd", "~root", "C:\\x"]))
def test_model_weights_refuses_any_name_that_is_not_a_saved_model(client, tally, name):
    tally.inputs["model names"] += 1
    response = client.get(f"/api/models/{urllib.parse.quote(name, safe='%/')}/weights")
    assert_http_refusal_is_clear(response.status_code, response.content)
    assert response.status_code in ((200,) if name == "pretrained" else (404, 422)), (name, response.text[:200])


def test_the_openapi_document_lists_every_route(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/healthz", "/api/predict", "/api/presets", "/api/models", "/api/models/{name}/weights",
            "/api/mnist", "/", "/playground", "/digits", "/math"} <= set(paths)
    assert "requestBody" in paths["/api/predict"]["post"]  # so that the fuzzer sends bodies


# -- /api/predict: bytes, JSON, numbers, arrays ---------------------------------------------
def post(client, tally, kind: str, content: bytes, headers: dict | None = None):
    tally.inputs[kind] += 1
    response = client.post("/api/predict", content=content,
                           headers={"content-type": "application/json", **(headers or {})})
    assert_http_refusal_is_clear(response.status_code, response.content)
    return response


wild_numbers = st.one_of(st.integers(), st.integers(min_value=10**18, max_value=10**300),
                         st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e308, -1e308, 5e-324]))
json_values = st.recursive(st.none() | st.booleans() | wild_numbers | st.text(max_size=40),
                           lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=6),
                           max_leaves=30)
huge_arrays = st.tuples(wild_numbers, st.integers(1000, 60000)).map(lambda pair: [pair[0]] * pair[1])
wild = st.one_of(json_values, huge_arrays,
                 st.text(alphabet="AZaz09+/=", max_size=3000))
predict_bodies = st.fixed_dictionaries({}, optional={"image": wild, "width": wild, "height": wild, "pixels": wild,
                                                     "model": wild}) | json_values


@FUZZ
@given(content=st.binary(max_size=2048))
def test_predict_refuses_binary_garbage(client, tally, content):
    assert 400 <= post(client, tally, "predict bytes", content).status_code < 500


@settings(FUZZ, max_examples=300)
@given(body=predict_bodies)
def test_predict_refuses_malformed_json_and_wrong_types(client, tally, body):
    post(client, tally, "predict json", json.dumps(body, allow_nan=True).encode())


@FUZZ
@given(width=wild_numbers, height=wild_numbers, length=st.integers(0, 5000))
def test_predict_refuses_pixels_of_the_wrong_size(client, tally, width, height, length):
    body = {"width": width, "height": height, "pixels": base64.b64encode(bytes(length)).decode()}
    response = post(client, tally, "predict pixels", json.dumps(body, allow_nan=True).encode())
    assert response.status_code in (400, 413, 422)


# -- hostile pictures -------------------------------------------------------------------------
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


def encoded(picture: Image.Image, form: str) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, form)
    return buffer.getvalue()


def data_url(raw: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


DIGIT = Image.new("L", (40, 40), 0)
DIGIT.paste(255, (15, 5, 25, 35))  # a stroke: a "1"
HOSTILE_PICTURES = {
    "PNG claiming 50000×50000": (data_url(png_claiming(50000, 50000, rows=8)), 413),
    "PNG claiming 2^31-1 wide": (data_url(png_claiming(2**31 - 1, 1, rows=0)), 413),
    "PNG claiming 1×100000": (data_url(png_claiming(1, 100000, rows=100)), 413),
    "bomb at the side limit, no ink": (data_url(png_claiming(2048, 2048)), 422),
    "zTXt text bomb": (data_url(png_claiming(28, 28, text_bomb=50 << 20)), 422),
    "truncated PNG": (data_url(encoded(DIGIT, "PNG")[:60]), 422),
    "PNG of width 0": (data_url(png_claiming(0, 10, rows=0)), 422),
    "PNG signature only": (data_url(b"\x89PNG\r\n\x1a\n"), 422),
    "text as image/png": (data_url(b"hello, world"), 422),
    "SVG": (data_url(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"), 422),
    "text/plain data URL": (data_url(b"1", "text/plain"), 422),
    "application/pdf data URL": (data_url(b"%PDF-1.4", "application/pdf"), 422),
    "no base64 marker": ("data:image/png," + "A" * 100, 422),
    "bad base64": ("data:image/png;base64,@@@@", 422),
    "not a data URL": ("https://example.com/digit.png", 422),
    "file URL": ("file:///etc/passwd", 422),
    "empty picture": (data_url(encoded(Image.new("L", (28, 28), 255), "PNG")), 422),
    "a real digit as GIF": (data_url(encoded(DIGIT, "GIF"), "image/gif"), 200),
    "a real digit as PNG": (data_url(encoded(DIGIT, "PNG")), 200),
}


@pytest.mark.parametrize("name", HOSTILE_PICTURES)
def test_predict_refuses_hostile_pictures_naming_the_problem(client, tally, name):
    url, status = HOSTILE_PICTURES[name]
    response = post(client, tally, "hostile pictures", json.dumps({"image": url}).encode())
    assert response.status_code == status, response.text[:300]
    if status != 200:
        assert response.json()["detail"]["field"] == "image"


@FUZZ
@given(raw=st.binary(min_size=1, max_size=600), mime=st.sampled_from(["image/png", "image/gif", "image/jpeg",
                                                                       "image/webp", "image/bmp", "image/x-icon"]))
def test_predict_refuses_random_bytes_in_a_data_url(client, tally, raw, mime):
    response = post(client, tally, "predict data URLs", json.dumps({"image": data_url(raw, mime)}).encode())
    assert response.status_code == 422


@FUZZ
@given(width=st.integers(1, 2**31 - 1), height=st.integers(1, 2**31 - 1))
def test_pngs_claiming_any_size_are_refused_before_decoding(client, tally, width, height):
    raw = png_claiming(width, height, rows=min(height, 4) if width < 10**5 else 0)
    response = post(client, tally, "claimed PNG sizes", json.dumps({"image": data_url(raw)}).encode())
    assert response.status_code == (413 if max(width, height) > 2048 else 422)


# -- the WebSocket ----------------------------------------------------------------------------
class Conversation:
    """One fuzzed session. After each input it sends a numbered ``hello`` and reads up to its ack,
    so every reply is attributed to the input that caused it."""

    def __init__(self, client, wire, tally: Tally):
        self.client, self.wire, self.tally, self.ws, self.count = client, wire, tally, None, 0

    def open(self):
        self.ws = self.client.websocket_connect("/ws/session")
        self.ws.__enter__()
        assert self.wire.recv(self.ws)["type"] == "hello"

    def close(self):
        if self.ws is not None:
            self.ws.__exit__(None, None, None)
            self.ws = None

    def exchange(self, send) -> list[dict]:
        if self.ws is None:
            self.open()
        send(self.ws)
        self.count += 1
        sync = f"sync-{self.count}"
        self.ws.send_text(json.dumps({"type": "hello", "id": sync}))
        replies = []
        for _ in range(100000):
            message = self.wire.recv(self.ws)
            if message["type"] == "websocket.close":
                self.close()
                assert message["code"] == 1002 and replies and replies[-1]["code"] == "version", replies[-3:]
                return replies  # a hello of another version ends the session, as it should
            if message.get("id") == sync:
                self.tally.answers.update([e["code"] for e in replies] or ["ok"])
                return replies
            if message["type"] == "error":
                replies.append(message)
        raise AssertionError("no answer to the sync hello")


@pytest.fixture(scope="module")
def conversation(client, wire, tally):
    talk = Conversation(client, wire, tally)
    yield talk
    talk.close()


def assert_errors_are_clear(errors: list[dict]) -> None:
    for e in errors:
        assert e["code"] in ERROR_CODES, e
        assert isinstance(e["message"], str) and len(e["message"]) > 5, e
        assert e["field"] is None or isinstance(e["field"], str), e


CONFIG_VALUES = {
    "dataset": st.sampled_from(cfg.DATASETS), "hidden": st.lists(st.integers(-2, 40), max_size=5),
    "activation": st.sampled_from(cfg.HIDDEN_ACTIVATIONS), "output": st.sampled_from(cfg.OUTPUT_ACTIVATIONS),
    "loss": st.sampled_from(cfg.LOSSES), "n_samples": st.integers(0, 1000), "batch_size": st.integers(0, 100),
    "learning_rate": st.floats(0, 200), "features": st.lists(st.sampled_from(["x1", "x2", "x1x2", "sin_x1", "z"])),
}
configs = st.dictionaries(st.sampled_from(sorted(cfg.DEFAULT) + ["bogus"]), wild, max_size=4) | st.fixed_dictionaries(
    {}, optional=CONFIG_VALUES)
FIELDS = ["config", "preset", "unit", "trace", "seed", "learning_rate", "batch_size", "regularization",
          "regularization_rate", "steps_per_second", "layer", "from", "to", "neuron", "value", "x1", "x2", "label",
          "pixels", "width", "height", "image", "inputs", "name", "version", "id"]
sane = {"config": configs, "preset": st.sampled_from(["xor", "circle", "spiral", "mnist", "nope"]),
        "inputs": st.lists(st.lists(wild_numbers, max_size=3), max_size=70),
        "name": st.sampled_from(["ok", "../up", "a/b", "", "x" * 65, ".tmp", "%2e%2e"]),
        "unit": st.sampled_from(["batch", "epoch", "year"]), "version": st.sampled_from([1, 1, 1, 2, "1"])}
commands = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    st.sampled_from(COMMANDS),
    st.dictionaries(st.sampled_from(FIELDS), wild, max_size=4).flatmap(
        lambda fields: st.fixed_dictionaries({k: sane.get(k, st.just(v)) | st.just(v) for k, v in fields.items()})))
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
NESTED = "[" * 5000 + "]" * 5000
DEEP_CONFIG = '{"type": "configure", "config": {"dataset": ' + "[" * 900 + "]" * 900 + "}}"
HANDMADE = {  # message: the error code it must get (None: a valid command)
    "": "bad_json", " ": "bad_json", "{": "bad_json", "nul": "bad_json", "[" * 5000 + "]" * 5000: "bad_json",
    '{"type": "configure", "config": {"dataset": ' + "[" * 900 + "]" * 900 + "}}": "bad_value",
    '{"type": "set", "learning_rate": NaN}': "bad_json", '{"type": "set", "learning_rate": 1e999}': "bad_value",
    '{"type": "set", "batch_size": ' + "9" * 4400 + "}": "bad_value",
    '{"type": "probe", "inputs": [' + ",".join(["[1e308, -1e308]"] * 64) + "]}": "bad_value",
    '{"type": "configure", "config": {"points": ' + json.dumps([[0.5, 0.5, 1]] * 5000) + "}}": "limit",
    '{"type": "predict", "image": "' + data_url(png_claiming(50000, 50000, rows=8)) + '"}': "limit",
    '{"type": "predict", "width": 100000, "height": 100000, "pixels": ""}': "bad_value",
    '{"type": "load", "name": "../x"}': "bad_value", '{"id": ' + "1" * 100 + ', "type": "hello"}': "bad_value",
    '{"type": "hello", "version": 2}': "version", '{"type": "play"}': None,
    '{"type": "speed", "steps_per_second": null}': None,
    '{"type": "add_point", "x1": 1e400, "x2": 0, "label": 1}': "bad_value",
    **{text: "bad_value" for text in POISON}, '{"type": "pause", "id": 9007199254740991}': None,
    '{"type": "pause", "id": "printable id"}': None, '{"type": "pause", "id": -9007199254740991}': None,
}


@pytest.mark.parametrize("text", HANDMADE, ids=range(len(HANDMADE)))
def test_websocket_refuses_handmade_nasty_messages(conversation, bystander, tally, text):
    tally.inputs["websocket handmade"] += 1
    errors = conversation.exchange(lambda ws: ws.send_text(text))
    assert_errors_are_clear(errors)
    assert [e["code"] for e in errors] == ([HANDMADE[text]] if HANDMADE[text] else []), errors


@FUZZ
@given(raw=st.binary(max_size=4096))
def test_websocket_refuses_binary_garbage(conversation, tally, raw):
    tally.inputs["websocket bytes"] += 1
    errors = conversation.exchange(lambda ws: ws.send_bytes(raw))
    assert [e["code"] for e in errors] == ["bad_json"]


@settings(FUZZ, max_examples=200)
@given(text=st.text(max_size=200) | json_values.map(lambda v: json.dumps(v, allow_nan=True)))
def test_websocket_refuses_any_text_that_is_not_a_command(conversation, tally, text):
    tally.inputs["websocket text"] += 1
    errors = conversation.exchange(lambda ws: ws.send_text(text))
    assert_errors_are_clear(errors)


@settings(FUZZ, max_examples=1000)
@given(command=commands)
def test_websocket_commands_with_wild_fields_get_replies_or_clear_errors(conversation, tally, command):
    tally.inputs["websocket commands"] += 1
    assert_errors_are_clear(conversation.exchange(lambda ws: ws.send_text(json.dumps(command, allow_nan=True))))


def reply(wire, ws, id_: str) -> dict:
    """The first message answering the command with this id."""
    for _ in range(10000):
        message = wire.recv(ws)
        if message.get("id") == id_ or message["type"] == "websocket.close":
            return message
    raise AssertionError(f"no reply to {id_!r}")


def test_after_the_fuzzing_the_server_and_other_sessions_still_work(client, bystander, conversation, wire):
    assert client.get("/healthz").json() == {"status": "ok"}
    bystander.send_json({"type": "configure", "preset": "xor", "id": "b1"})
    assert reply(wire, bystander, "b1")["type"] == "configured"
    bystander.send_json({"type": "step", "id": "b2"})
    assert reply(wire, bystander, "b2")["type"] == "ack"
    assert wire.until(bystander, "metrics")["step"] == 1
    conversation.close()
    with client.websocket_connect("/ws/session") as fresh:
        assert wire.recv(fresh)["type"] == "hello"
        fresh.send_json({"type": "configure", "preset": "circle", "id": "f1"})
        assert reply(wire, fresh, "f1")["dataset"]["name"] == "circle"
