"""The Host check, security headers on every HTTP response, and a cap on the size of request bodies.

    app.add_middleware(SecurityMiddleware, max_body_bytes=settings.max_message_bytes,
                       host_allowed=settings.host_allowed)

Host: every request and WebSocket handshake must name an allowed host (Settings.host_allowed)
in its Host header, before any route runs; others get a 400, or a refused handshake (HTTP 403).
Without it, a page on evil.example whose DNS name was re-pointed at 127.0.0.1 (DNS rebinding)
is same-origin with this server in the browser's eyes and could use every route.

Headers: a Content-Security-Policy that allows scripts, styles and connections only from this
origin (no inline scripts; images may also be data: and blob: URLs; WebSockets to this host),
no framing, no MIME sniffing, no referrer, and a separate browsing-context group for our pages.

Bodies: a request whose Content-Length is over ``max_body_bytes`` gets a 413 at once; a body
without one (chunked) is counted as the app reads it, and the read that goes over the limit
raises HTTPException(413), which FastAPI turns into the usual error body. The WebSocket has its
own limit on messages (app/ws.py).
"""
from __future__ import annotations

import re
from typing import Callable

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
HOST = re.compile(r"^([A-Za-z0-9.\-]+)(:[0-9]{1,5})?$|^\[([0-9A-Fa-f:.]+)\](:[0-9]{1,5})?$")


def hostname(host: str | None) -> str | None:
    """The name in a Host header, lower case, without port, brackets or a final dot; None if malformed."""
    match = HOST.match(host or "")
    if match is None:
        return None
    return (match.group(1) or match.group(3)).lower().removesuffix(".")


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


def bad_host(host: str | None) -> dict:
    shown = "no Host header" if host is None else f"Host {host[:80]!r}"
    return {"code": "bad_host", "field": "host",
            "message": f"{shown} is not allowed: this server answers to localhost, its loopback addresses, the "
                       "address it listens on and the names in NNPLAY_ALLOWED_HOSTS (set it to the name you "
                       "use in the browser, or * behind a proxy that checks names itself)"}


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, host_allowed: Callable[[str], bool]):
        self.app, self.max_body_bytes, self.host_allowed = app, max_body_bytes, host_allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        host = request_headers.get("host")
        name = hostname(host)
        if name is None or not self.host_allowed(name):
            if scope["type"] == "websocket":  # closing before accept refuses the handshake (HTTP 403)
                await send({"type": "websocket.close", "code": 1008, "reason": "host not allowed"})
            else:
                response = JSONResponse({"detail": bad_host(host)}, status_code=400, headers=HEADERS)
                await response(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        csp = content_security_policy(host)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
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
