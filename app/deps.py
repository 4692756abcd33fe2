"""FastAPI dependencies: the objects the lifespan put on ``app.state``, for HTTP and WebSocket routes.

They are ``async def`` because they only read an attribute: FastAPI runs a plain ``def`` dependency in
its thread pool, and three such hops added about a millisecond to every predict request.
"""
from __future__ import annotations

from fastapi.templating import Jinja2Templates
from starlette.requests import HTTPConnection

from app.gate import TrainingGate
from app.mnist_data import MnistData
from app.models import ModelStore
from app.predict import PretrainedModels
from app.registry import SessionRegistry
from app.settings import Settings


async def get_settings(conn: HTTPConnection) -> Settings:
    return conn.app.state.settings


async def get_sessions(conn: HTTPConnection) -> SessionRegistry:
    return conn.app.state.sessions


async def get_mnist(conn: HTTPConnection) -> MnistData:
    return conn.app.state.mnist


async def get_models(conn: HTTPConnection) -> ModelStore:
    return conn.app.state.models


async def get_pretrained(conn: HTTPConnection) -> PretrainedModels:
    return conn.app.state.pretrained


async def get_templates(conn: HTTPConnection) -> Jinja2Templates:
    return conn.app.state.templates


async def get_gate(conn: HTTPConnection) -> TrainingGate:
    return conn.app.state.gate
