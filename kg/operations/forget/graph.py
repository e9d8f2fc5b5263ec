"""The graph and ledger steps of a forget: what the graph holds about the person (read first), the
aggregates they contributed to corrected, their reviews, node and the nodes only they made deleted, and
their events dropped from the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kg.analyst.cypher import USER_EXISTS
from kg.foundation.settings import Settings
from kg.ingest.cypher import REVIEWS_PRODUCT_ASPECTS, REVIEWS_PRODUCT_ASPECTS_CLEAR
from kg.ledger import EventLedger
from kg.operations.cypher import (
    FORGET_ORPHANS,
    FORGET_POPULAR,
    FORGET_POPULAR_ZERO,
    FORGET_REVIEWS_DELETE,
    FORGET_SEGMENT,
    FORGET_SEGMENT_EMPTY,
    FORGET_TOGETHER,
    FORGET_TOGETHER_ZERO,
    FORGET_USER_DELETE,
    FORGET_USER_ITEMS,
    FORGET_USER_RELATIONSHIPS,
    FORGET_USER_REVIEWS,
    FORGET_USER_SEGMENT,
)
from kg.operations.forget.progress import _Progress
from kg.store import GraphStore


def _count_rows(rows: list[dict[str, Any]], key: str) -> int:
    return int(rows[0][key] or 0) if rows else 0


def _gather(store: GraphStore, pseudonym: str) -> dict[str, Any]:
    """What the graph holds about the person, read before anything is deleted."""
    exists = store.query(USER_EXISTS, id=pseudonym)
    rels = {row["type"]: int(row["n"]) for row in store.query(FORGET_USER_RELATIONSHIPS, id=pseudonym)}
    items = store.query(FORGET_USER_ITEMS, id=pseudonym)
    segments = store.query(FORGET_USER_SEGMENT, id=pseudonym)
    reviews = store.query(FORGET_USER_REVIEWS, id=pseudonym)
    row = reviews[0] if reviews else {}
    return {
        "exists": bool(exists),
        "relationships": rels,
        "items": sorted({r["id"] for r in items}),
        "positive": {r["id"] for r in items if int(r["positive"] or 0)},
        "segments": [(int(s["segment"]), s["run"]) for s in segments if s.get("segment") is not None],
        "reviews": int(row.get("reviews") or 0),
        "mentions": int(row.get("mentions") or 0),
        "reviewed": sorted({p for ps in row.get("products") or [] for p in ps or []}),
        "aspects": sorted({a for aspects in row.get("aspects") or [] for a in aspects or []}),
    }


def _ledger_pairs(settings: Settings, pseudonym: str) -> list[Any]:
    if not settings.ledger_path.is_file():
        return []
    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        return list(ledger.pairs(users=[pseudonym]))


def _correct_aggregates(
    store: GraphStore, pseudonym: str, seen: dict[str, Any], positive: list[str], progress: _Progress | None = None
) -> dict[str, int]:
    """BOUGHT_TOGETHER counts and the segment's size and POPULAR_IN shares, without the person. Each
    decrement marks the person's IN_SEGMENT edge in the same query (and is recorded in ``progress``), so a
    resumed forget never makes it twice, even after a crash between the query and the record."""
    out = {
        "together_decremented": 0,
        "together_deleted": 0,
        "segment_sizes": 0,
        "popular_updated": 0,
        "popular_deleted": 0,
        "segments_deleted": 0,
    }
    done: Callable[[str], Any] = progress.done if progress is not None else (lambda step: None)
    mark: Callable[..., None] = progress.mark if progress is not None else (lambda step, value=True: None)
    for segment, run in seen["segments"]:
        step = f"{segment}:{run}"
        if len(positive) >= 2:
            if not done(f"together:{step}"):
                out["together_decremented"] += _count_rows(
                    store.query(FORGET_TOGETHER, id=pseudonym, items=positive, run=run), "decremented"
                )
                mark(f"together:{step}")
            out["together_deleted"] += _count_rows(store.query(FORGET_TOGETHER_ZERO, items=positive), "deleted")
        size = done(f"segment:{step}")
        if size is None:
            rows = store.query(FORGET_SEGMENT, id=pseudonym, segment=segment, run=run)
            size = int(rows[0]["size"] or 0) if rows else False
            mark(f"segment:{step}", size)
        if size is False:
            continue
        out["segment_sizes"] += 1
        if size <= 0:
            out["segments_deleted"] += _count_rows(store.query(FORGET_SEGMENT_EMPTY, segment=segment), "deleted")
            continue
        if not done(f"popular:{step}"):
            out["popular_updated"] += _count_rows(
                store.query(FORGET_POPULAR, id=pseudonym, segment=segment, run=run, size=size, items=positive),
                "updated",
            )
            mark(f"popular:{step}")
        out["popular_deleted"] += _count_rows(store.query(FORGET_POPULAR_ZERO, segment=segment), "deleted")
    return out


def _delete_from_graph(store: GraphStore, pseudonym: str, seen: dict[str, Any]) -> dict[str, int]:
    """Reviews (then their products' aspect aggregates), the user node, and nodes only they made."""
    out = {"reviews": _count_rows(store.query(FORGET_REVIEWS_DELETE, id=pseudonym), "deleted")}
    if seen["reviewed"]:
        store.write(REVIEWS_PRODUCT_ASPECTS_CLEAR, seen["reviewed"])
        store.write(REVIEWS_PRODUCT_ASPECTS, seen["reviewed"], batch_size=500)
    out["user"] = _count_rows(store.query(FORGET_USER_DELETE, id=pseudonym), "deleted")
    orphans = 0
    for label, key, values in (
        ("Aspect", "name", seen["aspects"]),
        ("Product", "id", seen["items"] + seen["reviewed"]),
    ):
        if values:
            orphans += _count_rows(
                store.query(FORGET_ORPHANS, identifiers={"label": label, "key": key}, rows=sorted(set(values))),
                "deleted",
            )
    out["orphan_nodes"] = orphans
    store.flush()
    return out


def _forget_ledger(settings: Settings, pseudonym: str) -> None:
    if not settings.ledger_path.is_file():
        return
    with EventLedger.from_settings(settings) as ledger:
        ledger.delete_user(pseudonym, vacuum=True)  # rewrites the file without the freed pages
        ledger.checkpoint()  # and truncates the write-ahead log: no old page stays in it
