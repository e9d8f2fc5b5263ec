"""Neo4j 5 backend through the official ``neo4j`` driver; every dialect difference lives here."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kg import cypher, schema
from kg.errors import QueryError, StoreError
from kg.store.base import GraphStore

__all__ = ["Neo4jStore"]

logger = logging.getLogger(__name__)


def _index_name(label: str, prop: str) -> str:
    return f"{label.lower()}_{prop.lower()}"


class Neo4jStore(GraphStore):
    """A Neo4j 5 database."""

    dialect = "neo4j"

    def __init__(self, uri: str, user: str, password: str, database: str, *, batch_size: int = 5000) -> None:
        super().__init__(batch_size=batch_size)
        import neo4j

        self._neo4j = neo4j
        try:
            self.driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
            self.driver.verify_connectivity()
        except Exception as e:
            raise StoreError(f"cannot reach Neo4j at {uri}: {e}", hint="docker compose up -d; check KG_NEO4J_*") from e
        self.database = database

    def _run(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        try:
            records, _, _ = self.driver.execute_query(text, dict(params or {}), database_=self.database)
        except self._neo4j.exceptions.Neo4jError as e:
            raise QueryError(f"Neo4j: {e.message or e}") from e
        except self._neo4j.exceptions.DriverError as e:
            raise StoreError(f"Neo4j driver: {e}") from e
        return [record.data() for record in records]

    def ensure_schema(self) -> None:
        for label, key in schema.KEYS.items():
            name = f"{label.lower()}_{key}_unique"
            self._run(cypher.render("schema_unique", self.dialect, constraint=name, label=label, key=key))

    def ensure_vector_index(self, label: str, dim: int, prop: str = "embedding") -> None:
        name = _index_name(label, prop)
        rows = self.query("vector_index_options", name=name)
        if rows:
            config = (rows[0].get("options") or {}).get("indexConfig") or {}
            if int(config.get("vector.dimensions", dim)) == dim:
                return
            self._run(cypher.render("vector_index_drop", self.dialect, index=name))
        self._run(cypher.render("vector_index_create", self.dialect, index=name, label=label, prop=prop),
                  {"dim": int(dim)})
        self.query("await_indexes")

    def vector_search(self, label: str, vector: list[float], k: int, prop: str = "embedding") -> list[dict[str, Any]]:
        text = cypher.render("vector_search", self.dialect, key=schema.key_of(label))
        return self._run(text, {"index": _index_name(label, prop), "k": int(k),
                                "vector": [float(x) for x in vector]})

    def version(self) -> str:
        rows = self.query("server_version")
        return f"{rows[0]['name']} {rows[0]['version']}" if rows else "Neo4j"

    def clear(self) -> None:
        while self.query("delete_all", limit=10_000)[0]["deleted"]:
            pass

    def close(self) -> None:
        self.driver.close()
