"""Recording batches of events: names to ids (cached), one transaction per batch, the touched pairs back.

A batch's *new* events update their pairs' aggregates in the same transaction (the connection's
``event_aggregate`` trigger, :mod:`kg.ledger.schema`), so the cost of an event never depends on its
pair's history. The touched pairs come back as :class:`PairAggregate` records (:meth:`BatchWriter.add`)
or, for the ingest path, as JSON row texts that SQLite builds in one step (:meth:`BatchWriter.add_json`:
the caller picks the fields and the separator; no Python object per pair).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from kg.foundation.errors import StoreError
from kg.ledger.reads import PAIR_JOINS, PAIR_JSON_SQL, chunks
from kg.ledger.records import PairAggregate, TouchedJson
from kg.ledger.schema import DICTIONARIES

__all__ = ["BatchWriter", "EventRow"]

EventRow = tuple[str, str, str, int, float | None]  # (user, item, type, at_ms, rating)

_NAME_CACHE = 500_000  # names per dictionary kept in memory between batches

_CLEAR_TEMP = ("DELETE FROM temp.batch_in", "DELETE FROM temp.batch_pairs")

# The batch arrives as ONE JSON text of integer rows: a single statement that SQLite runs without
# the GIL (executemany takes the GIL back for every row while the caller parses the next batch).
_BATCH_IN = (
    "INSERT INTO temp.batch_in (user, item, type, at, rating) "
    "SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?)"
)

# in key order, so the events and pairs B-trees are walked once; among repeats the first wins
_NEW_EVENTS = (
    "INSERT OR IGNORE INTO events (user, item, type, at, rating) "
    "SELECT user, item, type, at, rating FROM temp.batch_in ORDER BY user, item, type, at, seq"
)

_BATCH_PAIRS = "INSERT INTO temp.batch_pairs (user, item, type) SELECT DISTINCT user, item, type FROM temp.batch_in"

# The batch's pairs drive the join (CROSS JOIN: without statistics on the temp table, the planner would
# otherwise scan every pair of the ledger, once per batch). The last column of every touched query lists
# the ids of the users with new events (comma-separated), read in the same pass for _FRESH_USERS.
_TOUCHED_FROM = f"""
FROM temp.batch_pairs AS b
CROSS JOIN pairs AS p ON p.user = b.user AND p.item = b.item AND p.type = b.type
{PAIR_JOINS}
WHERE p.count > 0"""
_FRESH_IDS = "group_concat(CASE WHEN p.batch = ?1 THEN p.user END)"

# The touched pairs as ONE JSON text in PairAggregate's field order (one step, run without the GIL).
_TOUCHED = f"SELECT json_group_array(json_array({', '.join(PAIR_JSON_SQL.values())})), {_FRESH_IDS}{_TOUCHED_FROM}"

# users_touched_since() reads users.batch: the last batch that gave one of the user's pairs new events.
_FRESH_USERS = "UPDATE users SET batch = ?1 WHERE id IN (SELECT value FROM json_each('[' || ?2 || ']'))"

_pair = PairAggregate._make


@lru_cache(maxsize=8)
def touched_json_sql(fields: tuple[str, ...], separator: str) -> str:
    """The touched pairs as JSON arrays of ``fields`` joined by ``separator``, per event type and whether
    the batch (``?1``) created the pair: rows ``(type, fresh, text, fresh user ids)``."""
    unknown = [f for f in fields if f not in PAIR_JSON_SQL]
    if unknown or not fields:
        raise ValueError(f"not pair fields: {unknown or 'none given'} (want some of {PairAggregate._fields})")
    # a control character: JSON escapes it inside strings and writes none outside them
    if len(separator) != 1 or not "\x01" <= separator <= "\x1f":
        raise ValueError(f"the separator must be one control character \\x01..\\x1f, not {separator!r}")
    values = ", ".join(PAIR_JSON_SQL[f] for f in fields)
    return (
        f"SELECT k.name, p.created_batch IS ?1, group_concat(json_array({values}), char({ord(separator)})), "
        f"{_FRESH_IDS}{_TOUCHED_FROM}\nGROUP BY k.name, p.created_batch IS ?1"
    )


class BatchWriter:
    """Stores batches of events on one writable connection, keeping its dictionaries' ids in memory.

    The ids stay valid while the file's generation (bumped by every forget or clear, from any process) is
    the one they were read at; :meth:`forget_ids` drops them at once."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.last_new_events = 0  # events the last batch stored (the rest were known)
        self._ids: dict[str, dict[str, int]] = {table: {} for table in DICTIONARIES}
        self._generation: int | None = None

    def forget_ids(self) -> None:
        """Check the cached ids against the file before the next batch (after a forget or clear)."""
        self._generation = None

    def add(self, events: Iterable[EventRow]) -> list[PairAggregate]:
        """Store ``events``; the aggregates of every pair the batch touched (new events or not)."""
        rows = self._store(events, _TOUCHED)
        return list(map(_pair, json.loads(rows[0][0])))

    def add_json(self, events: Iterable[EventRow], fields: Sequence[str], separator: str) -> TouchedJson:
        """Store ``events``; the touched pairs as JSON arrays of ``fields`` joined by ``separator``, per type,
        split by whether the ledger held the pair before this batch."""
        sql = touched_json_sql(tuple(fields), separator)
        known: dict[str, str] = {}
        fresh: dict[str, str] = {}
        for kind, is_fresh, text, _ in self._store(events, sql):
            (fresh if is_fresh else known)[kind] = text
        return TouchedJson(known, fresh)

    def _check_generation(self) -> None:
        """Drop the cached ids when another connection forgot someone or cleared the file (in a transaction)."""
        generation = int(self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        if generation != self._generation:
            for cache in self._ids.values():
                cache.clear()
            self._generation = generation

    def _lookup(self, table: str, names: dict[Any, None]) -> dict[str, int]:
        """Ids of ``names`` in a dictionary table; new names are added in order of first appearance
        (so ids, and pairs(), follow arrival order). Runs inside the add transaction."""
        cache = self._ids[table]
        if not names.keys() - cache.keys():
            return cache
        missing = [name for name in names if name not in cache]
        for name in missing:
            if type(name) is not str or (not name and table != "kinds"):
                raise StoreError(
                    f"event ledger write failed: bad {table[:-1]} {str(name)[:40]!r} (want text)",
                    hint="the ledger takes rows (user, item, type, at_ms, rating)",
                )
        if len(cache) + len(missing) > _NAME_CACHE:
            cache.clear()
            missing = list(names)
        conn = self.conn
        conn.executemany(f"INSERT OR IGNORE INTO {table} (name) VALUES (?)", ((name,) for name in missing))
        for chunk in chunks(missing):
            cache.update(
                conn.execute(
                    f"SELECT name, id FROM {table} WHERE name IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
            )
        return cache

    def _store(self, events: Iterable[EventRow], touched_sql: str) -> list[Any]:
        """One add transaction; returns the rows of ``touched_sql`` (run before the commit; ``?1`` is the
        batch, the last column lists the ids of users with new events)."""
        events = events if isinstance(events, list) else list(events)
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._check_generation()
                try:
                    users = self._lookup("users", dict.fromkeys([e[0] for e in events]))
                    items = self._lookup("items", dict.fromkeys([e[1] for e in events]))
                    kinds = self._lookup("kinds", dict.fromkeys([e[2] for e in events]))
                    rows = json.dumps(
                        [(users[u], items[i], kinds[k], at, r) for u, i, k, at, r in events], allow_nan=False
                    )
                except (TypeError, ValueError, IndexError) as e:
                    raise StoreError(
                        f"event ledger write failed: bad event row ({e})",
                        hint="the ledger takes rows (user, item, type, at_ms, rating)",
                    ) from e
                for sql in _CLEAR_TEMP:
                    conn.execute(sql)
                conn.execute(_BATCH_IN, (rows,))
                batch = conn.execute(
                    "INSERT INTO batches (written_at, new_events) VALUES (?, 0)", (int(time.time() * 1000),)
                ).lastrowid
                conn.execute("UPDATE temp.current_batch SET id = ?", (batch,))
                new = conn.execute(_NEW_EVENTS).rowcount
                conn.execute("UPDATE batches SET new_events = ? WHERE id = ?", (new, batch))
                conn.execute(_BATCH_PAIRS)
                touched = conn.execute(touched_sql, (batch,)).fetchall()
                fresh = ",".join(row[-1] for row in touched if row[-1])
                if fresh:
                    conn.execute(_FRESH_USERS, (batch, fresh))
                for sql in _CLEAR_TEMP:
                    conn.execute(sql)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self._generation = None  # ids added by the rolled-back transaction are gone
                raise
            self.last_new_events = new
        except sqlite3.Error as e:
            raise StoreError(
                f"event ledger write failed: {e}", hint=f"is {self.path} writable and its disk not full?"
            ) from e
        return touched
