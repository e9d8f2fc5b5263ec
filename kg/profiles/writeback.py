"""Write profile results into the graph through the store's batched write path.

Every derived edge carries the ``run`` that wrote it. A run replaces per user (the user's old edges
go, the new ones come, batch by batch), then removes what earlier runs left for users it no longer
profiles, so re-running never duplicates and never touches data kg profiles did not create.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from kg.foundation.schema import key_of
from kg.profiles.cypher import (
    INTERESTS_WRITE,
    MEMBERSHIP_WRITE,
    POPULAR_CLEAR,
    POPULAR_WRITE,
    RECOMMENDED_WRITE,
    SEGMENTS_STALE,
    SEGMENTS_WRITE,
    STALE_CLEAR,
    TOGETHER_CLEAR,
    TOGETHER_WRITE,
    USER_EDGES_CLEAR,
)
from kg.store import GraphStore, batched
from kg.store.queries import Query

__all__ = ["write_interests", "write_segments", "write_recommendations", "write_together", "clear_stale"]

logger = logging.getLogger(__name__)

Tick = Callable[[int], None]
#: the rows of a chunk of users, made when the chunk is written (a shop's rows need not all be in memory)
RowsOf = Callable[[Sequence[str]], list[dict[str, Any]]]
_DELETE_PAGE = 10_000


def _page_delete(store: GraphStore, query: Query, *, identifiers: dict[str, str] | None = None, **params: Any) -> int:
    total = 0
    while True:
        rows = store.query(query, identifiers=identifiers, limit=_DELETE_PAGE, **params)
        deleted = int(rows[0]["deleted"]) if rows else 0
        total += deleted
        if deleted < _DELETE_PAGE:
            return total


def _rows_of(rows: Iterable[dict[str, Any]] | RowsOf) -> RowsOf:
    """``rows`` as a function of a chunk of users (rows given as a list are grouped by user first)."""
    if callable(rows):
        return rows
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["user"]].append(row)
    return lambda chunk: [row for user in chunk for row in grouped.get(user, ())]


def _replace_user_edges(
    store: GraphStore,
    rel: str,
    users: Sequence[str],
    rows_of: RowsOf,
    write: Callable[[list[dict[str, Any]]], object],
    *,
    users_per_batch: int,
    tick: Tick | None,
) -> int:
    written = 0
    for chunk in batched(users, users_per_batch):
        store.write(USER_EDGES_CLEAR, chunk, identifiers={"rel": rel})
        rows = rows_of(chunk)
        if rows:
            write(rows)
        written += len(rows)
        if tick:
            tick(len(chunk))
    return written


def write_interests(
    store: GraphStore,
    rows: Iterable[dict[str, Any]] | RowsOf,
    users: Sequence[str],
    *,
    run: str,
    updated_at: int,
    users_per_batch: int = 2_000,
    tick: Tick | None = None,
) -> int:
    """``(:User)-[:INTERESTED_IN {score, updated_at, run}]->(:Category|:Brand|:Aspect)`` for ``users``;
    rows ``{user, label, key, score}`` (or a function giving those of a chunk of users). Returns edges
    written."""

    def write(batch: list[dict[str, Any]]) -> None:
        per_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in batch:
            per_label[row["label"]].append({"user": row["user"], "key": row["key"], "score": row["score"]})
        for label, label_rows in per_label.items():
            store.write(
                INTERESTS_WRITE,
                label_rows,
                identifiers={"label": label, "key": key_of(label)},
                run=run,
                updated_at=updated_at,
            )

    return _replace_user_edges(
        store, "INTERESTED_IN", users, _rows_of(rows), write, users_per_batch=users_per_batch, tick=tick
    )


def write_segments(
    store: GraphStore,
    segments: Sequence[dict[str, Any]],
    membership: dict[str, int],
    popular: Sequence[dict[str, Any]],
    *,
    run: str,
    users_per_batch: int = 5_000,
    tick: Tick | None = None,
) -> int:
    """``(:Segment)`` nodes, each user's ``IN_SEGMENT`` edge and each segment's ``POPULAR_IN`` products.
    Segments of earlier runs that this one did not rewrite are deleted. Returns memberships written."""
    store.write(SEGMENTS_WRITE, list(segments), run=run)
    _page_delete(store, POPULAR_CLEAR)
    store.write(POPULAR_WRITE, list(popular), run=run)
    written = _replace_user_edges(
        store,
        "IN_SEGMENT",
        list(membership),
        lambda chunk: [{"user": user, "segment": membership[user]} for user in chunk],
        lambda batch: store.write(MEMBERSHIP_WRITE, batch, run=run),
        users_per_batch=users_per_batch,
        tick=tick,
    )
    store.query(SEGMENTS_STALE, run=run)
    return written


def write_together(store: GraphStore, pairs: Iterable[dict[str, Any]], *, run: str) -> int:
    """Replace every ``BOUGHT_TOGETHER`` edge with ``pairs`` (``{source, target, count}``)."""
    _page_delete(store, TOGETHER_CLEAR)
    return store.write(TOGETHER_WRITE, pairs, run=run)


def write_recommendations(
    store: GraphStore,
    rows: Iterable[dict[str, Any]],
    users: Sequence[str],
    *,
    run: str,
    users_per_batch: int = 2_000,
    tick: Tick | None = None,
) -> int:
    """``(:User)-[:RECOMMENDED {score, rank, run, reason, path, path_types}]->(:Product)`` for ``users``."""
    return _replace_user_edges(
        store,
        "RECOMMENDED",
        users,
        _rows_of(rows),
        lambda batch: store.write(RECOMMENDED_WRITE, batch, run=run),
        users_per_batch=users_per_batch,
        tick=tick,
    )


def clear_stale(
    store: GraphStore, *, run: str, rels: Sequence[str] = ("INTERESTED_IN", "IN_SEGMENT", "RECOMMENDED")
) -> dict[str, int]:
    """Remove edges of ``rels`` that earlier runs wrote for users this run no longer profiles."""
    return {rel: _page_delete(store, STALE_CLEAR, identifiers={"rel": rel}, run=run) for rel in rels}
