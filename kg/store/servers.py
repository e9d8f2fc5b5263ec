"""Library calls behind ``kg db``: start, stop and describe the configured graph database."""

from __future__ import annotations

from typing import Any

from kg.foundation.errors import ConfigError
from kg.foundation.settings import Settings

__all__ = ["start_server", "stop_server", "server_status", "repair_server"]


def _embedded_only(settings: Settings, action: str) -> None:
    if settings.neo4j_uri:
        raise ConfigError(
            f"KG_NEO4J_URI is set, so kg uses Neo4j and does not {action} FalkorDB",
            hint="manage Neo4j with `kg db start --backend neo4j` or `docker compose up -d`",
        )


def _backend(settings: Settings, backend: str | None) -> str:
    backend = backend or settings.backend
    if backend not in ("falkordb", "neo4j"):
        raise ConfigError(f"unknown backend {backend!r}", hint="use --backend falkordb or --backend neo4j")
    return backend


def start_server(settings: Settings, backend: str | None = None) -> dict[str, Any]:
    """Start the configured (or given) backend's local server under ``settings.home`` (no-op when it
    runs): the embedded FalkorDB, or a local Neo4j (:mod:`kg.store.neo4j_server`); its status."""
    if _backend(settings, backend) == "neo4j":
        from kg.store.neo4j_server import LocalNeo4j

        return LocalNeo4j(settings).start()
    from kg.store.falkordb_server import EmbeddedServer

    _embedded_only(settings, "start")
    server = EmbeddedServer(settings)
    server.start()
    return {**server.status(), "dir": str(server.dir)}


def stop_server(settings: Settings, backend: str | None = None) -> bool:
    """Stop the local server (data is kept); False when it was not running."""
    if _backend(settings, backend) == "neo4j":
        from kg.store.neo4j_server import LocalNeo4j

        return LocalNeo4j(settings).stop()
    from kg.store.falkordb_server import EmbeddedServer

    _embedded_only(settings, "stop")
    return EmbeddedServer(settings).stop()


def server_status(settings: Settings) -> dict[str, Any]:
    """``{"backend", "running", ...}`` for the configured database (never starts one)."""
    if settings.neo4j_uri:
        from kg.store import open_store
        from kg.store.neo4j_server import LocalNeo4j

        info: dict[str, Any] = {"backend": "neo4j", "uri": settings.neo4j_uri}
        try:
            local = LocalNeo4j(settings)
            if local.pid():
                info.update(local=True, pid=local.pid(), dir=str(local.home), browser=local.browser_url)
        except ConfigError:  # a remote Neo4j
            pass
        try:
            with open_store(settings) as store:
                info.update(running=True, version=store.version())
        except Exception as e:  # noqa: BLE001 - reported, not raised: status answers "not running"
            info.update(running=False, error=str(e))
        return info
    from kg.foundation.locks import holder, lock_path
    from kg.store.falkordb_server import EmbeddedServer

    return {"backend": "falkordb", **EmbeddedServer(settings).status(), "last_writer": holder(lock_path(settings))}


def repair_server(settings: Settings) -> str | None:
    """Rewrite a damaged append-only manifest of the (stopped) embedded server; the backup's path, or
    None when the manifest was sound."""
    from kg.store.falkordb_server import EmbeddedServer

    _embedded_only(settings, "repair")
    backup = EmbeddedServer(settings).repair_aof()
    return str(backup) if backup else None
