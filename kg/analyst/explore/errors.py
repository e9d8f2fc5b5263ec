"""kg's errors as one-line JSON: 503 when the graph database is unreachable, 400 for anything the caller sent."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from kg.foundation.errors import KGError, QueryError, StoreError

__all__ = ["kg_error", "status_of"]


def status_of(error: KGError) -> int:
    """The HTTP status for a kg error.

    >>> status_of(StoreError("down")), status_of(QueryError("bad")), status_of(KGError("x"))
    (503, 400, 400)
    """
    return 503 if isinstance(error, StoreError) and not isinstance(error, QueryError) else 400


async def kg_error(_: Request, error: KGError) -> JSONResponse:
    """Exception handler for :class:`KGError`: ``{"error": "..."}`` on one line."""
    return JSONResponse({"error": " ".join(str(error).split())}, status_code=status_of(error))
