"""Security: what the pages carry. A strict Content-Security-Policy and the usual security headers on
every response, no repeated Host header in pages or redirects, and no inline scripts, handlers or
styles in the templates or the rendered pages (the finder is tested first)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.settings import REPO_ROOT

PAGES = ("/", "/playground", "/digits", "/math")


def test_pages_and_redirects_do_not_repeat_the_host_header(make_client):
    client = make_client(allowed_hosts=("*",))
    for path in PAGES:
        page = client.get(path, headers={"host": "proxy.example:8443"}).text
        assert "proxy.example" not in page, path
        assert re.search(r'src="/static/js/\w+\.js"', page) or path == "/", path

# -- headers and the Content-Security-Policy ------------------------------------------------------
def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {d[0]: d[1:] for d in parts}


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_a_strict_content_security_policy(make_client, path):
    response = make_client().get(path)
    assert response.status_code == 200
    csp = directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert not any("unsafe" in source or source == "*" for sources in csp.values() for source in sources)


@pytest.mark.parametrize("path", [*PAGES, "/healthz", "/api/presets", "/static/js/socket.js", "/nowhere"])
def test_every_response_carries_the_usual_security_headers(make_client, path):
    headers = make_client().get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"


def test_a_forged_host_header_is_refused_before_it_reaches_the_policy(make_client):
    response = make_client().get("/", headers={"host": "evil.example; script-src *"})
    assert response.status_code == 400 and response.json()["detail"]["code"] == "bad_host"
    assert "script-src *" not in response.headers.get("content-security-policy", "")


class InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline script bodies, on* handlers, javascript: URLs,
    style elements and attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._in_script = tag == "script"
        if tag == "script" and not attrs.get("src"):
            self.found.append(f"<script> without src at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        for name, value in attrs.items():
            if name.startswith("on") or name == "style" or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline script body at line {self.getpos()[0]}: {data.strip()[:60]}")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_inline_code_finder_finds_inline_code():
    assert len(inline_code('<script>alert(1)</script><a onclick="x()" href="javascript:y()">'
                           '<p style="color:red"><style>p{}</style>')) == 6
    assert inline_code('<script type="module" src="/static/js/x.js"></script><a href="/x">') == []


@pytest.mark.parametrize("template", sorted((REPO_ROOT / "templates").glob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_scripts_handlers_or_styles(template):
    assert inline_code(template.read_text()) == []


@pytest.mark.parametrize("path", PAGES)
def test_rendered_pages_have_no_inline_scripts_handlers_or_styles(make_client, path):
    assert inline_code(make_client().get(path).text) == []
