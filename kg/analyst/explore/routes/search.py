"""``GET /api/search``: nodes by key or name; raw user ids pseudonymised, forgotten people never shown."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from kg.analyst.explore import graph
from kg.analyst.explore.jsonable import jsonable
from kg.analyst.explore.state import ExplorerDep

__all__ = ["router"]

router = APIRouter()


@router.get("/api/search")
def search(
    explorer: ExplorerDep,
    q: str = Query("", max_length=500),
    label: str | None = None,
    limit: int = Query(20, ge=1, le=200),
) -> dict[str, Any]:
    """Up to ``limit`` nodes whose key or name matches ``q`` (optionally of one ``label``)."""
    from kg.foundation.forgotten import ForgottenUsers
    from kg.foundation.privacy import Pseudonymiser

    settings = explorer.settings
    pseudonymiser = Pseudonymiser.from_settings(settings)
    nodes = graph.search(
        explorer.store(),
        q,
        label=label or None,
        limit=limit,
        pseudonymise=pseudonymiser.user_id,
        forgotten=ForgottenUsers.from_settings(settings).__contains__,
    )
    return jsonable({"nodes": nodes})
