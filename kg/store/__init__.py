"""Graph stores: :func:`open_store` picks Neo4j when ``KG_NEO4J_URI`` is set, else embedded FalkorDB.

>>> from kg.store.cypher import STATS_NODES
>>> with open_store(Settings()) as store:          # doctest: +SKIP
...     store.query(STATS_NODES)
"""

from __future__ import annotations

from kg.foundation.errors import StoreError
from kg.foundation.settings import Settings
from kg.store.base import GraphStore, batched

__all__ = ["GraphStore", "open_store", "batched"]


def open_store(settings: Settings, *, start: bool = True) -> GraphStore:
    """Connect to the configured graph database, starting the embedded server when needed."""
    if settings.neo4j_uri:
        from kg.store.neo4j import Neo4jStore

        return Neo4jStore(
            settings.neo4j_uri,
            settings.neo4j_user,
            settings.neo4j_password.get_secret_value(),
            settings.neo4j_database,
            batch_size=settings.batch_size,
        )
    import falkordb

    from kg.store.falkordb import FalkorDBStore

    if settings.falkordb_url:
        try:
            client = falkordb.FalkorDB.from_url(settings.falkordb_url)
            client.connection.ping()
        except Exception as e:  # noqa: BLE001 - any failure to connect is the same error for the user
            raise StoreError(
                f"cannot reach FalkorDB at KG_FALKORDB_URL: {' '.join(str(e).split())[:200]}",
                hint="check the URL and that the server runs, or unset KG_FALKORDB_URL",
            ) from e
        return FalkorDBStore(client, settings.graph, batch_size=settings.batch_size)
    from kg.store.falkordb_server import EmbeddedServer

    server = EmbeddedServer(settings)
    endpoint = server.start() if start else server.endpoint()
    if endpoint is None:
        raise StoreError("the embedded database is not running", hint="kg db start")
    client = falkordb.FalkorDB(**endpoint.client_kwargs())
    return FalkorDBStore(client, settings.graph, batch_size=settings.batch_size, server=server)
