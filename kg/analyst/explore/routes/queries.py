"""``/api/queries``: the query library listed, run read-only (rows and a graph to draw) or downloaded as CSV."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import Response

from kg.analyst.explore import graph
from kg.analyst.explore.jsonable import csv_text, jsonable
from kg.analyst.explore.state import Explorer, ExplorerDep
from kg.foundation.errors import ConfigError

__all__ = ["MAX_ROWS", "router"]

MAX_ROWS = 2000  # rows sent to the page; the CSV holds them all
_SUBJECT_LABELS = {
    "user": "User",
    "product": "Product",
    "brand": "Brand",
    "category": "Category",
    "segment": "Segment",
    "aspect": "Aspect",
}
#: the request body, ``{"params": {name: value}}`` (optional)
ParamsBody = Annotated[dict[str, Any] | None, Body()]

router = APIRouter()


def query_info(query: Any) -> dict[str, Any]:
    """A library query as the page lists it: name, description, subject, columns and parameters."""
    params = [
        {
            "name": p.name,
            "type": p.type,
            "example": jsonable(getattr(p, "example", None)),
            "required": bool(getattr(p, "required", True)),
            "default": jsonable(getattr(p, "default", None)),
            "description": getattr(p, "description", ""),
            "raw_user_id": bool(getattr(p, "raw_user_id", False)),
        }
        for p in query.params
    ]
    return {
        "name": query.name,
        "description": query.description,
        "subject": getattr(query, "subject", None),
        "columns": list(getattr(query, "columns", []) or []),
        "params": params,
    }


def raw_params(body: Mapping[str, Any] | None) -> dict[str, str]:
    """``{"params": {name: value}}`` as the text values the library types itself (blank ones left out).

    >>> raw_params({"params": {"k": 5, "flag": True, "ids": [1], "blank": " ", "none": None}})
    {'k': '5', 'flag': 'true', 'ids': '[1]'}
    """
    params = (body or {}).get("params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError("params must be an object of name: value")
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, (list, dict)):
            value = json.dumps(value)
        out[str(name)] = str(value)
    return out


def subject_node(explorer: Explorer, name: str, raw: Mapping[str, str]) -> str | None:
    """``Label:key`` of the node a query is about (its subject's first parameter), to draw rows around."""
    query = explorer.library().get_query(name)
    label = _SUBJECT_LABELS.get(getattr(query, "subject", ""))
    if label is None or not query.params:
        return None
    first = query.params[0]
    value = raw.get(first.name)
    if getattr(first, "raw_user_id", False):
        if raw.get("pseudonym"):
            value = raw["pseudonym"].strip().lower()
        elif value:
            from kg.foundation.privacy import Pseudonymiser

            value = Pseudonymiser.from_settings(explorer.settings).user_id(value)
    if value is None or str(value).strip() in ("", "0" if label == "Segment" else ""):
        return None
    try:
        return graph.node_id(label, graph.typed_key(label, str(value).strip()))
    except ConfigError:
        return None


def _run(explorer: Explorer, name: str, raw: Mapping[str, str]) -> Any:
    """One library query, always in the server's read-only mode."""
    return explorer.library().run_library_query(explorer.store(), name, raw, write=False, settings=explorer.settings)


@router.get("/api/queries")
def queries(explorer: ExplorerDep) -> dict[str, Any]:
    """The query library."""
    return {"queries": [query_info(q) for q in explorer.library().list_queries()]}


@router.post("/api/queries/{name}")
def run_query(name: str, explorer: ExplorerDep, body: ParamsBody = None) -> dict[str, Any]:
    """Run a query: ``{columns, rows, row_count, truncated, seconds, graph}`` (at most :data:`MAX_ROWS` rows)."""
    raw = raw_params(body)
    result = _run(explorer, name, raw)
    columns, rows = list(result.columns), list(result.rows)
    shown = rows[:MAX_ROWS]
    drawn = graph.graph_from_rows(columns, shown, head=subject_node(explorer, name, raw), head_type=name)
    return jsonable(
        {
            "name": name,
            "columns": columns,
            "rows": shown,
            "row_count": len(rows),
            "truncated": len(rows) > len(shown),
            "seconds": getattr(result, "seconds", None),
            "graph": drawn,
        }
    )


@router.post("/api/queries/{name}/csv")
def run_query_csv(name: str, explorer: ExplorerDep, body: ParamsBody = None) -> Response:
    """Run a query and return every row as a CSV file."""
    result = _run(explorer, name, raw_params(body))
    safe = "".join(c for c in name if c.isalnum() or c in "_-") or "query"
    return Response(
        csv_text(list(result.columns), list(result.rows)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'},
    )
