"""Fuzzing the HTTP side: schemathesis sends valid and invalid requests to every operation of
/api/openapi.json; hypothesis sends any model name to /api/models/{name}/weights and bytes, any JSON,
NaN and infinity, huge numbers and arrays, and pixels of the wrong size to /api/predict.
Every answer is a 2xx or a 4xx naming the problem (tests/fuzzing.py), never a 5xx."""
from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
import schemathesis
from hypothesis import given, note, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from app.main import create_app
from tests.fuzzing import (FUZZ, assert_http_refusal_is_clear, client, fuzz_settings, json_values,  # noqa: F401
                           post, tally, wild, wild_numbers)


@pytest.fixture(scope="module")
def api_schema(fuzz_settings):
    return schemathesis.openapi.from_asgi("/api/openapi.json", create_app(fuzz_settings))


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
