"""Behaviour edges as a materialised view of the event ledger (:class:`kg.ledger.EventLedger`).

``(:User)-[:VIEWED|CARTED|PURCHASED|RATED]->(:Product)`` carries the absolute aggregates of its
(user, item, type) pair: ``count, first_at, last_at, first_date, last_date, rating``. Ingest writes
the pairs a batch touched (:func:`write_pairs`); :func:`rebuild_behaviour` rewrites every pair
(``kg rebuild``), e.g. after edges were deleted or a graph restored from an older backup.

>>> summary = rebuild_behaviour(store, EventLedger.from_settings(settings))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from kg.ingest.cypher import (
    EVENTS_CREATE,
    EVENTS_DELETE_EDGES,
    EVENTS_EDGES_PAGE,
    EVENTS_MAX_USER_ID,
    EVENTS_MERGE,
    EVENTS_SET,
    RELATIONSHIP_COUNT,
)
from kg.ingest.records import EVENT_TYPES
from kg.ledger import EventLedger, EventRow, PairAggregate, TouchedJson
from kg.store import GraphStore, batched
from kg.store.queries import Query

__all__ = [
    "graph_rows",
    "write_pairs",
    "add_view",
    "write_view",
    "can_create_fresh",
    "view_rows",
    "rebuild_behaviour",
    "REL_TYPES",
    "GRAPH_FIELDS",
    "VIEW_SEPARATOR",
    "ViewBatch",
]

logger = logging.getLogger(__name__)

#: relationship type -> ledger event type
REL_TYPES: dict[str, str] = {rel: kind for kind, rel in EVENT_TYPES.items()}
_PAGE_IDS = 20_000

ProgressHook = Callable[[int, int], None]  # (pairs done, pairs total)


#: the fields of a graph row, in the order ``events_merge``/``events_set`` read them (``row[0]`` ...)
GRAPH_FIELDS: tuple[str, ...] = ("user", "item", "count", "first_at", "last_at", "first_date", "last_date", "rating")
_GRAPH_ROW = itemgetter(*(PairAggregate._fields.index(f) for f in GRAPH_FIELDS))
#: what separates the rows of one type in a :data:`ViewBatch` text (JSON escapes it inside strings)
VIEW_SEPARATOR = "\x1e"
#: what :func:`add_view` returns: ``{type: rows text}`` for the pairs known before the batch and the fresh ones
ViewBatch = TouchedJson


def add_view(ledger: EventLedger, events: Iterable[EventRow]) -> ViewBatch:
    """Store ``events`` in the ledger (:meth:`EventLedger.add`) and get the touched pairs as graph rows: one
    JSON array of :data:`GRAPH_FIELDS` per pair, joined by :data:`VIEW_SEPARATOR`, per type, split by whether
    the ledger held the pair before (SQLite builds the texts in one step: no Python object per pair)."""
    return ledger.add_json(events, GRAPH_FIELDS, VIEW_SEPARATOR)


def graph_rows(pairs: Iterable[PairAggregate]) -> dict[str, list[tuple[Any, ...]]]:
    """Edge rows per relationship type, one per pair: tuples of :data:`GRAPH_FIELDS` (positional
    rows: a third of the text of maps to encode, and no key per value for the server to parse)."""
    per_rel: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for pair in pairs:
        per_rel[EVENT_TYPES[pair.type]].append(_GRAPH_ROW(pair))
    return per_rel


def write_pairs(
    store: GraphStore, pairs: Iterable[PairAggregate], *, query: Query = EVENTS_MERGE, batch_size: int | None = None
) -> int:
    """Write the edges of ``pairs`` (``events_merge``: never moves an edge back; ``events_set``: overwrite)."""
    written = 0
    for rel, rows in sorted(graph_rows(pairs).items()):
        written += store.write(query, rows, batch_size=batch_size or len(rows) or 1, identifiers={"rel": rel})
    return written


def view_rows(text: str, store: GraphStore | None = None) -> list[Any]:
    """The rows of one type in :func:`add_view`'s text, as ``store.write`` takes them.

    A store with a ``json_rows(texts)`` hook (texts: JSON arrays of strings, numbers and nulls with
    no escapes; FalkorDB sends such JSON verbatim, as it is already a Cypher literal) gets the row
    texts as they are; otherwise, or when an escape occurs, the rows are decoded."""
    prepare = getattr(store, "json_rows", None)
    if prepare is not None and "\\" not in text:
        return list(prepare(text.split(VIEW_SEPARATOR)))
    return json.loads("[" + text.replace(VIEW_SEPARATOR, ",") + "]")


def write_view(store: GraphStore, view: ViewBatch, *, batch_size: int | None = None, create_fresh: bool = False) -> int:
    """Write the edges of one :func:`add_view` batch: ``events_merge`` for every pair, or,
    with ``create_fresh`` (see :func:`can_create_fresh`), ``events_create`` for the pairs new to the ledger."""
    written = 0
    fresh_query = EVENTS_CREATE if create_fresh else EVENTS_MERGE
    for query, texts in ((EVENTS_MERGE, view.known), (fresh_query, view.fresh)):
        for kind, text in sorted(texts.items()):
            if not text:
                continue
            rows = view_rows(text, store)
            written += store.write(
                query, rows, batch_size=batch_size or len(rows), identifiers={"rel": EVENT_TYPES[kind]}
            )
    return written


def can_create_fresh(store: GraphStore, ledger: EventLedger) -> bool:
    """Whether the graph's behaviour edges match the ledger's pairs one to one, per type (counts equal).

    Then a pair new to the ledger has no edge yet and can be created without MERGE's search. Any
    difference (edges from before the ledger, a crashed run's missing edges, edges made by hand,
    another ledger) keeps every write a MERGE."""
    pairs = ledger.pair_counts()
    for kind, rel in EVENT_TYPES.items():
        rows = store.query(RELATIONSHIP_COUNT, identifiers={"rel": rel})
        edges = int(rows[0]["n"]) if rows else 0
        if edges != pairs.get(kind, 0):
            logger.info(
                "%s edges (%d) differ from the ledger's %s pairs (%d): new pairs are merged",
                rel,
                edges,
                kind,
                pairs.get(kind, 0),
            )
            return False
    return True


def _scan_edges(store: GraphStore, ledger: EventLedger, *, keep_unknown: bool) -> dict[str, Any]:
    """Page through every behaviour edge: import pre-ledger ``event_times`` into the ledger, and
    find the edges whose pair the ledger does not hold."""
    top = store.query(EVENTS_MAX_USER_ID)
    max_id = top[0]["max_id"] if top else None
    found: dict[str, Any] = {"edges": 0, "legacy_edges": 0, "legacy_events": 0, "unknown": []}
    if max_id is None:
        return found
    for lo in range(0, int(max_id) + 1, _PAGE_IDS):
        for rel, kind in REL_TYPES.items():
            rows = store.query(EVENTS_EDGES_PAGE, identifiers={"rel": rel}, lo=lo, hi=lo + _PAGE_IDS)
            if not rows:
                continue
            found["edges"] += len(rows)
            legacy = [r for r in rows if r.get("times")]
            if legacy:
                found["legacy_edges"] += len(legacy)
                found["legacy_events"] += _import_legacy(ledger, kind, legacy)
            keys = [(r["user"], r["item"], kind) for r in rows]
            known = ledger.known_pairs(keys)
            unknown = [(rel, user, item) for user, item, k in keys if (user, item, k) not in known]
            found["unknown"].extend(unknown if keep_unknown else [None] * len(unknown))
    return found


def _import_legacy(ledger: EventLedger, kind: str, rows: list[dict[str, Any]]) -> int:
    """Events of pre-ledger edges (distinct times; the edge's rating belongs to its latest time)."""
    events: list[EventRow] = []
    for row in rows:
        times = sorted(int(t) for t in row["times"])
        rating = row.get("rating") if kind == "rating" else None
        events.extend((row["user"], row["item"], kind, t, rating if t == times[-1] else None) for t in times)
    new = 0
    for chunk in batched(events, 5000):
        ledger.add(chunk)
        new += ledger.last_new_events
    return new


def rebuild_behaviour(
    store: GraphStore, ledger: EventLedger, *, remove_unknown: bool = False, progress: ProgressHook | None = None
) -> dict[str, Any]:
    """Rewrite every behaviour edge from the ledger's pair aggregates.

    Edges written before the ledger existed (with an ``event_times`` list) are first imported into
    the ledger, so nothing is lost. Behaviour edges whose pair the ledger does not hold are left
    alone and counted (``unknown_edges``), or deleted when ``remove_unknown`` (``unknown_removed``).
    Returns ``{"pairs", "edges_written", "by_type", "edges_before", "legacy_edges", "legacy_events",
    "unknown_edges", "unknown_removed", "seconds"}``.
    """
    started = time.perf_counter()
    scan = _scan_edges(store, ledger, keep_unknown=remove_unknown)
    total = ledger.counts()["pairs"]
    by_type: dict[str, int] = defaultdict(int)
    done = 0
    for chunk in batched(ledger.pairs(), store.batch_size):
        for rel, rows in sorted(graph_rows(chunk).items()):
            store.write(EVENTS_SET, rows, batch_size=len(rows), identifiers={"rel": rel})
            by_type[rel] += len(rows)
        done += len(chunk)
        if progress:
            progress(done, total)
    removed = 0
    if remove_unknown and scan["unknown"]:
        per_rel: dict[str, list[dict[str, str]]] = defaultdict(list)
        for rel, user, item in scan["unknown"]:
            per_rel[rel].append({"user": user, "item": item})
        for rel, pairs in sorted(per_rel.items()):
            removed += store.write(EVENTS_DELETE_EDGES, pairs, identifiers={"rel": rel})
    store.flush()
    store.compact()
    result = {
        "pairs": total,
        "edges_written": done,
        "by_type": dict(sorted(by_type.items())),
        "edges_before": scan["edges"],
        "legacy_edges": scan["legacy_edges"],
        "legacy_events": scan["legacy_events"],
        "unknown_edges": len(scan["unknown"]),
        "unknown_removed": removed,
        "seconds": round(time.perf_counter() - started, 3),
    }
    logger.info("rebuilt behaviour edges: %s", result)
    return result
