"""Neo4j 5 backend through the official ``neo4j`` driver; every dialect difference lives here."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from kg.foundation import schema
from kg.foundation.errors import QueryError, StoreError
from kg.store import queries
from kg.store.base import GraphStore
from kg.store.cypher import (
    AWAIT_INDEXES,
    DELETE_ALL,
    EMBED_MAX_NODE_ID,
    EMBED_NODE_KEYS,
    EMBED_TRIPLE_IDS,
    PURGE_FILLER_CREATE,
    PURGE_FILLER_DELETE,
    SCHEMA_UNIQUE,
    SCHEMA_UNIQUE_DROP,
    SCHEMA_UNIQUE_NAME,
    SERVER_SETTINGS,
    SERVER_VERSION,
    VECTOR_INDEX_CREATE,
    VECTOR_INDEX_DROP,
    VECTOR_INDEX_OPTIONS,
    VECTOR_INDEX_STATUS,
    VECTOR_SEARCH,
)

__all__ = ["Neo4jStore"]

logger = logging.getLogger(__name__)


def _index_name(label: str, prop: str) -> str:
    return f"{label.lower()}_{prop.lower()}"


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """Driver objects as the FalkorDB store returns them, so that no caller knows the backend: nodes as
    ``{"_id", "_labels", **props}``, relationships as ``{"_id", "_type", "_src", "_dst", **props}``,
    paths as ``{"nodes", "relationships"}`` (ids are element ids); temporal values as ISO text."""
    if type(value) in _SCALARS:
        return value
    from neo4j.graph import Node, Path, Relationship

    if isinstance(value, Node):
        return {"_id": value.element_id, "_labels": sorted(value.labels), **dict(value.items())}
    if isinstance(value, Relationship):
        return {
            "_id": value.element_id,
            "_type": value.type,
            "_src": value.start_node.element_id if value.start_node is not None else None,
            "_dst": value.end_node.element_id if value.end_node is not None else None,
            **dict(value.items()),
        }
    if isinstance(value, Path):
        return {"nodes": [_plain(n) for n in value.nodes], "relationships": [_plain(r) for r in value.relationships]}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):  # neo4j.time Date, DateTime, Time, Duration
        return value.iso_format()
    return value


def _row(record: Any) -> dict[str, Any]:
    return {key: _plain(value) for key, value in zip(record.keys(), record.values(), strict=True)}


#: labels whose key indexes purge_traces rebuilds: a range index keeps a deleted key's bytes in its pages
#: (a User's id is the pseudonym; a Review's id is derived from it, or is the shop's own review id)
PURGE_REBUILD = ("User", "Review")
#: purge_traces writes no more filler than this to rotate the transaction log
PURGE_FILLER_MAX = 16 * 2**20
_UNITS = {
    "": 1,
    "b": 1,
    "k": 2**10,
    "kb": 2**10,
    "kib": 2**10,
    "m": 2**20,
    "mb": 2**20,
    "mib": 2**20,
    "g": 2**30,
    "gb": 2**30,
    "gib": 2**30,
}
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _size(text: str) -> int | None:
    """``"1.00MiB"`` -> 1048576 (a Neo4j byte-size setting), None when unreadable."""
    found = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]*)\s*", text or "")
    unit = _UNITS.get(found.group(2).lower()) if found else None
    return int(float(found.group(1)) * unit) if found and unit else None


def _seconds(text: str) -> float | None:
    """``"20s"`` -> 20.0 (a Neo4j duration setting), None when unreadable."""
    found = re.fullmatch(r"\s*([\d.]+)\s*(ms|s|m|h|d)?\s*", text or "")
    return float(found.group(1)) * _SECONDS[found.group(2) or "s"] if found else None


def _files_kept(policy: str) -> int | None:
    """Files a ``db.tx_log.rotation.retention_policy`` keeps besides the current one; None: not a file count."""
    policy = (policy or "").strip().lower()
    if policy in ("false", "keep_none"):
        return 0
    found = re.fullmatch(r"(\d+)\s*files?", policy)
    return int(found.group(1)) if found else None


class Neo4jStore(GraphStore):
    """A Neo4j 5 database."""

    dialect = "neo4j"

    def __init__(self, uri: str, user: str, password: str, database: str, *, batch_size: int = 5000) -> None:
        super().__init__(batch_size=batch_size)
        import neo4j

        self._neo4j = neo4j
        try:
            # the server's notes on unknown labels/types (the usual case on a young graph: no ALSO_BOUGHT yet)
            # and on query performance are not the user's business; deprecations still reach the log
            self.driver = neo4j.GraphDatabase.driver(
                uri,
                auth=(user, password),
                notifications_disabled_classifications=["UNRECOGNIZED", "PERFORMANCE", "HINT", "GENERIC"],
            )
            self.driver.verify_connectivity()
        except neo4j.exceptions.AuthError as e:
            raise StoreError(
                f"Neo4j at {uri} refused user {user!r} and the password given",
                hint="check KG_NEO4J_USER and KG_NEO4J_PASSWORD",
            ) from e
        except Exception as e:
            message = getattr(e, "message", None) or " ".join(str(e).split())
            raise StoreError(
                f"cannot reach Neo4j at {uri}: {message[:200]}",
                hint="start it: kg db start --backend neo4j (or docker compose up -d neo4j); check KG_NEO4J_URI",
            ) from e
        self.database = database
        self._version = self._check_version()

    def _check_version(self) -> str:
        """Checked once at connect: kg's Neo4j dialect needs Neo4j 5 or later."""
        rows = self.query(SERVER_VERSION)
        name, version = (rows[0]["name"], str(rows[0]["version"])) if rows else ("Neo4j", "0")
        major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
        if major < 5:
            self.driver.close()
            raise StoreError(
                f"{name} {version} is too old: kg needs Neo4j 5 or later",
                hint="run the Neo4j 5 of compose.yaml (docker compose up -d)",
            )
        return f"{name} {version}"

    def _run(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        try:
            records, _, _ = self.driver.execute_query(text, dict(params or {}), database_=self.database)
        except self._neo4j.exceptions.Neo4jError as e:
            raise QueryError(f"Neo4j: {e.message or e}") from e
        except self._neo4j.exceptions.DriverError as e:
            raise StoreError(f"Neo4j driver: {e}") from e
        return [_row(record) for record in records]

    def _session_run(self, text: str, params: Mapping[str, Any], *, read_only: bool) -> Any:
        """Records and summary of ``text`` in a session of the given access mode."""
        mode = self._neo4j.READ_ACCESS if read_only else self._neo4j.WRITE_ACCESS
        try:
            with self.driver.session(database=self.database, default_access_mode=mode) as session:
                result = session.run(text, dict(params))
                records = [_row(record) for record in result]
                return records, result.consume()
        except self._neo4j.exceptions.Neo4jError as e:
            if "AccessMode" in str(e.code or ""):
                raise QueryError(
                    "this query writes, and analysts' queries are read-only by default", hint="add --write to allow it"
                ) from e
            raise QueryError(f"Neo4j: {e.message or e}", hint="check the Cypher syntax and the names used") from e
        except self._neo4j.exceptions.DriverError as e:
            raise StoreError(f"Neo4j driver: {e}") from e

    def _run_read(self, text: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self._session_run(text, params, read_only=True)[0]

    @staticmethod
    def _plan_lines(plan: Any, depth: int = 0) -> list[str]:
        if not plan:
            return []
        plan = (
            plan
            if isinstance(plan, dict)
            else {
                "operatorType": getattr(plan, "operator_type", "?"),
                "args": getattr(plan, "arguments", {}),
                "children": getattr(plan, "children", []),
            }
        )
        args = plan.get("args") or plan.get("arguments") or {}
        counts = ", ".join(f"{k} {args[k]}" for k in ("Rows", "DbHits") if k in args)
        name = str(plan.get("operatorType", "?")).split("@")[0]
        lines = [
            "    " * depth
            + name
            + (f" | {args['Details']}" if args.get("Details") else "")
            + (f" | {counts}" if counts else "")
        ]
        for child in plan.get("children") or []:
            lines += Neo4jStore._plan_lines(child, depth + 1)
        return lines

    def explain(self, text: str, params: Mapping[str, Any] | None = None) -> list[str]:
        _, summary = self._session_run("EXPLAIN " + text, params or {}, read_only=True)
        return self._plan_lines(summary.plan)

    def profile(self, text: str, params: Mapping[str, Any] | None = None, *, write: bool = False) -> list[str]:
        _, summary = self._session_run("PROFILE " + text, params or {}, read_only=not write)
        return self._plan_lines(summary.profile)

    def writes(self, text: str, params: Mapping[str, Any] | None = None) -> bool:
        _, summary = self._session_run("EXPLAIN " + text, params or {}, read_only=True)
        return any(kind in str(summary.query_type or "") for kind in ("w", "s"))  # s: schema writes

    # -- node identity for exports: elementId() mapped to dense ints for one export ---------
    def node_id_bound(self) -> int | None:
        """Starts an export: forgets the previous export's id map; the node count - 1 (None: empty)."""
        self._export_ids: dict[str, int] = {}
        self._export_eids: list[str] = []
        rows = self.query(EMBED_MAX_NODE_ID)
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
        rows = self.query(EMBED_TRIPLE_IDS, identifiers={"rel": rel})
        return [self._dense(r["h"]) for r in rows], [self._dense(r["t"]) for r in rows]

    def node_key_page(self, lo: int, hi: int, keys: Mapping[str, str]) -> tuple[list[int], list[str], list[Any]]:
        eids = getattr(self, "_export_eids", [])[lo:hi]
        if not eids:
            return [], [], []
        rows = self.query(EMBED_NODE_KEYS, eids=eids, keys=dict(keys))
        row = rows[0] if rows else {"ids": [], "labels": [], "keys": []}
        return [self._export_ids[e] for e in row["ids"]], list(row["labels"]), list(row["keys"])

    def ensure_schema(self) -> None:
        for label, key in schema.KEYS.items():
            name = f"{label.lower()}_{key}_unique"
            self._run(queries.render(SCHEMA_UNIQUE, self.dialect, constraint=name, label=label, key=key))

    def ensure_vector_index(self, label: str, dim: int, prop: str = "embedding") -> None:
        name = _index_name(label, prop)
        rows = self.query(VECTOR_INDEX_OPTIONS, name=name)
        if rows:
            config = (rows[0].get("options") or {}).get("indexConfig") or {}
            quantized = bool(config.get("vector.quantization.enabled", False))
            if int(config.get("vector.dimensions", dim)) == dim and not quantized:
                return
            self._run(queries.render(VECTOR_INDEX_DROP, self.dialect, index=name))
        self._run(
            queries.render(VECTOR_INDEX_CREATE, self.dialect, index=name, label=label, prop=prop), {"dim": int(dim)}
        )
        self.query(AWAIT_INDEXES)

    def vector_index_ready(self, label: str, prop: str = "embedding") -> bool | None:
        rows = self.query(VECTOR_INDEX_STATUS, name=_index_name(label, prop))
        return str(rows[0]["status"]) == "ONLINE" if rows else None

    def vector_search(self, label: str, vector: list[float], k: int, prop: str = "embedding") -> list[dict[str, Any]]:
        text = queries.render(VECTOR_SEARCH, self.dialect, key=schema.key_of(label))
        return self._run(text, {"index": _index_name(label, prop), "k": int(k), "vector": [float(x) for x in vector]})

    def version(self) -> str:
        return self._version

    def clear(self) -> None:
        while self.query(DELETE_ALL, limit=10_000)[0]["deleted"]:
            pass

    def purge_traces(self) -> dict[str, Any]:
        """After deleting a person, make the server's files drop them as far as a client can (Community has
        no ``db.checkpoint()``), and say what stays:

        * the uniqueness constraints of :data:`PURGE_REBUILD` are dropped and created again: a range index
          keeps a removed key's bytes in its pages, the rebuilt one holds live keys only (the old files go
          at once). Two transactions (Neo4j refuses one): kg's writers wait on the writer lock meanwhile;
        * when the server's retention policy counts files and its rotation size is small (kg's local Neo4j:
          ``1 files``, 1 MiB), filler is written to a throwaway node, one transaction per rotation needed,
          and deleted: the log files that hold the deleted records are pruned at the next checkpoint
          (``db.checkpoint.interval.time``: 20 s there, measured 5-16 s; reported as within three intervals,
          :data:`kg.store.neo4j_server.FORGET_WINDOW_S`);
        * what no client can remove is listed under ``stays``: a deleted record keeps its bytes in the store
          files (only its header is cleared) until Neo4j reuses it for new data, with no time bound.

        The raw id never reaches Neo4j (ids are pseudonymised at ingest); its User.id is the pseudonym.
        """
        done: dict[str, Any] = {
            "compacted": False,
            "query_log_dropped": False,
            "snapshot": False,
            "indexes_rebuilt": [],
            "log_rotations": 0,
            "log_filler_bytes": 0,
            "log_pruned_within_s": None,
            "notes": [],
            "stays": [],
        }
        conf = self._settings("db.tx_log.rotation.", "db.checkpoint.interval.time")
        for label in PURGE_REBUILD:
            if self._rebuild_unique(label, schema.KEYS[label]):
                done["indexes_rebuilt"].append(f"{label}.{schema.KEYS[label]}")
        if done["indexes_rebuilt"]:
            done["notes"].append("key indexes rebuilt without the deleted keys: " + ", ".join(done["indexes_rebuilt"]))
        for label in PURGE_REBUILD:
            if f"{label}.{schema.KEYS[label]}" not in done["indexes_rebuilt"]:
                done["stays"].append(
                    f"{label}.{schema.KEYS[label]} index (not rebuilt): the deleted keys, as text, in "
                    "free index slots until those pages are reused"
                )
        size = _size(conf.get("db.tx_log.rotation.size", ""))
        kept = _files_kept(conf.get("db.tx_log.rotation.retention_policy", ""))
        every = _seconds(conf.get("db.checkpoint.interval.time", ""))
        policy = conf.get("db.tx_log.rotation.retention_policy", "unknown")
        if size and kept is not None and every and (kept + 1) * (size + 2**16) <= PURGE_FILLER_MAX:
            done.update(self._rotate_log(kept + 1, size + 2**16))
        if kept is not None and done["log_rotations"] == kept + 1 and every:
            done["log_pruned_within_s"] = window = int(3 * every)
            done["notes"].append(
                f"transaction log rotated {done['log_rotations']}x: the files holding the deleted "
                f"records are pruned at the next checkpoint (within {window} s)"
            )
        else:
            rotation = conf.get("db.tx_log.rotation.size", "unknown")
            done["stays"].append(
                f"transaction logs: the deleted records stay in them as the server's retention "
                f"policy ({policy}, rotation {rotation}) keeps them"
            )
        done["stays"].append(
            "store files (neostore.propertystore.db*): deleted records keep their bytes until Neo4j "
            "reuses them for new data, with no time bound: most of the pseudonym in Neo4j's packed "
            "encoding, review text (kept only with --store-text) as plain text"
        )
        done["stays"].append(
            "Product and Aspect key indexes: the keys of nodes only this person introduced, in free "
            "index slots until those pages are reused"
        )
        return done

    def _rotate_log(self, times: int, pad: int) -> dict[str, int]:
        """Write ``pad`` bytes to a throwaway node and delete it, ``times`` times (each outgrows a log file)."""
        done = {"log_rotations": 0, "log_filler_bytes": 0}
        try:
            for _ in range(times):
                eid = self.query(PURGE_FILLER_CREATE, pad="0" * pad)[0]["eid"]
                self.query(PURGE_FILLER_DELETE, eid=eid)
                done["log_rotations"] += 1
                done["log_filler_bytes"] += pad
        except QueryError as e:
            logger.warning("could not rotate Neo4j's transaction log after a forget: %s", e)
        return done

    def _settings(self, *prefixes: str) -> dict[str, str]:
        """The server's settings whose names start with one of ``prefixes`` (empty when not allowed to see them)."""
        try:
            rows = self.query(SERVER_SETTINGS, prefixes=list(prefixes))
        except QueryError as e:
            logger.warning("cannot read the server's settings: %s", e)
            return {}
        return {str(r["name"]): str(r["value"]) for r in rows}

    def _rebuild_unique(self, label: str, key: str) -> bool:
        """Drop and create again the uniqueness constraint on ``label.key`` (its index is built afresh)."""
        try:
            rows = self.query(SCHEMA_UNIQUE_NAME, label=label, key=key)
            name = str(rows[0]["name"]) if rows else ""
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):  # none, or not kg's: left as it is
                return False
            self.query(SCHEMA_UNIQUE_DROP, identifiers={"constraint": name})
        except QueryError as e:
            logger.warning("could not rebuild the %s.%s index after a forget: %s", label, key, e)
            return False
        try:
            self._run(queries.render(SCHEMA_UNIQUE, self.dialect, constraint=name, label=label, key=key))
        except QueryError as e:
            raise StoreError(
                f"could not restore the uniqueness constraint on {label}.{key} after a forget: {e}",
                hint=f"remove the duplicate {label} nodes a writer outside kg made, then run kg ingest "
                "(it creates the constraint)",
            ) from e
        self.query(AWAIT_INDEXES)
        return True

    def close(self) -> None:
        self.driver.close()
