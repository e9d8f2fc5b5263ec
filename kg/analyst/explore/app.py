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

>>> app = create_app(Settings(home="/tmp/kg-doc"))      # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=7475)       # doctest: +SKIP
"""

from __future__ import annotations

import csv
import hmac
import io
import logging
import math
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import Body, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from kg import __version__
from kg.foundation.errors import ConfigError, KGError, QueryError, StoreError
from kg.analyst.explore import graph
from kg.foundation.settings import Settings
from kg.store import GraphStore

__all__ = ["create_app", "STATIC_DIR", "GUIDE_PATH", "LOOPBACK_HOSTS", "csv_text"]

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
GUIDE_PATH = "/guide/kg.md"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_ROWS = 2000  # rows sent to the page; the CSV holds them all
# styles may be inline: cytoscape.js sizes its canvas through style attributes; scripts stay 'self' only
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_SUBJECT_LABELS = {"user": "User", "product": "Product", "brand": "Brand", "category": "Category",
                   "segment": "Segment", "aspect": "Aspect"}


def _host_name(header: str) -> str:
    """The host of a Host header, without port or IPv6 brackets."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _jsonable(value: Any) -> Any:
    """Values as JSON can carry them (NaN and infinities as null, driver types as text)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def _cell(value: Any) -> str:
    import json

    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    from kg.analyst.library import spreadsheet_safe

    return spreadsheet_safe(value, str(value))  # a spreadsheet would run a text cell starting like a formula


def csv_text(columns: list[str], rows: list[Mapping[str, Any]]) -> str:
    """Rows as CSV (header first; lists and maps as JSON; text that looks like a formula prefixed with ``'``).

    >>> csv_text(["a", "b"], [{"a": 1, "b": "=x"}, {"a": None, "b": [1, 2]}]).splitlines()
    ['a,b', "1,'=x", ',"[1, 2]"']
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def _status_of(error: KGError) -> int:
    return 503 if isinstance(error, StoreError) and not isinstance(error, QueryError) else 400


def _query_info(query: Any) -> dict[str, Any]:
    params = [{"name": p.name, "type": p.type, "example": _jsonable(getattr(p, "example", None)),
               "required": bool(getattr(p, "required", True)), "default": _jsonable(getattr(p, "default", None)),
               "description": getattr(p, "description", ""), "raw_user_id": bool(getattr(p, "raw_user_id", False))}
              for p in query.params]
    return {"name": query.name, "description": query.description, "subject": getattr(query, "subject", None),
            "columns": list(getattr(query, "columns", []) or []), "params": params}


def _raw_params(body: Mapping[str, Any] | None) -> dict[str, str]:
    """``{"params": {name: value}}`` as the text values the library types itself (blank ones left out)."""
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
            import json

            value = json.dumps(value)
        out[str(name)] = str(value)
    return out


def create_app(settings: Settings, *, token: str | None = None, store: GraphStore | None = None,
               library: ModuleType | Any = None) -> FastAPI:
    """The explorer app for the configured graph.

    ``token``: when set, every ``/api`` call must carry it (``Authorization: Bearer TOKEN`` or
    ``X-KG-Token``); when None, only loopback Host headers are served. ``store``: an open store to use
    (left open); by default one is opened on first use and closed at shutdown. ``library``: the query
    library (default :mod:`kg.analyst.library`).
    """
    state: dict[str, Any] = {"store": store, "owned": False}
    guard = threading.Lock()

    def the_library() -> Any:
        if library is not None:
            return library
        from kg.analyst import library as analyst

        return analyst

    def the_store() -> GraphStore:
        with guard:
            if state["store"] is None:
                from kg.store import open_store

                state["store"], state["owned"] = open_store(settings), True
            return state["store"]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if state["owned"] and state["store"] is not None:
            state["store"].close()

    app = FastAPI(title="kg explorer", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)

    @app.middleware("http")
    async def guard_requests(request: Request, call_next: Any) -> Response:
        if token is None and _host_name(request.headers.get("host", "")) not in LOOPBACK_HOSTS:
            return PlainTextResponse("kg explore serves loopback hosts only without a token", status_code=403)
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    def check_token(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("x-kg-token") or ""
        auth = request.headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise _Unauthorised()

    @app.exception_handler(_Unauthorised)
    async def unauthorised(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse({"error": "this explorer needs its token",
                             "hint": "open the URL kg explore printed (it ends in #token=...)"}, status_code=401)

    @app.exception_handler(KGError)
    async def kg_error(_: Request, error: KGError) -> JSONResponse:
        return JSONResponse({"error": " ".join(str(error).split())}, status_code=_status_of(error))

    api = [Depends(check_token)]

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "backend": settings.backend, "version": __version__, "token": token is not None}

    @app.get(GUIDE_PATH)
    def guide(request: Request) -> PlainTextResponse:
        base = str(request.base_url).rstrip("/") + GUIDE_PATH.rsplit("/", 1)[0]
        text = the_library().browser_guide(base_url=base)
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8",
                                 headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"})

    @app.options(GUIDE_PATH.rsplit("/", 1)[0] + "/{file_name}", include_in_schema=False)
    def guide_preflight(request: Request) -> Response:
        """CORS preflight: Neo4j Browser fetches ``:guide URL`` with ``pragma``/``cache-control`` headers."""
        return Response(status_code=204, headers={
            "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET",
            "Access-Control-Allow-Headers": request.headers.get("access-control-request-headers", ""),
            "Access-Control-Max-Age": "600"})

    @app.get(GUIDE_PATH.rsplit("/", 1)[0] + "/{file_name}")
    def favourites(file_name: str) -> Response:
        """The library's .cypher files as one zip, for Neo4j Browser's Favorites drawer."""
        lib = the_library()
        if file_name != getattr(lib, "ZIP_NAME", "kg-queries.zip"):
            return PlainTextResponse("not found", status_code=404)
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            data = Path(lib.export_zip(Path(folder) / file_name)).read_bytes()
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="{file_name}"', "Access-Control-Allow-Origin": "*"})

    @app.get("/api/search", dependencies=api)
    def search(q: str = Query("", max_length=500), label: str | None = None,
               limit: int = Query(20, ge=1, le=200)) -> dict[str, Any]:
        from kg.foundation.forgotten import ForgottenUsers
        from kg.foundation.privacy import Pseudonymiser

        pseudonymiser = Pseudonymiser.from_settings(settings)
        nodes = graph.search(the_store(), q, label=label or None, limit=limit, pseudonymise=pseudonymiser.user_id,
                             forgotten=ForgottenUsers.from_settings(settings).__contains__)
        return _jsonable({"nodes": nodes})

    @app.get("/api/neighbourhood", dependencies=api)
    def neighbourhood(node: str = Query(..., max_length=2000), limit: int = Query(25, ge=1, le=500)) -> dict[str, Any]:
        label, key = graph.split_node_id(node)
        return _jsonable(graph.neighbourhood(the_store(), label, key, per_type=limit))

    @app.get("/api/queries", dependencies=api)
    def queries() -> dict[str, Any]:
        return {"queries": [_query_info(q) for q in the_library().list_queries()]}

    def run(name: str, raw: Mapping[str, str]) -> Any:
        return the_library().run_library_query(the_store(), name, raw, write=False, settings=settings)

    def subject_node(name: str, raw: Mapping[str, str]) -> str | None:
        """``Label:key`` of the node a query is about (its subject's first parameter), to draw rows around."""
        query = the_library().get_query(name)
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

                value = Pseudonymiser.from_settings(settings).user_id(value)
        if value is None or str(value).strip() in ("", "0" if label == "Segment" else ""):
            return None
        try:
            return graph.node_id(label, graph.typed_key(label, str(value).strip()))
        except ConfigError:
            return None

    @app.post("/api/queries/{name}", dependencies=api)
    def run_query(name: str, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        raw = _raw_params(body)
        result = run(name, raw)
        columns, rows = list(result.columns), list(result.rows)
        shown = rows[:MAX_ROWS]
        drawn = graph.graph_from_rows(columns, shown, head=subject_node(name, raw), head_type=name)
        return _jsonable({"name": name, "columns": columns, "rows": shown, "row_count": len(rows),
                          "truncated": len(rows) > len(shown), "seconds": getattr(result, "seconds", None),
                          "graph": drawn})

    @app.post("/api/queries/{name}/csv", dependencies=api)
    def run_query_csv(name: str, body: dict[str, Any] | None = Body(None)) -> Response:
        result = run(name, _raw_params(body))
        safe = "".join(c for c in name if c.isalnum() or c in "_-") or "query"
        return Response(csv_text(list(result.columns), list(result.rows)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'})

    return app


class _Unauthorised(Exception):
    """A call to the API without the right token."""
