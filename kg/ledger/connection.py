"""Opening a ledger file (private mode, WAL, lock retries, read-only upgrade) and keeping it tidy."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kg.foundation.errors import ConfigError, KGError, StoreError
from kg.ledger.schema import MIN_SQLITE, check_version, migrate, prepare, version

__all__ = ["BUSY_TIMEOUT_MS", "backup", "checkpoint", "connect", "create_private", "disk_bytes", "vacuum"]

BUSY_TIMEOUT_MS = 120_000


def create_private(path: Path) -> None:
    """The ledger's folder (700) and an empty file (600), when they do not exist yet. Two processes may do
    this at once (two ingests of a new home): whichever makes the folder, the other finds it."""
    if not path.parent.exists():
        try:
            path.parent.mkdir(parents=True, mode=0o700)
        except FileExistsError:  # made by another process between the check and here
            pass
        path.parent.chmod(0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    """A connection to the ledger at ``path``, its schema ready (created or upgraded) and checked."""
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise ConfigError(
            f"SQLite {sqlite3.sqlite_version} is too old for the event ledger (needs 3.38+)",
            hint="use a Python built with a newer SQLite",
        )
    with _sqlite_errors_as(
        StoreError,
        f"cannot open the event ledger {path}",
        hint="check the file's permissions; restore it from a backup if it is damaged",
    ):
        if readonly:
            if not path.is_file():
                raise StoreError(f"no event ledger at {path}", hint="ingest events first")
            _upgrade_for_reading(path)
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        else:
            create_private(path)
            # check_same_thread off: the ingest loader runs add() in its worker thread, one call
            # at a time (it waits for each before any other use of the ledger)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            _prepare_when_free(conn, path)
        check_version(conn, path)
    return conn


def _prepare_when_free(conn: sqlite3.Connection, path: Path) -> None:
    """:func:`~kg.ledger.schema.prepare`, retried while another process holds the file: switching a new file
    to WAL and some lock upgrades answer "locked" at once instead of waiting for the busy timeout (two
    ingests creating one ledger together). Every step of it can run again safely."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.01
    while True:
        try:
            prepare(conn, path)
            return
        except sqlite3.OperationalError as e:
            text = str(e).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def _upgrade_for_reading(path: Path) -> None:
    """A schema-1 file opened read-only is upgraded first, through a short-lived writable connection."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as probe:
        found = version(probe)
    probe.close()
    if found != 1:
        return
    with _sqlite_errors_as(
        ConfigError,
        f"event ledger {path} has schema version 1 and cannot be upgraded here",
        hint="open it once for writing (e.g. kg ingest) to upgrade it",
    ):
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA secure_delete = ON")
            migrate(conn, path)
        finally:
            conn.close()


@contextmanager
def _sqlite_errors_as(error: type[KGError], message: str, *, hint: str) -> Iterator[None]:
    """A :class:`sqlite3.Error` inside the block raised again as ``error("<message>: <what SQLite said>")``."""
    try:
        yield
    except sqlite3.Error as e:
        raise error(f"{message}: {e}", hint=hint) from e


def checkpoint(conn: sqlite3.Connection) -> None:
    """Move the write-ahead log into the file and truncate it."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def vacuum(conn: sqlite3.Connection) -> None:
    """Rewrite the file without free pages and truncate the write-ahead log."""
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def backup(conn: sqlite3.Connection, target: Path) -> Path:
    """A consistent copy of the ledger while it is in use (SQLite's online backup), mode 600."""
    target = Path(target)
    create_private(target)
    with sqlite3.connect(target) as dest:
        conn.backup(dest)
    dest.close()
    return target


def disk_bytes(path: Path) -> int:
    """Size of the ledger on disk: the file plus its write-ahead log."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
