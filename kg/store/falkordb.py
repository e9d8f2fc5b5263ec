"""FalkorDB backend (the embedded default) through its native client; every dialect difference lives here."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kg import cypher, schema
from kg.errors import QueryError, StoreError
from kg.store.base import GraphStore
from kg.store.falkordb_params import Literal, float32_list, params_header

__all__ = ["FalkorDBStore"]

logger = logging.getLogger(__name__)


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """Client objects (Node, Edge, Path) to JSON-ready Python values."""
    if type(value) in _SCALARS:  # the common case, kept cheap: result sets hold millions of them
        return value
    from falkordb import Edge, Node, Path

    if isinstance(value, Node):
        return {"_id": value.id, "_labels": list(value.labels or []), **(value.properties or {})}
    if isinstance(value, Edge):
        return {"_id": value.id, "_type": value.relation, "_src": value.src_node, "_dst": value.dest_node,
                **(value.properties or {})}
    if isinstance(value, Path):
        return {"nodes": [_plain(n) for n in value.nodes()], "relationships": [_plain(e) for e in value.edges()]}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _already_there(error: Exception) -> bool:
    """Whether a schema statement failed only because its index or constraint exists (a race)."""
    text = str(error).lower()
    return "already indexed" in text or "already exists" in text


class FalkorDBStore(GraphStore):
    """A graph on a FalkorDB server (embedded or external)."""

    dialect = "falkordb"

    def __init__(self, client: Any, graph: str, *, batch_size: int = 5000, server: Any = None) -> None:
        super().__init__(batch_size=batch_size)
        self.client = client
        self.graph_name = graph
        self.graph = client.select_graph(graph)
        self.server = server  # EmbeddedServer when kg runs it
        # Batched writes are pipelined: one statement runs on the server (sent from this thread)
        # while the caller reads and encodes the next batch. Anything else waits for it first.
        self._sender: ThreadPoolExecutor | None = None
        self._in_flight: Future[list[dict[str, Any]]] | None = None

    def _run(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        self.flush()
        # Parameters are encoded here (same literals as the client's, several times faster).
        return self._send(params_header(params) + text)

    def _send(self, query: str, *, read_only: bool = False) -> list[dict[str, Any]]:
        """Run query text that already carries its ``CYPHER ...`` parameter header."""
        with self._errors():
            result = self.graph.ro_query(query) if read_only else self.graph.query(query)
        if not result.header:
            return []
        columns = [h[1] if isinstance(h, (list, tuple)) else h for h in result.header]
        return [dict(zip(columns, (_plain(v) for v in row))) for row in result.result_set]

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Server and connection errors as kg errors with a hint."""
        import redis

        try:
            yield
        except redis.exceptions.ResponseError as e:
            message = " ".join(str(e).split())
            if "read-only" in message.lower():
                raise QueryError("this query writes, and analysts' queries are read-only by default",
                                 hint="add --write to allow it") from e
            if "missing parameters" in message.lower():
                raise QueryError(f"FalkorDB: {message}", hint="pass every $name with -p name=VALUE") from e
            raise QueryError(f"FalkorDB: {message}", hint="check the Cypher syntax and the names used") from e
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as e:
            raise StoreError(f"cannot reach FalkorDB: {' '.join(str(e).split())}",
                             hint="kg db status; check KG_FALKORDB_URL or KG_HOME") from e

    def _ensure_graph_key(self) -> None:
        """Read-only commands and plans fail on a graph that does not exist yet: create it empty."""
        if self.graph_name not in self.client.list_graphs():
            self._send("RETURN 0")

    def _run_read(self, text: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.flush()
        self._ensure_graph_key()
        return self._send(params_header(params) + text, read_only=True)

    def _plan(self, method: str, text: str, params: Mapping[str, Any] | None) -> list[str]:
        self.flush()
        self._ensure_graph_key()
        with self._errors():
            plan = getattr(self.graph, method)(params_header(params or {}) + text)
        return [line for line in str(plan).splitlines() if line.strip()]

    def explain(self, text: str, params: Mapping[str, Any] | None = None) -> list[str]:
        return self._plan("explain", text, params)

    def profile(self, text: str, params: Mapping[str, Any] | None = None) -> list[str]:
        return self._plan("profile", text, params)

    def flush(self) -> None:
        """Wait for the write in flight; its error, if any, is raised here."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _write_batch(self, text: str, params: Mapping[str, Any]) -> None:
        """Pipelined: the batch is sent from a worker thread while the caller reads and encodes the
        next one. One statement is in flight at a time, so batches apply in order; ``flush``, any
        read, ``clear``, ``compact`` and ``close`` wait for it and raise its error."""
        query = params_header(params) + text
        self.flush()
        if self._sender is None:
            self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-write")
        self._in_flight = self._sender.submit(self._send, query)

    def _vector_value(self, vector: Any) -> Literal:
        """A pre-formatted float32 list literal (9 significant digits: exact for float32)."""
        return float32_list(vector)

    def _vector_index_options(self, label: str, prop: str) -> dict[str, Any] | None:
        """The options of the vector index on ``label.prop``, or None when there is none."""
        for row in self.query("schema_indexes"):
            types = row.get("types") or {}
            if row["label"] == label and prop in (row.get("properties") or []) and "VECTOR" in str(types.get(prop)):
                return (row.get("options") or {}).get(prop) or {}
        return None

    def _indexed(self) -> dict[tuple[str, str], str]:
        """{(label, property): index types} for node indexes."""
        found: dict[tuple[str, str], str] = {}
        for row in self.query("schema_indexes"):
            if row.get("entitytype", "NODE") != "NODE":
                continue
            types = row.get("types") or {}
            for prop in row.get("properties") or []:
                kinds = types.get(prop, []) if isinstance(types, dict) else types
                found[(row["label"], prop)] = ",".join(map(str, kinds))
        return found

    def ensure_schema(self) -> None:
        """Key indexes and uniqueness constraints; safe when several processes race to create them."""
        indexed = self._indexed()
        constraints = {(c[1], tuple(c[2])) for c in self._constraints() if c[0] == "UNIQUE"}
        for label, key in schema.KEYS.items():
            if "RANGE" not in indexed.get((label, key), ""):
                try:
                    self._run(cypher.render("schema_key_index", self.dialect, label=label, key=key))
                except QueryError as e:  # another process created it since we looked
                    if not _already_there(e):
                        raise
                    logger.debug("index on %s.%s: %s", label, key, e)
            if (label, (key,)) not in constraints:
                try:
                    self.client.connection.execute_command(
                        "GRAPH.CONSTRAINT", "CREATE", self.graph_name, "UNIQUE", "NODE", label, "PROPERTIES", 1, key)
                except Exception as e:  # raced or already there
                    if not _already_there(e):
                        raise StoreError(f"cannot create uniqueness on {label}.{key}: {e}") from e

    def _constraints(self) -> list[tuple[str, str, list[str]]]:
        rows = self.query("schema_constraints")
        return [(r["type"], r["label"], list(r["properties"])) for r in rows]

    def ensure_vector_index(self, label: str, dim: int, prop: str = "embedding") -> None:
        options = self._vector_index_options(label, prop)
        if options is not None:
            if int(options.get("dimension", dim)) == dim:
                return
            self.drop_vector_index(label, prop)
        self._run(cypher.render("vector_index_create", self.dialect, label=label, prop=prop), {"dim": int(dim)})

    def drop_vector_index(self, label: str, prop: str = "embedding") -> bool:
        if self._vector_index_options(label, prop) is None:
            return False
        self._run(cypher.render("vector_index_drop", self.dialect, label=label, prop=prop))
        return True

    def vector_index_ready(self, label: str, prop: str = "embedding") -> bool | None:
        # FalkorDB reports one status per label ('OPERATIONAL' when every index on it is built)
        for row in self.query("vector_index_status"):
            types = row.get("types") or {}
            if row.get("label") == label and "VECTOR" in str(types.get(prop)):
                return str(row.get("status")) == "OPERATIONAL"
        return None

    def vector_search(self, label: str, vector: list[float], k: int, prop: str = "embedding") -> list[dict[str, Any]]:
        # Over-fetch: after a vector is overwritten, its stale HNSW entry still takes a slot and is
        # filtered out afterwards, so asking for exactly k can return fewer than k hits.
        text = cypher.render("vector_search", self.dialect, key=schema.key_of(label))
        rows = self._run(text, {"label": label, "prop": prop, "k": int(k) * 2 + 10,
                                "vector": [float(x) for x in vector]})
        return rows[: int(k)]

    def version(self) -> str:
        try:
            modules = self.client.connection.execute_command("MODULE", "LIST")
            for module in modules:
                fields = dict(zip(module[::2], module[1::2]))
                name = fields.get(b"name", fields.get("name"))
                if name in (b"graph", "graph"):
                    ver = int(fields.get(b"ver", fields.get("ver", 0)))
                    return f"FalkorDB {ver // 10000}.{ver // 100 % 100}.{ver % 100}"
        except Exception as e:  # pragma: no cover - informational only
            logger.debug("MODULE LIST failed: %s", e)
        return "FalkorDB"

    def clear(self) -> None:
        self.flush()
        try:
            self.graph.delete()
        except Exception as e:  # no such graph yet
            logger.debug("graph delete: %s", e)
        self.graph = self.client.select_graph(self.graph_name)

    def compact(self) -> None:
        """Rewrite the embedded server's append-only log (ServerError with a hint when the server is
        gone); nothing to do on an external server."""
        self.flush()
        if self.server is not None:
            self.server.rewrite_aof()

    def json_rows(self, texts: list[str]) -> list[Literal]:
        """Rows given as JSON arrays of strings, numbers and nulls without escapes (the event ledger's
        view rows): sent verbatim, since such JSON is exactly how the encoder writes Cypher literals."""
        return list(map(Literal, texts))

    def purge_traces(self) -> dict[str, bool]:
        """Drop FalkorDB's query telemetry of this graph (the stream ``telemetry{graph}`` keeps recent queries
        with their parameters and is persisted; entries are flushed about once a second, so a marker query
        is awaited first), then rewrite the embedded server's append-only log and snapshot."""
        dropped = self._drop_query_log()
        self.compact()
        embedded = self.server is not None
        return {"compacted": embedded, "query_log_dropped": dropped,
                "snapshot": bool(embedded and self.server.save_snapshot())}

    def _drop_query_log(self, wait: float = 5.0) -> bool:
        import secrets
        import time

        connection = getattr(self.client, "connection", None)
        if connection is None or not hasattr(connection, "xrevrange"):
            return False
        key = f"telemetry{{{self.graph_name}}}"
        marker = f"kg-purge-{secrets.token_hex(8)}"
        self.execute("RETURN $marker AS marker", {"marker": marker})
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            last = connection.xrevrange(key, count=1)
            if last and marker in str(last[0][1]):
                break
            time.sleep(0.05)
        else:
            logger.info("no query telemetry flushed within %.0f s (disabled?)", wait)
        return bool(connection.delete(key))

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._sender is not None:
                self._sender.shutdown(wait=True)
                self._sender = None
        try:
            self.client.connection.close()
        except Exception:  # pragma: no cover
            pass
