"""Security headers on every HTTP response, and a cap on the size of request bodies.

    app.add_middleware(SecurityMiddleware, max_body_bytes=settings.max_message_bytes,
                       csp_exempt=(app.docs_url,))

Headers: a Content-Security-Policy that allows scripts, styles and connections only from this
origin (no inline scripts; images may also be data: and blob: URLs; WebSockets to this host),
no framing, no MIME sniffing, no referrer, and a separate browsing-context group for our pages.
Paths in ``csp_exempt`` (FastAPI's /api/docs page, which loads Swagger UI from a CDN with an
inline script) get every header but the CSP.

Bodies: a request whose Content-Length is over ``max_body_bytes`` gets a 413 at once; a body
without one (chunked) is counted as the app reads it, and the read that goes over the limit
raises HTTPException(413), which FastAPI turns into the usual error body. The WebSocket has its
own limit on messages (app/ws.py).
"""
from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
          "font-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
          "frame-ancestors 'none'")
HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def content_security_policy(host: str | None) -> str:
    """The policy for a page served under ``host`` (the request's Host header)."""
    connect = "connect-src 'self'"
    if host and HOST.match(host):  # older browsers do not count ws: of our own host as 'self'
        connect += f" ws://{host} wss://{host}"
    return "; ".join((*POLICY, connect))


def too_large(limit: int, size: str | None = None) -> dict:
    told = f"is {size} bytes" if size is not None else f"is longer than {limit} bytes"
    return {"code": "limit", "field": None,
            "message": f"the request body {told}: this server accepts at most max_message_bytes={limit} bytes"}


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, csp_exempt: tuple[str | None, ...] = ()):
        self.app, self.max_body_bytes = app, max_body_bytes
        self.csp_exempt = frozenset(path for path in csp_exempt if path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        csp = None if scope["path"] in self.csp_exempt else content_security_policy(request_headers.get("host"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if csp is not None:
                    headers.setdefault("content-security-policy", csp)
            await send(message)

        declared = request_headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            response = JSONResponse({"detail": too_large(self.max_body_bytes, declared)}, status_code=413)
            await response(scope, receive, send_with_headers)
            return

        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, detail=too_large(self.max_body_bytes))
            return message

        await self.app(scope, receive_limited, send_with_headers)
