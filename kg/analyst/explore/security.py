"""The explorer's guards: loopback Host headers only without a token, the token on ``/api``, strict headers.

Without a token a page elsewhere cannot reach the API through DNS rebinding: only loopback Host headers
are served. Every response carries a Content-Security-Policy that allows only the app's own scripts.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from kg.analyst.explore.state import ExplorerDep

__all__ = ["LOOPBACK_HOSTS", "Unauthorised", "guard_requests", "host_name", "require_token", "unauthorised"]

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# styles may be inline: cytoscape.js sizes its canvas through style attributes; scripts stay 'self' only
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class Unauthorised(Exception):
    """A call to the API without the right token."""


def host_name(header: str) -> str:
    """The host of a Host header, without port or IPv6 brackets.

    >>> host_name("[::1]:7475"), host_name("LocalHost:80"), host_name("127.0.0.1")
    ('::1', 'localhost', '127.0.0.1')
    """
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


async def guard_requests(request: Request, call_next: Any) -> Response:
    """HTTP middleware: refuse other hosts when there is no token; add the security headers."""
    token = request.app.state.explorer.token
    if token is None and host_name(request.headers.get("host", "")) not in LOOPBACK_HOSTS:
        return PlainTextResponse("kg explore serves loopback hosts only without a token", status_code=403)
    response: Response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def require_token(request: Request, explorer: ExplorerDep) -> None:
    """Dependency of the ``/api`` routes: the token as ``Authorization: Bearer`` or ``X-KG-Token``, when set."""
    if explorer.token is None:
        return
    given = request.headers.get("x-kg-token") or ""
    auth = request.headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    if not hmac.compare_digest(given.encode(), explorer.token.encode()):
        raise Unauthorised()


async def unauthorised(_: Request, __: Exception) -> JSONResponse:
    """Exception handler for :class:`Unauthorised`: 401 and how to get in."""
    return JSONResponse(
        {"error": "this explorer needs its token", "hint": "open the URL kg explore printed (it ends in #token=...)"},
        status_code=401,
    )
