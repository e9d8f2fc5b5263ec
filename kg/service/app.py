"""``kg serve``'s web app: events in, profiles and recommendations out, health and metrics.

Routes (JSON unless said):

- ``POST /events`` a JSON array of events, one JSON object, or JSON lines (the generic event schema:
  ``user_id``, ``item_id``, ``event_type``, ``timestamp``[, ``rating``]); answers once the events are in the
  ledger and the graph (``?wait=updated``: once the users' recommendations are updated too; ``?wait=none``:
  at once, 202) with ``{accepted, rejected: [{line, reason}], batch}``. Always needs the token.
- ``GET /users/{raw_id}/recommendations?k=`` and ``GET /users/{raw_id}/profile?k=`` (404 for an unknown user)
- ``GET /products/{product_id}/similar?k=`` nearest products by embedding
- ``GET /health`` liveness and lag; ``GET /metrics`` Prometheus text

Reads need the token too unless the service listens on loopback only (then only loopback Host headers are
served, so a page elsewhere cannot reach it through DNS rebinding). Request bodies are capped
(``max_body_bytes``, 413 beyond). Nothing logs a raw id: the access log is off and requests are logged and
measured by route template.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from kg import __version__
from kg.analyst.explore.security import LOOPBACK_HOSTS, host_name
from kg.foundation.errors import ConfigError, KGError
from kg.foundation.settings import Settings
from kg.service.intake import Intake, IntakeClosed, Ticket, event_lines
from kg.service.metrics import CONTENT_TYPE, ServiceMetrics
from kg.store import GraphStore

__all__ = ["Service", "create_app", "MAX_BODY_BYTES"]

logger = logging.getLogger(__name__)

#: the default cap on a request body (``kg serve --max-body``)
MAX_BODY_BYTES = 8 * 1024 * 1024
_WAITS = ("ingested", "updated", "none")


@dataclass
class Service:
    """What every request shares: settings, the token, the intake, a store for reads, the metrics."""

    settings: Settings
    token: str
    intake: Intake
    metrics: ServiceMetrics
    store_factory: Callable[[], GraphStore]
    open_reads: bool = True  # loopback only: reads without the token
    max_body_bytes: int = MAX_BODY_BYTES
    wait_timeout_s: float = 60.0
    sources: list[Any] = field(default_factory=list)  # e.g. a Kafka source: start() and stop() with the app
    started: float = field(default_factory=time.time)
    _store: GraphStore | None = field(default=None, init=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def store(self) -> GraphStore:
        """The store reads share (opened on first use)."""
        with self._guard:
            if self._store is None:
                self._store = self.store_factory()
            return self._store

    def close(self) -> None:
        with self._guard:
            if self._store is not None:
                self._store.close()
                self._store = None


class _Refused(Exception):
    def __init__(self, status: int, error: str, hint: str) -> None:
        super().__init__(error)
        self.status, self.error, self.hint = status, error, hint


async def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(_service)]


def _given_token(request: Request) -> str:
    auth = request.headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-kg-token") or ""


def _check_token(request: Request, service: Service) -> None:
    if not hmac.compare_digest(_given_token(request).encode(), service.token.encode()):
        raise _Refused(401, "this call needs the service's token", "send it as 'Authorization: Bearer TOKEN'")


async def require_writer(request: Request, service: ServiceDep) -> None:
    """Writes always need the token."""
    _check_token(request, service)


async def require_reader(request: Request, service: ServiceDep) -> None:
    """Reads need the token unless the service listens on loopback only."""
    if not service.open_reads:
        _check_token(request, service)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _Refused(413, f"request body over {limit:,} bytes", "send fewer events per request")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Refused(413, f"request body over {limit:,} bytes", "send fewer events per request")
        chunks.append(chunk)
    return b"".join(chunks)


async def _reached(ticket: Ticket, stage: str, timeout: float) -> bool:
    """Wait, without holding a thread, until ``ticket`` reaches ``stage``; False after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    reached: asyncio.Future[None] = loop.create_future()

    def resolve() -> None:
        if not reached.done():
            reached.set_result(None)

    def wake() -> None:
        loop.call_soon_threadsafe(resolve)

    ticket.when(stage, wake)
    try:
        await asyncio.wait_for(reached, timeout)
    except TimeoutError:
        return False
    return True


def _ticket_reply(ticket: Ticket, updated: bool) -> dict[str, Any]:
    outcome = ticket.outcome
    return {
        "accepted": ticket.accepted,
        "rejected": [{"line": r.line, "reason": r.reason} for r in ticket.rejected],
        "batch": outcome.batch if outcome else None,
        "updated": updated,
    }


def _register_routes(app: FastAPI) -> None:
    writer = [Depends(require_writer)]
    reader = [Depends(require_reader)]

    @app.post("/events", dependencies=writer)
    async def post_events(request: Request, service: ServiceDep, wait: str = "ingested") -> Response:
        if wait not in _WAITS:
            raise _Refused(422, f"wait must be one of {', '.join(_WAITS)}", "e.g. ?wait=updated")
        lines = event_lines(await _body(request, service.max_body_bytes))
        if not lines:
            raise _Refused(400, "no events in the request body", "send a JSON array of events or JSON lines")
        try:
            ticket = service.intake.submit(lines, source="http")
        except IntakeClosed as e:
            raise _Refused(503, str(e), e.hint or "retry later") from e
        if wait == "none":
            return JSONResponse({"queued": len(lines)}, status_code=202)
        if not await _reached(ticket, wait, service.wait_timeout_s):
            return JSONResponse({"queued": len(lines), "note": "still being written"}, status_code=202)
        if ticket.error is not None:
            failure = ticket.error
            what = str(failure) if isinstance(failure, KGError) else type(failure).__name__
            raise _Refused(503, f"the batch failed: {what}", "retry the request: events are stored once")
        return JSONResponse(_ticket_reply(ticket, wait == "updated"))

    @app.get("/users/{raw_id}/recommendations", dependencies=reader)
    def recommendations(raw_id: str, service: ServiceDep, k: Annotated[int, Query(ge=1, le=1000)] = 10) -> Any:
        from kg.profiles import user_recommendations

        report = user_recommendations(service.store(), service.settings, raw_id, k=k)
        if not report.found:
            raise _Refused(404, "no such user in the graph", "check the id, or post the user's events first")
        return {"user": report.id, "recommendations": report.recommendations}

    @app.get("/users/{raw_id}/profile", dependencies=reader)
    def profile(raw_id: str, service: ServiceDep, k: Annotated[int, Query(ge=1, le=1000)] = 10) -> Any:
        from kg.profiles import user_profile

        report = user_profile(service.store(), service.settings, raw_id, k=k)
        if not report.found:
            raise _Refused(404, "no such user in the graph", "check the id, or post the user's events first")
        return report.as_dict()

    @app.get("/products/{product_id}/similar", dependencies=reader)
    def similar(product_id: str, service: ServiceDep, k: Annotated[int, Query(ge=1, le=1000)] = 10) -> Any:
        from kg.embeddings import similar_items

        try:
            return {"product": product_id, "similar": similar_items(service.store(), product_id, k=k)}
        except ConfigError as e:
            raise _Refused(404, str(e), e.hint or "run kg embed train first") from e

    @app.get("/health")
    def health(service: ServiceDep) -> Any:
        from kg.profiles.state import latest_run_dir

        run_dir = latest_run_dir(service.settings)
        alive = service.intake.alive
        sources_ok = all(getattr(source, "running", True) for source in service.sources)
        status = "ok" if alive and sources_ok else "failing: the " + ("intake" if not alive else "Kafka source")
        return JSONResponse(
            {
                "status": status + ("" if status == "ok" else " stopped (see the log)"),
                "version": __version__,
                "backend": service.settings.backend,
                "profiles_run": run_dir.name if run_dir else None,
                "events_waiting": service.intake.waiting,
                "uptime_s": round(time.time() - service.started, 1),
            },
            status_code=200 if status == "ok" else 503,
        )

    @app.get("/metrics", dependencies=reader)
    def metrics(service: ServiceDep) -> Response:
        return Response(service.metrics.text(), media_type=CONTENT_TYPE)


class _GuardAndMeasure:
    """ASGI middleware: loopback Host headers only while reads are open; security headers; every request
    timed and logged by its route template (``/users/{raw_id}/profile``), never by its path."""

    def __init__(self, app: Any, service: Service) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        if self.service.open_reads and host_name(host) not in LOOPBACK_HOSTS:
            refused = JSONResponse({"error": "kg serve answers loopback hosts only"}, status_code=403)
            await refused(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)
        seconds = time.perf_counter() - started
        route = str(getattr(scope.get("route"), "path", "other"))
        self.service.metrics.requests.labels(route, str(status)).observe(seconds)
        logger.debug("%s %s %d %.1f ms", scope.get("method"), route, status, seconds * 1000)


_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"))


async def _refused(_: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, _Refused)
    return JSONResponse({"error": e.error, "hint": e.hint}, status_code=e.status)


async def _kg_error(_: Request, e: Exception) -> JSONResponse:
    hint = getattr(e, "hint", None) or ""
    return JSONResponse({"error": str(e), "hint": hint}, status_code=400 if isinstance(e, ConfigError) else 503)


def create_app(service: Service) -> FastAPI:
    """The app of one service; the intake starts with the app and finishes its batches when it stops."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.intake.start()
        for source in service.sources:
            source.start()
        try:
            yield
        finally:
            for source in service.sources:
                await run_in_threadpool(source.stop)
            await run_in_threadpool(service.intake.stop)
            service.close()

    app = FastAPI(title="kg serve", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = service
    app.add_middleware(_GuardAndMeasure, service=service)
    app.add_exception_handler(_Refused, _refused)
    app.add_exception_handler(KGError, _kg_error)
    _register_routes(app)
    return app
