"""The thin graph-store layer: named Cypher queries, batched writes, and the dialect hooks.

Backends implement :meth:`GraphStore._run` and the few operations whose syntax differs
(schema, vector indexes); everything else is shared here.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

from kg.foundation import schema
from kg.store import queries
from kg.store.cypher import (
    EMBED_MAX_NODE_ID,
    EMBED_NODE_KEYS,
    EMBED_TRIPLE_IDS,
    STATS_NODES,
    STATS_RELATIONSHIPS,
    VECTOR_SET,
)
from kg.store.queries import Query

__all__ = ["GraphStore", "batched"]

logger = logging.getLogger(__name__)


def batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of at most ``size`` items from ``rows``."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _floats(vector: Any) -> list[float]:
    """A vector (list or numpy array) as a list of Python floats, without copying one that is already."""
    if hasattr(vector, "tolist"):
        vector = vector.tolist()
    vector = list(vector)
    return vector if all(type(x) is float for x in vector) else [float(x) for x in vector]


class GraphStore(ABC):
    """A graph database kg can read and write. Use :func:`kg.store.open_store` to get one."""

    dialect: str = ""
    #: the largest LIMIT or SKIP count the server takes as given
    max_count: int = 2**63 - 1

    def __init__(self, *, batch_size: int = 5000) -> None:
        self.batch_size = batch_size

    # -- backend hooks ---------------------------------------------------------------------
    @abstractmethod
    def _run(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one Cypher statement; rows as dicts keyed by column name."""

    @abstractmethod
    def ensure_schema(self) -> None:
        """Uniqueness on the key of every label in :data:`kg.foundation.schema.KEYS` (idempotent)."""

    @abstractmethod
    def ensure_vector_index(self, label: str, dim: int, prop: str = "embedding") -> None:
        """A cosine vector index on ``label.prop`` with ``dim`` dimensions (recreated if dim changed)."""

    def drop_vector_index(self, label: str, prop: str = "embedding") -> bool:
        """Drop the vector index on ``label.prop`` before a bulk vector write (EMBED); True when one was dropped.

        Default: keep it (Neo4j updates its vector indexes cheaply); FalkorDB overrides this because
        every indexed vecf32 overwrite is ~10x slower than writing unindexed and re-indexing.
        """
        return False

    def vector_index_ready(self, label: str, prop: str = "embedding") -> bool | None:
        """True when the vector index on ``label.prop`` is built, False while it builds, None when there is none."""
        raise NotImplementedError(f"{type(self).__name__} cannot report vector index states")

    def build_vector_index(self, label: str, dim: int, *, prop: str = "embedding", timeout: float = 300.0) -> bool:
        """Create the vector index on ``label.prop`` (if missing) and wait until the server reports it ready.

        Returns False when it is still building after ``timeout`` seconds. The index is re-ensured
        on every poll: FalkorDB drops indexes lazily, so one dropped just before may vanish late.
        """
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            self.ensure_vector_index(label, dim, prop)
            if self.vector_index_ready(label, prop):
                return True
            if time.monotonic() > deadline:
                logger.warning("vector index on %s.%s not ready after %.0f s", label, prop, timeout)
                return False
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    @abstractmethod
    def vector_search(self, label: str, vector: list[float], k: int, prop: str = "embedding") -> list[dict[str, Any]]:
        """The ``k`` nodes nearest ``vector``: ``[{"key", "score"}]``, score = cosine similarity, best first."""

    @abstractmethod
    def version(self) -> str:
        """Server product and version, e.g. ``FalkorDB 4.16.3``."""

    @abstractmethod
    def clear(self) -> None:
        """Delete the whole graph (tests, ``kg demo --fresh``)."""

    def compact(self) -> None:
        """Compact the server's write log after bulk writes (no-op where not needed)."""
        return None  # a deliberate no-op default, not an abstract hook: backends override it when needed

    def pick_variant(self, texts: Mapping[str, str]) -> str:
        """This backend's text from ``{"falkordb"|"neo4j"|"portable": text}`` (analyst library variants)."""
        return texts.get(self.dialect) or texts["portable"]

    def purge_traces(self) -> dict[str, bool]:
        """After deleting a person: make the server's own files forget them too (query logs, append-only
        logs, snapshots) where kg runs the server. Returns what was done; here (external servers) nothing:
        their logs and backups are the operator's."""
        return {"compacted": False, "query_log_dropped": False, "snapshot": False}

    def server_traces(self, needles: list[str]) -> list[str]:
        """Where the server's own data (outside the graph: query logs, streams) still holds one of ``needles``,
        read through the client (so compressed snapshots hide nothing); here (external servers) not checked."""
        return []

    def close(self) -> None:
        """Release connections."""
        return None  # a deliberate no-op default, not an abstract hook: backends override it when needed

    # -- shared ----------------------------------------------------------------------------
    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(
        self, query: Query, /, *, identifiers: Mapping[str, str] | None = None, **params: Any
    ) -> list[dict[str, Any]]:
        """Run ``query`` (a :class:`~kg.store.queries.Query` constant) with ``params``; ``identifiers`` fill its
        ``{{placeholders}}`` (labels, types, property names), each escaped by :func:`kg.store.queries.ident`."""
        text = queries.render(query, self.dialect, **identifiers) if identifiers else queries.load(query, self.dialect)
        return self._run(text, params)

    def execute(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run Cypher text as given, writes allowed (tests, ``kg cypher --write``)."""
        return self._run(text, params or {})

    # -- analysts' access (``kg cypher``) ---------------------------------------------------
    def read(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run Cypher text read-only: a query that would write is refused by the server."""
        return self._run_read(text, params or {})

    @abstractmethod
    def _run_read(self, text: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Backend hook: run ``text`` in the server's read-only mode."""

    @abstractmethod
    def explain(self, text: str, params: Mapping[str, Any] | None = None) -> list[str]:
        """The execution plan of ``text`` as indented lines, without running it."""

    @abstractmethod
    def profile(self, text: str, params: Mapping[str, Any] | None = None, *, write: bool = False) -> list[str]:
        """Run ``text`` and return its plan with per-operator counts, as indented lines; a query that
        writes is refused (QueryError) unless ``write``."""

    def writes(self, text: str, params: Mapping[str, Any] | None = None) -> bool:
        """Whether ``text`` would write, judged from its plan (nothing runs)."""
        ops = {line.strip().split("|")[0].strip().lower() for line in self.explain(text, params)}
        return bool(ops & {"create", "merge", "delete", "update", "foreach"})

    # -- node identity for exports (EMBED) ---------------------------------------------------
    # Exports page through the graph by dense integer node ids. FalkorDB's internal ids are
    # exactly that; Neo4j 5 identifies nodes by elementId() strings, which its backend maps to
    # integers for the span of one export (starting at :meth:`node_id_bound`).
    def node_id_bound(self) -> int | None:
        """The largest node id when an export starts (None on an empty graph)."""
        rows = self.query(EMBED_MAX_NODE_ID)
        return rows[0]["max_id"] if rows else None

    def triple_id_page(self, rel: str, lo: int, hi: int) -> tuple[list[int], list[int]]:
        """(head ids, tail ids) of the ``rel`` relationships whose head id is in [lo, hi)."""
        rows = self.query(EMBED_TRIPLE_IDS, identifiers={"rel": rel}, lo=lo, hi=hi)
        return (list(rows[0]["h"]), list(rows[0]["t"])) if rows else ([], [])

    def node_key_page(self, lo: int, hi: int, keys: Mapping[str, str]) -> tuple[list[int], list[str], list[Any]]:
        """(ids, labels, key values) of the keyed nodes whose id is in [lo, hi)."""
        rows = self.query(EMBED_NODE_KEYS, lo=lo, hi=hi, keys=dict(keys))
        row = rows[0] if rows else {"ids": [], "labels": [], "keys": []}
        return list(row["ids"]), list(row["labels"]), list(row["keys"])

    def flush(self) -> None:
        """Wait until every write sent so far has been applied (backends that pipeline writes)."""
        return None  # a deliberate no-op default, not an abstract hook: backends override it when needed

    def write(
        self,
        query: Query,
        rows: Iterable[Any],
        *,
        batch_size: int | None = None,
        identifiers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> int:
        """Run ``query``, an ``UNWIND $rows AS row ...`` :class:`~kg.store.queries.Query`, once per batch;
        returns rows sent. A row is whatever the query unwinds: a parameter map, an id or a list."""
        text = (
            queries.render(query, self.dialect, **(identifiers or {}))
            if identifiers
            else queries.load(query, self.dialect)
        )
        sent = 0
        for chunk in batched(rows, batch_size or self.batch_size):
            self._write_batch(text, {**params, "rows": chunk})
            sent += len(chunk)
        return sent

    def _write_batch(self, text: str, params: Mapping[str, Any]) -> None:
        """Send one batch of a write (backends may pipeline it; see :meth:`flush`)."""
        self._run(text, params)

    def _vector_value(self, vector: Any) -> Any:
        """A vector as this backend's driver takes it (here: a list of Python floats)."""
        return _floats(vector)

    def set_vectors(
        self, label: str, rows: Iterable[dict[str, Any]], *, prop: str = "embedding", batch_size: int | None = None
    ) -> int:
        """Write vectors: rows ``{"key", "vector", "props"}`` onto ``(:label {key})`` nodes."""
        normalised = (
            {"key": r["key"], "vector": self._vector_value(r["vector"]), "props": r.get("props") or {}} for r in rows
        )
        return self.write(
            VECTOR_SET,
            normalised,
            batch_size=batch_size or min(self.batch_size, 2000),
            identifiers={"label": label, "key": schema.key_of(label), "prop": prop},
        )

    def stats(self) -> dict[str, dict[str, int]]:
        """``{"nodes": {label: n}, "relationships": {type: n}}``."""
        nodes = {row["label"]: int(row["n"]) for row in self.query(STATS_NODES)}
        rels = {row["type"]: int(row["n"]) for row in self.query(STATS_RELATIONSHIPS)}
        return {"nodes": nodes, "relationships": rels}
