"""Removing people from the ledger: one person's events, pairs and name (``kg forget``), or everyone.

Each removal bumps the file's ``generation`` (``meta``), so every connection's cached name ids
(:class:`kg.ledger.writes.BatchWriter`) are dropped before its next batch: a freed id may be reused.
"""

from __future__ import annotations

import sqlite3

from kg.ledger.schema import DICTIONARIES

__all__ = ["clear", "delete_user"]


def _bump_generation(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")


def delete_user(conn: sqlite3.Connection, user: str) -> bool:
    """Delete one person's (pseudonym's) events, pairs and name in one transaction; False when unknown."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT id FROM users WHERE name = ?", (user,)).fetchone()
        if row is not None:
            conn.execute("DELETE FROM events WHERE user = ?", row)
            conn.execute("DELETE FROM pairs WHERE user = ?", row)
            conn.execute("DELETE FROM users WHERE id = ?", row)
            _bump_generation(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return row is not None


def clear(conn: sqlite3.Connection) -> None:
    """Delete every event, pair, batch and name in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in ("events", "pairs", "batches", *DICTIONARIES):
            conn.execute(f"DELETE FROM {table}")
        _bump_generation(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
