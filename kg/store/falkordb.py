"""FalkorDB backend (the embedded default) through its native client; every dialect difference lives here."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from kg.foundation import schema
from kg.foundation.errors import QueryError, StoreError
from kg.store import queries
from kg.store.base import GraphStore
from kg.store.cypher import (
    SCHEMA_CONSTRAINTS,
    SCHEMA_INDEXES,
    SCHEMA_KEY_INDEX,
    VECTOR_INDEX_CREATE,
    VECTOR_INDEX_DROP,
    VECTOR_INDEX_STATUS,
    VECTOR_SEARCH,
)
from kg.store.falkordb_params import Literal, float32_list, params_header

__all__ = ["FalkorDBStore"]

logger = logging.getLogger(__name__)


_SCALARS = (str, int, float, bool, type(None))
# string literals and comments, then the procedure names after CALL (backticked parts allowed)
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|//[^\n]*|/\*.*?\*/", re.DOTALL)
_PART = r"(?:`[^`]*`|[A-Za-z_][A-Za-z0-9_]*)"
_CALLS = re.compile(rf"\bCALL\s+(?!\{{)({_PART}(?:\s*\.\s*{_PART})*)", re.IGNORECASE)


def _as_bytes(value: Any) -> bytes:
    """Any value a redis client returns (bytes, str, tuples, dicts of them) as bytes to search."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict):
        return b"\0".join(_as_bytes(k) + b"\0" + _as_bytes(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return b"\0".join(_as_bytes(v) for v in value)
    return str(value).encode("utf-8")


def _plain(value: Any) -> Any:
    """Client objects (Node, Edge, Path) to JSON-ready Python values."""
    if type(value) in _SCALARS:  # the common case, kept cheap: result sets hold millions of them
        return value
    from falkordb import Edge, Node, Path

    if isinstance(value, Node):
        return {"_id": value.id, "_labels": list(value.labels or []), **(value.properties or {})}
    if isinstance(value, Edge):
        return {
            "_id": value.id,
            "_type": value.relation,
            "_src": value.src_node,
            "_dst": value.dest_node,
            **(value.properties or {}),
        }
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
    max_count = 2**32 - 1  # LIMIT and SKIP are 32-bit counts: 2^32 wraps to 0 rows

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
        return self._send(self._header(params) + text)

    @staticmethod
    def _header(params: Mapping[str, Any] | None) -> str:
        """The ``CYPHER ...`` parameter header; a value FalkorDB has no literal for is bad input (QueryError)."""
        try:
            return params_header(params)
        except (ValueError, TypeError) as e:
            raise QueryError(f"FalkorDB: {e}", hint="change the parameter's value or key") from None

    def _send(self, query: str, *, read_only: bool = False) -> list[dict[str, Any]]:
        """Run query text that already carries its ``CYPHER ...`` parameter header."""
        with self._errors():
            result = self.graph.ro_query(query) if read_only else self.graph.query(query)
        if not result.header:
            return []
        columns = [h[1] if isinstance(h, (list, tuple)) else h for h in result.header]
        return [dict(zip(columns, (_plain(v) for v in row), strict=True)) for row in result.result_set]

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Server and connection errors as kg errors with a hint."""
        import redis

        try:
            yield
        except redis.exceptions.ResponseError as e:
            message = " ".join(str(e).split())
            if "read-only" in message.lower():
                raise QueryError(
                    "this query writes, and analysts' queries are read-only by default", hint="add --write to allow it"
                ) from e
            if "missing parameters" in message.lower():
                raise QueryError(f"FalkorDB: {message}", hint="pass every $name with -p name=VALUE") from e
            raise QueryError(f"FalkorDB: {message}", hint="check the Cypher syntax and the names used") from e
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as e:
            raise StoreError(
                f"cannot reach FalkorDB: {' '.join(str(e).split())}",
                hint="kg db status; check KG_FALKORDB_URL or KG_HOME",
            ) from e

    def _ensure_graph_key(self) -> None:
        """Read-only commands and plans fail on a graph that does not exist yet: create it empty."""
        if self.graph_name not in self.client.list_graphs():
            self._send("RETURN 0")

    def _run_read(self, text: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.flush()
        self._ensure_graph_key()
        return self._send(self._header(params) + text, read_only=True)

    def _plan(self, method: str, text: str, params: Mapping[str, Any] | None) -> list[str]:
        self.flush()
        self._ensure_graph_key()
        header = self._header(params or {})
        with self._errors():
            try:
                plan = getattr(self.graph, method)(header + text)
            except Exception as e:  # the client's own: index and constraint statements have no plan
                if "plan must be an array" not in str(e):
                    raise
                raise QueryError(
                    f"FalkorDB has no {method} plan for an index or constraint statement",
                    hint="run it without EXPLAIN/PROFILE (with --write)",
                ) from None
        return [line for line in str(plan).splitlines() if line.strip()]

    def explain(self, text: str, params: Mapping[str, Any] | None = None) -> list[str]:
        return self._plan("explain", text, params)

    def profile(self, text: str, params: Mapping[str, Any] | None = None, *, write: bool = False) -> list[str]:
        # FalkorDB has no read-only PROFILE: the query's plan and procedures are checked first
        if not write and self.writes(text, params):
            raise QueryError("PROFILE runs the query, and this one writes", hint="add --write to allow it")
        return self._plan("profile", text, params)

    def writes(self, text: str, params: Mapping[str, Any] | None = None) -> bool:
        """Writing operators in the plan, a procedure the server lists as WRITE (or does not list), or an
        index or constraint statement (no plan at all)."""
        try:
            plan = self.explain(text, params)
        except QueryError as e:
            if "index or constraint statement" in str(e):
                return True
            raise
        ops = [line.strip().split("|")[0].strip().lower() for line in plan]
        if set(ops) & {"create", "merge", "delete", "update", "foreach"}:
            return True
        calls = ops.count("procedurecall")
        if not calls:
            return False
        modes = {
            str(r["name"]).lower(): str(r["mode"]).upper()
            for r in self._send("CALL dbms.procedures() YIELD name, mode RETURN name, mode", read_only=True)
        }
        names = [re.sub(r"[`\s]", "", name).lower() for name in _CALLS.findall(_LITERALS.sub(" ", text))]
        return len(names) < calls or any(modes.get(name) != "READ" for name in names)

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
        for row in self.query(SCHEMA_INDEXES):
            types = row.get("types") or {}
            if row["label"] == label and prop in (row.get("properties") or []) and "VECTOR" in str(types.get(prop)):
                return (row.get("options") or {}).get(prop) or {}
        return None

    def _indexed(self) -> dict[tuple[str, str], str]:
        """{(label, property): index types} for node indexes."""
        found: dict[tuple[str, str], str] = {}
        for row in self.query(SCHEMA_INDEXES):
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
                    self._run(queries.render(SCHEMA_KEY_INDEX, self.dialect, label=label, key=key))
                except QueryError as e:  # another process created it since we looked
                    if not _already_there(e):
                        raise
                    logger.debug("index on %s.%s: %s", label, key, e)
            if (label, (key,)) not in constraints:
                try:
                    self.client.connection.execute_command(
                        "GRAPH.CONSTRAINT", "CREATE", self.graph_name, "UNIQUE", "NODE", label, "PROPERTIES", 1, key
                    )
                except Exception as e:  # raced or already there
                    if not _already_there(e):
                        raise StoreError(f"cannot create uniqueness on {label}.{key}: {e}") from e

    def _constraints(self) -> list[tuple[str, str, list[str]]]:
        rows = self.query(SCHEMA_CONSTRAINTS)
        return [(r["type"], r["label"], list(r["properties"])) for r in rows]

    def ensure_vector_index(self, label: str, dim: int, prop: str = "embedding") -> None:
        options = self._vector_index_options(label, prop)
        if options is not None:
            if int(options.get("dimension", dim)) == dim:
                return
            self.drop_vector_index(label, prop)
        self._run(queries.render(VECTOR_INDEX_CREATE, self.dialect, label=label, prop=prop), {"dim": int(dim)})

    def drop_vector_index(self, label: str, prop: str = "embedding") -> bool:
        if self._vector_index_options(label, prop) is None:
            return False
        self._run(queries.render(VECTOR_INDEX_DROP, self.dialect, label=label, prop=prop))
        return True

    def vector_index_ready(self, label: str, prop: str = "embedding") -> bool | None:
        # FalkorDB reports one status per label ('OPERATIONAL' when every index on it is built)
        for row in self.query(VECTOR_INDEX_STATUS):
            types = row.get("types") or {}
            if row.get("label") == label and "VECTOR" in str(types.get(prop)):
                return str(row.get("status")) == "OPERATIONAL"
        return None

    def vector_search(self, label: str, vector: list[float], k: int, prop: str = "embedding") -> list[dict[str, Any]]:
        # Over-fetch: after a vector is overwritten, its stale HNSW entry still takes a slot and is
        # filtered out afterwards, so asking for exactly k can return fewer than k hits.
        text = queries.render(VECTOR_SEARCH, self.dialect, key=schema.key_of(label))
        rows = self._run(
            text, {"label": label, "prop": prop, "k": int(k) * 2 + 10, "vector": [float(x) for x in vector]}
        )
        return rows[: int(k)]

    def version(self) -> str:
        try:
            modules = self.client.connection.execute_command("MODULE", "LIST")
            for module in modules:
                # A flat key/value reply: a dangling last key (malformed reply) is dropped.
                fields = dict(zip(module[::2], module[1::2], strict=False))
                name = fields.get(b"name", fields.get("name"))
                if name in (b"graph", "graph"):
                    raw = fields.get(b"ver", fields.get("ver"))
                    ver = int(raw) if raw is not None else 0
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
        return {
            "compacted": embedded,
            "query_log_dropped": dropped,
            "snapshot": bool(embedded and self.server.save_snapshot()),
        }

    def server_traces(self, needles: list[str]) -> list[str]:
        """Keys of the server (this graph's ``telemetry{graph}`` stream, and plain string, list, hash and set
        keys) whose values hold one of ``needles``, read through the client: what the compressed snapshot
        and append-only log hold, decompressed. Graph keys are checked by queries, not here."""
        connection = getattr(self.client, "connection", None)
        wanted = [n.encode("utf-8") for n in needles if n]
        if connection is None or not wanted:
            return []
        found = []
        own = f"telemetry{{{self.graph_name}}}".encode()
        for key in connection.scan_iter(count=1000):
            if _as_bytes(key).startswith(b"telemetry{") and _as_bytes(key) != own:
                continue  # another graph's (another data set's) query log
            kind = connection.type(key)
            kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            chunks: Iterator[Any]
            if kind == "stream":
                chunks = self._stream_entries(connection, key)
            elif kind == "string":
                chunks = iter([connection.get(key)])
            elif kind == "list":
                chunks = iter(connection.lrange(key, 0, -1))
            elif kind == "hash":
                chunks = iter(connection.hgetall(key).items())
            elif kind == "set":
                chunks = iter(connection.smembers(key))
            else:
                continue
            if any(n in _as_bytes(chunk) for chunk in chunks for n in wanted) or any(
                n in _as_bytes(key) for n in wanted
            ):
                found.append(f"server key {_as_bytes(key).decode('utf-8', 'replace')}")
        return found

    @staticmethod
    def _stream_entries(connection: Any, key: Any, page: int = 1000) -> Iterator[Any]:
        start = "-"
        while True:
            entries = connection.xrange(key, min=start, max="+", count=page)
            yield from entries
            if len(entries) < page:
                return
            start = "(" + (_as_bytes(entries[-1][0]).decode())

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
