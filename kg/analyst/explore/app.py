"""The explorer's web app: a FastAPI factory serving the page, a read-only JSON API and the Browser guide.

Routes (``/api/*`` need the token when one is set; the rest never do, and hold no graph data):

- ``GET /`` the page, ``GET /static/*`` its assets (cytoscape.js vendored, see ``static/VENDORED.md``)
- ``GET /health`` liveness; ``GET /guide/kg.md`` the Neo4j Browser guide (CORS open, for ``:guide URL``)
  and ``GET /guide/kg-queries.zip`` the queries as Browser favourites
- ``GET /api/search?q=&label=&limit=`` nodes by key or name
- ``GET /api/neighbourhood?node=Label:key&limit=`` a node's neighbours as ``{nodes, edges}``
- ``GET /api/queries`` the query library; ``POST /api/queries/{name}`` run one with ``{"params": {...}}``
  -> ``{columns, rows, seconds, graph}``; ``POST /api/queries/{name}/csv`` the same rows as a CSV file

Without a token only loopback Host headers are served (a page elsewhere cannot reach the API
through DNS rebinding). Nothing here writes: every query runs in the server's read-only mode.

This module only assembles: the routes live in :mod:`kg.analyst.explore.routes` (one router per concern),
the guards in :mod:`.security`, error replies in :mod:`.errors`, and the shared state (settings, token,
store, library) in ``app.state.explorer`` (:class:`kg.analyst.explore.state.Explorer`).

>>> app = create_app(Settings(home="/tmp/kg-doc"))      # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=7475)       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from kg import __version__
from kg.analyst.explore import errors, security
from kg.analyst.explore.jsonable import csv_text
from kg.analyst.explore.routes import guide, nodes, pages, queries, search
from kg.analyst.explore.routes.guide import GUIDE_PATH
from kg.analyst.explore.routes.pages import STATIC_DIR
from kg.analyst.explore.routes.queries import MAX_ROWS
from kg.analyst.explore.security import LOOPBACK_HOSTS
from kg.analyst.explore.state import Explorer
from kg.foundation.errors import KGError
from kg.foundation.settings import Settings
from kg.store import GraphStore

__all__ = ["create_app", "STATIC_DIR", "GUIDE_PATH", "LOOPBACK_HOSTS", "MAX_ROWS", "csv_text"]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Close the store the explorer opened, at shutdown."""
    yield
    app.state.explorer.close()


def create_app(
    settings: Settings, *, token: str | None = None, store: GraphStore | None = None, library: ModuleType | Any = None
) -> FastAPI:
    """The explorer app for the configured graph.

    ``token``: when set, every ``/api`` call must carry it (``Authorization: Bearer TOKEN`` or
    ``X-KG-Token``); when None, only loopback Host headers are served. ``store``: an open store to use
    (left open); by default one is opened on first use and closed at shutdown. ``library``: the query
    library (default :mod:`kg.analyst.library`).
    """
    app = FastAPI(
        title="kg explorer", version=__version__, docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan
    )
    app.state.explorer = Explorer(settings, token=token, given_store=store, given_library=library)
    app.middleware("http")(security.guard_requests)
    app.add_exception_handler(security.Unauthorised, security.unauthorised)
    app.add_exception_handler(KGError, errors.kg_error)  # type: ignore[arg-type]
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(guide.router)
    api = [Depends(security.require_token)]  # everything under /api holds graph data
    for routes in (search, nodes, queries):
        app.include_router(routes.router, dependencies=api)
    return app
