"""uvicorn's HTTP protocol (httptools), with a deadline for request headers.

uvicorn closes a kept-alive connection that stays silent for ``timeout_keep_alive`` seconds, but
it waits for ever on a new connection that sends nothing, or sends its headers a byte at a time:
a few hundred such sockets (slowloris) hold a server's file descriptors. Here every request,
the first on a connection included, must have sent all its headers within ``timeout_keep_alive``
seconds (Settings.header_timeout_s sets both) of its connection opening or of the previous
response; otherwise the connection is closed.

    uvicorn.run(app, http=HeaderDeadlineProtocol, timeout_keep_alive=settings.header_timeout_s)
"""
from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeaderDeadlineProtocol(HttpToolsProtocol):
    _deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.timeout_keep_alive, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:  # the next request on this connection gets its own deadline
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)
