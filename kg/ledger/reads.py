"""Queries over the ledger's events and pair aggregates, each a function of an open connection.

:data:`PAIR_SQL` says how each :class:`PairAggregate` field is read from ``pairs AS p`` joined to its
dictionaries (``u``, ``i``, ``k``); the writes use it too, for the pairs a batch touched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from kg.ledger.records import LedgerEvent, PairAggregate

__all__ = [
    "PAIR_JOINS",
    "PAIR_JSON_SQL",
    "PAIR_SQL",
    "chunks",
    "counts",
    "batch_written_at",
    "events_between",
    "events_of_users",
    "events_touched_since",
    "known_pairs",
    "last_batch",
    "pair",
    "pair_counts",
    "pairs",
    "users_touched_since",
]

_CHUNK = 900  # rows per IN (...) lookup: well under SQLite's variable limit


def _day(column: str) -> str:
    """A time's UTC day from whole seconds, floored: exactly ``date(ms / 1000.0, 'unixepoch')`` for any
    sign, at half its cost (integer seconds take SQLite's fast path)."""
    return f"date(({column} - ({column} % 1000 + 1000) % 1000) / 1000, 'unixepoch')"


#: PairAggregate field -> its SQL expression over ``pairs AS p`` and the dictionaries ``u``, ``i``, ``k``
PAIR_SQL: dict[str, str] = {
    "user": "u.name",
    "item": "i.name",
    "type": "k.name",
    "count": "p.count",
    "first_at": "p.first_at",
    "last_at": "p.last_at",
    "rating": "p.rating",
    "rating_at": "p.rating_at",
    "first_date": _day("p.first_at"),
    "last_date": _day("p.last_at"),
}
if tuple(PAIR_SQL) != PairAggregate._fields:  # pragma: no cover - a change to one must follow the other
    raise ImportError(f"PAIR_SQL {tuple(PAIR_SQL)} differs from PairAggregate's fields {PairAggregate._fields}")
#: the same as JSON values: the rating travels as its exact 17-digit text (SQLite's JSON alone writes
#: reals with 15 significant digits), which json() turns back into a JSON number
PAIR_JSON_SQL: dict[str, str] = {
    **PAIR_SQL,
    "rating": "CASE WHEN p.rating IS NULL THEN NULL ELSE json(printf('%!.17g', p.rating)) END",
}
#: the dictionaries a pair's names come from
PAIR_JOINS = "JOIN users AS u ON u.id = p.user JOIN items AS i ON i.id = p.item JOIN kinds AS k ON k.id = p.type"

_PAIR_FROM = "pairs AS p " + PAIR_JOINS
_PAIR_COLUMNS = ", ".join(PAIR_SQL.values())
_EVENT_FROM = (
    "events AS e JOIN users AS u ON u.id = e.user JOIN items AS i ON i.id = e.item JOIN kinds AS k ON k.id = e.type"
)
_EVENT_COLUMNS = "u.name, i.name, k.name, e.at, e.rating"

_pair = PairAggregate._make
_event = LedgerEvent._make


def chunks(values: Iterable[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    """``values`` in lists of at most ``size`` (one ``IN (...)`` lookup each)."""
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _types_clause(types: Sequence[str] | None, column: str = "k.name") -> tuple[str, list[str]]:
    if not types:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(types))})", list(types)


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """``{"events", "pairs", "users", "batches"}``."""

    def one(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0] or 0)

    return {
        "events": one("SELECT count(*) FROM events"),
        "pairs": one("SELECT count(*) FROM pairs WHERE count > 0"),
        "users": one("SELECT count(DISTINCT user) FROM pairs WHERE count > 0"),
        "batches": one("SELECT max(id) FROM batches"),
    }


def pair_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Pairs (with events) per event type."""
    rows = conn.execute(
        "SELECT k.name, count(*) FROM pairs AS p JOIN kinds AS k ON k.id = p.type WHERE p.count > 0 GROUP BY k.name"
    ).fetchall()
    return {kind: int(n) for kind, n in rows}


def pair(conn: sqlite3.Connection, user: str, item: str, type: str) -> PairAggregate | None:
    """The aggregate of one pair, or None."""
    row = conn.execute(
        f"SELECT {_PAIR_COLUMNS} FROM {_PAIR_FROM} WHERE u.name = ? AND i.name = ? AND k.name = ? AND p.count > 0",
        (user, item, type),
    ).fetchone()
    return _pair(row) if row else None


def pairs(
    conn: sqlite3.Connection, *, types: Sequence[str] | None = None, users: Iterable[str] | None = None
) -> Iterator[PairAggregate]:
    """Every pair's aggregate (streamed), optionally only some types or users."""
    where, params = _types_clause(types)
    if users is None:
        sql = f"SELECT {_PAIR_COLUMNS} FROM {_PAIR_FROM} WHERE p.count > 0{where} ORDER BY p.user, p.item, p.type"
        for row in conn.execute(sql, params):
            yield _pair(row)
        return
    for chunk in chunks(users):
        sql = (
            f"SELECT {_PAIR_COLUMNS} FROM {_PAIR_FROM} WHERE u.name IN ({','.join('?' * len(chunk))}) "
            f"AND p.count > 0{where} ORDER BY u.name, i.name, k.name"
        )
        for row in conn.execute(sql, [*chunk, *params]).fetchall():
            yield _pair(row)


def known_pairs(conn: sqlite3.Connection, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Those of ``keys`` (user, item, type) that the ledger holds."""
    found: set[tuple[str, str, str]] = set()
    for chunk in chunks(keys, 300):
        values = ",".join("(?, ?, ?)" for _ in chunk)
        sql = (
            f"SELECT u.name, i.name, k.name FROM (VALUES {values}) AS v "
            "JOIN users AS u ON u.name = v.column1 JOIN items AS i ON i.name = v.column2 "
            "JOIN kinds AS k ON k.name = v.column3 "
            "JOIN pairs AS p ON p.user = u.id AND p.item = i.id AND p.type = k.id WHERE p.count > 0"
        )
        found.update(conn.execute(sql, [v for key in chunk for v in key]).fetchall())
    return found


def events_of_users(
    conn: sqlite3.Connection, users: Iterable[str], *, types: Sequence[str] | None = None
) -> Iterator[LedgerEvent]:
    """Every event of the given users (pseudonyms), per user in time order."""
    where, params = _types_clause(types)
    for chunk in chunks(users):
        sql = (
            f"SELECT {_EVENT_COLUMNS} FROM {_EVENT_FROM} WHERE u.name IN ({','.join('?' * len(chunk))}){where} "
            "ORDER BY u.name, e.at, i.name, k.name"
        )
        for row in conn.execute(sql, [*chunk, *params]).fetchall():
            yield _event(row)


def events_between(
    conn: sqlite3.Connection,
    start_ms: int | None = None,
    end_ms: int | None = None,
    *,
    types: Sequence[str] | None = None,
) -> Iterator[LedgerEvent]:
    """Events with ``start_ms <= at < end_ms`` (either bound optional), in time order (streamed)."""
    where, params = _types_clause(types)
    sql = (
        f"SELECT {_EVENT_COLUMNS} FROM {_EVENT_FROM} "
        f"WHERE e.at >= ? AND e.at < ?{where} ORDER BY e.at, u.name, i.name, k.name"
    )
    lo = -(2**63) if start_ms is None else int(start_ms)
    hi = 2**63 - 1 if end_ms is None else int(end_ms)
    for row in conn.execute(sql, [lo, hi, *params]):
        yield _event(row)


def last_batch(conn: sqlite3.Connection) -> int:
    """Sequence number of the newest batch (0 when none)."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM batches").fetchone()[0])


def batch_written_at(conn: sqlite3.Connection, batch: int) -> int | None:
    """When batch ``batch`` was written (epoch ms), or None when the ledger holds no such batch: a bookmark's
    check that the ledger is still the one it was taken from (not cleared, replaced or restored)."""
    row = conn.execute("SELECT written_at FROM batches WHERE id = ?", (int(batch),)).fetchone()
    return None if row is None else int(row[0])


def events_touched_since(conn: sqlite3.Connection, batch: int) -> Iterator[LedgerEvent]:
    """Every event of the pairs that got new events in batches after ``batch`` (the new events and their pairs'
    older ones: events carry no batch), streamed, read through the touched users' pairs (``users.batch``)."""
    sql = (
        f"SELECT {_EVENT_COLUMNS} FROM users AS u JOIN pairs AS p ON p.user = u.id "
        "JOIN events AS e ON e.user = p.user AND e.item = p.item AND e.type = p.type "
        "JOIN items AS i ON i.id = e.item JOIN kinds AS k ON k.id = e.type "
        "WHERE u.batch > ?1 AND p.batch > ?1"
    )
    for row in conn.execute(sql, (int(batch),)):
        yield _event(row)


def items_touched_since(conn: sqlite3.Connection, batch: int) -> set[str]:
    """Items whose pairs got new events in batches after ``batch`` (read through the touched users' pairs)."""
    rows = conn.execute(
        "SELECT DISTINCT i.name FROM users u JOIN pairs p ON p.user = u.id JOIN items i ON i.id = p.item "
        "WHERE u.batch > ? AND p.batch > ?",
        (int(batch), int(batch)),
    )
    return {row[0] for row in rows}


def users_touched_since(conn: sqlite3.Connection, batch: int) -> set[str]:
    """Users (pseudonyms) whose pairs got new events in batches after ``batch`` (``users.batch``: the last
    batch that gave one of the user's pairs new events)."""
    rows = conn.execute("SELECT name FROM users WHERE batch > ?", (int(batch),))
    return {row[0] for row in rows}
