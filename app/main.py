"""``create_app(settings)``: the FastAPI application. Nothing is created at import time.

    uvicorn --factory app.main:create_app        (settings from the environment)
    create_app(Settings.from_env(...))           (tests, the CLI)

The lifespan puts the shared objects on ``app.state``: the settings, the session registry, the
training gate (app/gate.py), the MNIST arrays holder (loads on first use), the model store, the
pretrained digit model (loaded on first use) and the templates. It also limits glibc's
malloc arenas (app/memory.py), so memory freed by finished sessions is reused. On shutdown it stops every session's worker.
"""
from __future__ import annotations

from contextlib import asynccontextmanager


from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import __version__, api, pages, ws
from app.gate import TrainingGate
from app.memory import limit_malloc_arenas
from app.mnist_data import MnistData
from app.models import ModelStore
from app.predict import PretrainedModel
from app.protocol import CommandError
from app.registry import SessionRegistry
from app.security import SecurityMiddleware
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings if settings is not None else Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        limit_malloc_arenas()  # before any session's worker thread starts: see app/memory.py
        app.state.settings = settings
        app.state.sessions = SessionRegistry(settings.max_sessions, settings.max_sessions_per_client,
                                             settings.resume_grace_s)
        app.state.gate = TrainingGate(settings.training_slots)
        app.state.mnist = MnistData(settings.data_dir, settings.mnist_mirrors)
        app.state.models = ModelStore.from_settings(settings)
        app.state.models.sweep()
        app.state.pretrained = PretrainedModel(settings.pretrained)
        app.state.templates = pages.make_templates(settings.templates_dir)
        yield
        app.state.sessions.close_all()

    # No /api/docs: Swagger UI would come from a CDN with an inline script. The OpenAPI document stays.
    app = FastAPI(title="nnplay", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.add_middleware(SecurityMiddleware, max_body_bytes=settings.max_message_bytes,
                       host_allowed=settings.host_allowed)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(ws.router)

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    app.add_exception_handler(StarletteHTTPException, pages.not_found)  # HTML 404 pages outside /api/

    @app.exception_handler(CommandError)
    async def command_error(request: Request, e: CommandError):
        return JSONResponse({"detail": e.body()}, status_code=api.status_of(e))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, e: RequestValidationError):
        first = e.errors()[0] if e.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return JSONResponse({"detail": {"code": "bad_value", "message": first.get("msg", "invalid request"),
                                        "field": field}}, status_code=422)

    return app

