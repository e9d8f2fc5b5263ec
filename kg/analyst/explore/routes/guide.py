"""The Neo4j Browser guide (``:guide URL``) and the library as Browser favourites; CORS open, no graph data."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from kg.analyst.explore.state import ExplorerDep

__all__ = ["GUIDE_PATH", "router"]

GUIDE_PATH = "/guide/kg.md"
_FOLDER = GUIDE_PATH.rsplit("/", 1)[0]

router = APIRouter()


@router.get(GUIDE_PATH)
def guide(request: Request, explorer: ExplorerDep) -> PlainTextResponse:
    """The query library as a Browser guide, its links pointing back at this server."""
    base = str(request.base_url).rstrip("/") + _FOLDER
    text = explorer.library().browser_guide(base_url=base)
    return PlainTextResponse(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"},
    )


@router.options(_FOLDER + "/{file_name}", include_in_schema=False)
def guide_preflight(request: Request) -> Response:
    """CORS preflight: Neo4j Browser fetches ``:guide URL`` with ``pragma``/``cache-control`` headers."""
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "GET",
            "Access-Control-Allow-Headers": request.headers.get("access-control-request-headers", ""),
            "Access-Control-Max-Age": "600",
        },
    )


@router.get(_FOLDER + "/{file_name}")
def favourites(file_name: str, explorer: ExplorerDep) -> Response:
    """The library's .cypher files as one zip, for Neo4j Browser's Favorites drawer."""
    lib = explorer.library()
    if file_name != getattr(lib, "ZIP_NAME", "kg-queries.zip"):
        return PlainTextResponse("not found", status_code=404)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(lib.export_zip(Path(folder) / file_name)).read_bytes()
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"', "Access-Control-Allow-Origin": "*"},
    )
