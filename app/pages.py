"""The HTML pages: Jinja2 templates extending base.html, each told which page it is."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.deps import get_templates

router = APIRouter()
PAGES = ("playground", "digits", "math")


@router.get("/", response_class=HTMLResponse)
def index(request: Request, templates: Jinja2Templates = Depends(get_templates)):
    return templates.TemplateResponse(request, "index.html", {"page": "index"})


def _page(name: str):
    def render(request: Request, templates: Jinja2Templates = Depends(get_templates)):
        return templates.TemplateResponse(request, f"{name}.html", {"page": name})
    render.__name__ = name
    return render


for _name in PAGES:
    router.add_api_route(f"/{_name}", _page(_name), methods=["GET"], response_class=HTMLResponse, name=_name)
