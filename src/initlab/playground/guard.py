"""`SameOrigin`: the playground answers only its own page, under a name of this machine.

A server on 127.0.0.1 can still be reached by other web sites through the visitor's browser: a page of
another site posting to it or opening its WebSocket (the browser then sends that page's `Origin`),
or DNS rebinding (the site's own name made to point at 127.0.0.1: the `Host` header is then that
name). So a request that has an `Origin` must come from the address it is sent to (the page the
playground served), and, when `hosts` is given (the server listens on loopback), the `Host` must name
one of them. A refusal is a 403 with one line of JSON; a WebSocket is closed before it opens.

>>> _hostname("127.0.0.1:8765"), _hostname("[::1]:8765"), _hostname("localhost")
('127.0.0.1', '::1', 'localhost')
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _hostname(host: str) -> str:
    return urlsplit(f"//{host}").hostname or ""


class SameOrigin:
    """ASGI middleware refusing cross-site requests (and, with `hosts`, other host names)."""

    def __init__(self, app, hosts: tuple[str, ...] | None = None):
        self.app, self.hosts = app, hosts

    def problem(self, scope) -> tuple[str, str] | None:
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        host, origin = headers.get("host", ""), headers.get("origin")
        if self.hosts is not None and _hostname(host) not in self.hosts:
            return "host", f"expected a name of this machine ({', '.join(self.hosts)}), got {host!r}"
        if origin is not None and urlsplit(origin).netloc != host:
            return "origin", f"expected a page this playground served ({host}), got {origin!r}"
        return None

    async def __call__(self, scope, receive, send):
        problem = self.problem(scope) if scope["type"] in ("http", "websocket") else None
        if problem is None:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await receive()  # the connect event; closing before accepting refuses the handshake (403)
            await send({"type": "websocket.close", "code": 4403})
            return
        body = json.dumps({"error": f"{problem[0]}: {problem[1]}", "argument": problem[0]}).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
