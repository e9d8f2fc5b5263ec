"""``GET /api/neighbourhood``: a node's neighbours as ``{center, nodes, edges}``, for the page to expand."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from kg.analyst.explore import graph
from kg.analyst.explore.jsonable import jsonable
from kg.analyst.explore.state import ExplorerDep

__all__ = ["router"]

router = APIRouter()


@router.get("/api/neighbourhood")
def neighbourhood(
    explorer: ExplorerDep, node: str = Query(..., max_length=2000), limit: int = Query(25, ge=1, le=500)
) -> dict[str, Any]:
    """The neighbours of ``node`` (``Label:key``), at most ``limit`` per relationship type."""
    label, key = graph.split_node_id(node)
    return jsonable(graph.neighbourhood(explorer.store(), label, key, per_type=limit))
