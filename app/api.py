"""The REST API under /api: read a digit, list presets, the config schema, saved models and the MNIST status.

Errors answer ``{"detail": {"code", "message", "field"}}`` with a 4xx status (503 while the
pretrained digit model is missing).
"""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request, Response

from app import presets, schema
from app.deps import get_gate, get_mnist, get_models, get_pretrained, get_settings
from app.gate import TrainingGate
from app.frames import weights_frame
from app.mnist_data import MnistData
from app.models import NAME_RULE, ModelStore
from app.predict import MAX_SIDE, PretrainedModel, prediction, read_digit
from app.protocol import CommandError, dumps, loads
from app.settings import Settings

router = APIRouter(prefix="/api")
# /api/predict reads its body itself (read_json); this describes it for /api/docs and API fuzzers
PREDICT_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "a PNG data URL, or width × height grey pixels (255 = ink) in base64",
    "properties": {"image": {"type": "string", "description": "data:image/png;base64,..."},
                   "width": {"type": "integer", "minimum": 1, "maximum": MAX_SIDE},
                   "height": {"type": "integer", "minimum": 1, "maximum": MAX_SIDE},
                   "pixels": {"type": "string", "description": "base64 of width · height bytes"},
                   "model": {"type": "string", "pattern": NAME_RULE}}}}}}
PRETRAINED = "pretrained"  # the name under which the pretrained digit model is served

STATUS = {"bad_json": 400, "bad_value": 422, "no_ink": 422, "unknown_command": 400, "limit": 413,
          "not_found": 404, "mnist_missing": 409, "model_missing": 503, "internal": 500}


def status_of(error: CommandError) -> int:
    return STATUS.get(error.code, 400)


async def read_json(request: Request, limit: int) -> dict:
    """The request body as a JSON object, read up to ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise CommandError("limit", f"the body is {declared} bytes: at most max_message_bytes={limit} are accepted")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise CommandError("limit", f"the body is over max_message_bytes={limit} bytes")
    try:
        value = loads(body)
    except (ValueError, RecursionError) as e:
        raise CommandError("bad_json", f"the body is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise CommandError("bad_json", f"the body is a JSON {type(value).__name__}: it must be an object")
    return value


def saved_model(models: ModelStore, gate: TrainingGate, name: str, field: str = "name"):
    """A saved model's network, read from its file in a turn at the training gate: reading a big
    model is heavy work, and a burst of such requests must not allocate all at once."""
    with gate.turn():
        return models.load(name, field=field)[0]


@router.post("/predict", openapi_extra={"requestBody": PREDICT_BODY})
async def predict(request: Request, settings: Settings = Depends(get_settings),
                  pretrained: PretrainedModel = Depends(get_pretrained), models: ModelStore = Depends(get_models),
                  gate: TrainingGate = Depends(get_gate)):
    body = await read_json(request, settings.max_message_bytes)

    def answer() -> str:
        name = body.get("model")
        network = pretrained.get() if name is None else saved_model(models, gate, name, "model")
        return dumps({**prediction(network, read_digit(body)), "model": name or PRETRAINED})

    return Response(await asyncio.to_thread(answer), media_type="application/json")


@router.get("/presets")
async def list_presets():  # in memory: no need for FastAPI's thread pool
    return presets.all_presets()


@router.get("/schema")
async def config_schema(settings: Settings = Depends(get_settings)):
    """Every config field's choices, default, range and limit (app/schema.py; also in ``hello``)."""
    return schema.build(settings)


@router.get("/models")
def list_models(models: ModelStore = Depends(get_models)):
    return models.list()


@router.get("/models/{name}/weights")
def model_weights(name: str, pretrained: PretrainedModel = Depends(get_pretrained),
                  models: ModelStore = Depends(get_models), gate: TrainingGate = Depends(get_gate)):
    """A ``weights`` binary frame of a saved model, or of the pretrained one for name "pretrained"."""
    network = pretrained.get() if name == PRETRAINED else saved_model(models, gate, name)
    return Response(weights_frame(name, network), media_type="application/octet-stream")


@router.get("/mnist")
def mnist_status(mnist: MnistData = Depends(get_mnist)):
    return mnist.status()
