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
        self._version = self._check_version()

    def _check_version(self) -> str:
        """Checked once at connect: kg's Neo4j dialect needs Neo4j 5 or later."""
        rows = self.query("server_version")
        name, version = (rows[0]["name"], str(rows[0]["version"])) if rows else ("Neo4j", "0")
        major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
        if major < 5:
            self.driver.close()
            raise StoreError(f"{name} {version} is too old: kg needs Neo4j 5 or later",
                             hint="run the Neo4j 5 of compose.yaml (docker compose up -d)")
        return f"{name} {version}"

    def _run(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        try:
            records, _, _ = self.driver.execute_query(text, dict(params or {}), database_=self.database)
        except self._neo4j.exceptions.Neo4jError as e:
            raise QueryError(f"Neo4j: {e.message or e}") from e
        except self._neo4j.exceptions.DriverError as e:
            raise StoreError(f"Neo4j driver: {e}") from e
        return [record.data() for record in records]

    def _session_run(self, text: str, params: Mapping[str, Any], *, read_only: bool) -> Any:
        """Records and summary of ``text`` in a session of the given access mode."""
        mode = self._neo4j.READ_ACCESS if read_only else self._neo4j.WRITE_ACCESS
        try:
            with self.driver.session(database=self.database, default_access_mode=mode) as session:
                result = session.run(text, dict(params))
                records = [record.data() for record in result]
                return records, result.consume()
        except self._neo4j.exceptions.Neo4jError as e:
            if "AccessMode" in str(e.code or ""):
                raise QueryError("this query writes, and analysts' queries are read-only by default",
                                 hint="add --write to allow it") from e
            raise QueryError(f"Neo4j: {e.message or e}", hint="check the Cypher syntax and the names used") from e
        except self._neo4j.exceptions.DriverError as e:
            raise StoreError(f"Neo4j driver: {e}") from e

    def _run_read(self, text: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self._session_run(text, params, read_only=True)[0]

    @staticmethod
    def _plan_lines(plan: Any, depth: int = 0) -> list[str]:
        if not plan:
            return []
        plan = plan if isinstance(plan, dict) else {"operatorType": getattr(plan, "operator_type", "?"),
                                                     "args": getattr(plan, "arguments", {}),
                                                     "children": getattr(plan, "children", [])}
        args = plan.get("args") or plan.get("arguments") or {}
        counts = ", ".join(f"{k} {args[k]}" for k in ("Rows", "DbHits") if k in args)
        name = str(plan.get("operatorType", "?")).split("@")[0]
        lines = ["    " * depth + name + (f" | {args['Details']}" if args.get("Details") else "")
                 + (f" | {counts}" if counts else "")]
        for child in plan.get("children") or []:
            lines += Neo4jStore._plan_lines(child, depth + 1)
        return lines

    def explain(self, text: str, params: Mapping[str, Any] | None = None) -> list[str]:
        _, summary = self._session_run("EXPLAIN " + text, params or {}, read_only=True)
        return self._plan_lines(summary.plan)

    def profile(self, text: str, params: Mapping[str, Any] | None = None) -> list[str]:
        _, summary = self._session_run("PROFILE " + text, params or {}, read_only=False)
        return self._plan_lines(summary.profile)

    def writes(self, text: str, params: Mapping[str, Any] | None = None) -> bool:
        _, summary = self._session_run("EXPLAIN " + text, params or {}, read_only=True)
        return "w" in str(summary.query_type or "")

    # -- node identity for exports: elementId() mapped to dense ints for one export ---------
    def node_id_bound(self) -> int | None:
        """Starts an export: forgets the previous export's id map; the node count - 1 (None: empty)."""
        self._export_ids: dict[str, int] = {}
        self._export_eids: list[str] = []
        rows = self.query("embed_max_node_id")
        return rows[0]["max_id"] if rows else None

    def _dense(self, element_id: str) -> int:
        found = self._export_ids.get(element_id)
        if found is None:
            found = self._export_ids[element_id] = len(self._export_eids)
            self._export_eids.append(element_id)
        return found

    def triple_id_page(self, rel: str, lo: int, hi: int) -> tuple[list[int], list[int]]:
        """Neo4j cannot seek element ids by range: the first page streams every ``rel`` relationship."""
        if not hasattr(self, "_export_ids"):
            self.node_id_bound()
        if lo > 0:
            return [], []
        rows = self.query("embed_triple_ids", identifiers={"rel": rel})
        return [self._dense(r["h"]) for r in rows], [self._dense(r["t"]) for r in rows]

    def node_key_page(self, lo: int, hi: int, keys: Mapping[str, str]) -> tuple[list[int], list[str], list[Any]]:
        eids = getattr(self, "_export_eids", [])[lo:hi]
        if not eids:
            return [], [], []
        rows = self.query("embed_node_keys", eids=eids, keys=dict(keys))
        row = rows[0] if rows else {"ids": [], "labels": [], "keys": []}
        return [self._export_ids[e] for e in row["ids"]], list(row["labels"]), list(row["keys"])

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

    def vector_index_ready(self, label: str, prop: str = "embedding") -> bool | None:
        rows = self.query("vector_index_status", name=_index_name(label, prop))
        return str(rows[0]["status"]) == "ONLINE" if rows else None

    def vector_search(self, label: str, vector: list[float], k: int, prop: str = "embedding") -> list[dict[str, Any]]:
        text = cypher.render("vector_search", self.dialect, key=schema.key_of(label))
        return self._run(text, {"index": _index_name(label, prop), "k": int(k),
                                "vector": [float(x) for x in vector]})

    def version(self) -> str:
        return self._version

    def clear(self) -> None:
        while self.query("delete_all", limit=10_000)[0]["deleted"]:
            pass

    def close(self) -> None:
        self.driver.close()
