"""Fuzzing the WebSocket: hypothesis drives one session with binary garbage, any text, any JSON
and every command with wild field values, after a hand-made set of nasty messages (the poison
family among them). Every input gets a reply or an ``error`` naming a known code; afterwards
/healthz answers, a session opened before the fuzzing (``bystander``) still trains, and a new
one configures."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import config as cfg
from app.ws import COMMANDS
from tests.fuzzing import (ERROR_CODES, FUZZ, POISON, Tally, client, data_url, fuzz_settings,  # noqa: F401
                           json_values, png_claiming, tally, wild, wild_numbers)


@pytest.fixture(scope="module")
def bystander(client):
    """A session opened (and configured, so that only the long idle timeout applies to it) before the
    fuzzing: it must still train when the fuzzing is over."""
    with client.websocket_connect("/ws/session") as ws:
        ws.send_json({"type": "configure", "preset": "circle", "id": "b0"})
        yield ws


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
    "dataset": st.sampled_from(cfg.datasets()), "hidden": st.lists(st.integers(-2, 40), max_size=5),
    "activation": st.sampled_from(cfg.hidden_activations()), "output": st.sampled_from(cfg.output_activations()),
    "loss": st.sampled_from(cfg.loss_names()), "n_samples": st.integers(0, 1000), "batch_size": st.integers(0, 100),
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
