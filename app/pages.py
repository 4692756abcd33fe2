"""The HTML pages: Jinja2 templates extending base.html, each told which page it is and given the
config schema (app/schema.py) to build its controls from. Unknown pages get not_found.html."""
from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from app import presets, schema
from app.deps import get_settings, get_templates
from app.settings import Settings

router = APIRouter()
PAGES = ("playground", "digits", "math")


def plain_number(value) -> str:
    """0.00001 as "0.00001" (not "1e-05"), 100.0 as "100": what a link or a form field holds."""
    if isinstance(value, int):
        return str(value)
    return f"{value:.10f}".rstrip("0").rstrip(".")


def shown_number(value) -> str:
    """A number as a person reads it: 60000 as "60,000", 0.00001 as "0.00001"."""
    return f"{value:,}" if isinstance(value, int) else plain_number(value)


def make_templates(directory: Path) -> Jinja2Templates:
    """The page templates. Their ``url_for`` gives paths ("/static/...") rather than Starlette's
    absolute URLs, which would repeat whatever Host header the request carried."""
    templates = Jinja2Templates(directory=directory)
    templates.env.filters.update(plain=plain_number, shown=shown_number)

    @jinja2.pass_context
    def url_for(context: dict, name: str, /, **path_params) -> str:
        return context["request"].app.url_path_for(name, **path_params)

    templates.env.globals["url_for"] = url_for
    return templates


def _context(name: str, settings: Settings) -> dict:
    return {"page": name, "schema": schema.build(settings), "presets": presets.all_presets()}


@router.get("/", response_class=HTMLResponse)
def index(request: Request, templates: Jinja2Templates = Depends(get_templates)):
    return templates.TemplateResponse(request, "index.html", {"page": "index"})


def _page(name: str):
    def render(request: Request, templates: Jinja2Templates = Depends(get_templates),
               settings: Settings = Depends(get_settings)):
        return templates.TemplateResponse(request, f"{name}.html", _context(name, settings))
    render.__name__ = name
    return render


for _name in PAGES:
    router.add_api_route(f"/{_name}", _page(_name), methods=["GET"], response_class=HTMLResponse, name=_name)


NOT_PAGES = ("/api/", "/static/", "/ws/")   # their 404s stay plain: JSON, or Starlette's text


async def not_found(request: Request, e: HTTPException):
    """HTTP errors as FastAPI sends them, except a 404 for a page: a page in the site's style."""
    if e.status_code != 404 or request.url.path.startswith(NOT_PAGES):
        return await http_exception_handler(request, e)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "not_found.html", {"page": "not_found", "path": request.url.path},
                                      status_code=404)
