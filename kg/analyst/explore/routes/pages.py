"""The page and the liveness check: no graph data, so no token needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from kg import __version__
from kg.analyst.explore.state import ExplorerDep

__all__ = ["STATIC_DIR", "router"]

#: the page and its assets (cytoscape.js vendored, see ``static/VENDORED.md``)
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The explorer page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/health")
def health(explorer: ExplorerDep) -> dict[str, Any]:
    """Liveness: backend, version and whether a token is needed."""
    return {
        "status": "ok",
        "backend": explorer.settings.backend,
        "version": __version__,
        "token": explorer.token is not None,
    }
