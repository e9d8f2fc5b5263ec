"""``kg ingest ... --sql QUERY``: ingest the rows of a read-only SQL query over files, run by DuckDB.

A marketplace's export is relational (orders, order items, customers, order reviews): its events are
order items joined to orders (the time) and customers (the person). DuckDB reads CSV, Parquet and JSON
files, ``.gz``, globs and joins them; the query's columns are named as the kind's generic fields
(events ``user_id, item_id, event_type, timestamp[, rating]``; reviews ``user_id, item_id, text,
timestamp[, rating][, review_id]``; products ``item_id, title, brand, category, price, ...``).

The result goes through the same path as a file: it is written as JSON lines (one per result row, so
a quarantined row's ``line`` is the query's row number, and ``source`` is the query) to an owner-only
file under ``KG_HOME/sql`` that is deleted after the run, and read by the kind's ``jsonl`` reader.
The run's identity (manifest, idempotency) is a hash of the result's rows, independent of their order:
re-running a query over unchanged files skips, and a query over changed files loads what is new.

Only one ``SELECT`` (``WITH`` ... ``SELECT``, ``FROM ...``) is run; anything else (COPY, INSTALL, LOAD,
ATTACH, CREATE, SET, PRAGMA, several statements) is refused. DuckDB runs with extension auto-install and
auto-load off and its configuration locked, so a query cannot write files or fetch code. Relative
paths in the query resolve against the current directory.

>>> check_query("COPY (SELECT 1) TO 'x.csv'")  # doctest: +SKIP
Traceback (most recent call last):
kg.foundation.errors.ConfigError: --sql runs one read-only SELECT, not COPY ...
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from kg.foundation.errors import ConfigError, InputError
from kg.foundation.home import private_dir
from kg.foundation.settings import Settings
from kg.ingest.report import IngestReport
from kg.store import GraphStore

__all__ = ["ingest_sql", "check_query", "connect", "sql_label", "INSTALL_HINT"]

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'kg[sql]'"
_FETCH = 10_000  # rows fetched from DuckDB at a time
_MOD = 1 << 256
#: the fields a query names its columns as, per kind (those of the kind's csv/jsonl formats)
FIELDS = {
    "events": "user_id, item_id, event_type, timestamp[, rating]",
    "reviews": "user_id, item_id, text, timestamp[, rating][, review_id]",
    "products": "item_id[, title, brand, category, price, also_bought, also_viewed]",
}


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise ConfigError("--sql needs DuckDB, which is not installed", hint=INSTALL_HINT) from None
    return duckdb


def check_query(sql: str) -> str:
    """The one read-only statement of ``sql`` (a SELECT, with or without WITH); ConfigError otherwise."""
    duckdb = _duckdb()
    if not sql or not sql.strip():
        raise ConfigError("--sql: empty query", hint="e.g. --sql \"SELECT ... FROM 'orders.csv'\"")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise ConfigError(f"--sql: {_first_line(e)}") from None
    if len(statements) != 1:
        raise ConfigError(
            f"--sql runs one read-only SELECT, not {len(statements)} statements",
            hint="join the tables in one SELECT (WITH ... SELECT is fine)",
        )
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind != "SELECT":
        raise ConfigError(
            f"--sql runs one read-only SELECT, not {kind}",
            hint="kg only reads: write SELECT ... FROM 'file.csv' (COPY, INSTALL, LOAD, ATTACH, "
            "CREATE, SET and PRAGMA are refused)",
        )
    return statements[0].query


def connect(work_dir: Path) -> Any:
    """An in-memory DuckDB that reads files but installs and loads nothing, spills to ``work_dir`` (owner
    only) and cannot be reconfigured by the query."""
    duckdb = _duckdb()
    config = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "temp_directory": str(work_dir),
    }
    try:
        con = duckdb.connect(":memory:", config=config)
        con.execute("SET lock_configuration = true")
    except duckdb.Error as e:
        raise ConfigError(f"--sql: cannot start DuckDB: {_first_line(e)}") from None
    return con


def sql_label(sql: str) -> str:
    """How a query names itself in reports and the quarantine: ``sql: `` and its text on one line."""
    return "sql: " + " ".join(sql.split())


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _json_value(value: Any) -> Any:
    """A DuckDB value JSON cannot hold as it is: times as ISO-8601 (naive = UTC), decimals as numbers."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (uuid.UUID, dt.timedelta)):
        return str(value)
    return str(value)


def _materialise(con: Any, query: str, dest: Path) -> tuple[int, str]:
    """Write the query's rows to ``dest`` as JSON lines; (rows, order-independent hash of the rows)."""
    duckdb = _duckdb()
    try:
        cursor = con.execute(query)
        names = [str(d[0]).strip().lower() for d in cursor.description or ()]
    except duckdb.Error as e:
        raise InputError(
            f"--sql: {_first_line(e)}", hint="paths in the query are relative to the current directory"
        ) from None
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(
            f"--sql: the query returns column(s) {', '.join(dupes)} more than once",
            hint="name each column once (SELECT a.x AS user_id, ...)",
        )
    total, rows = 0, 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        while True:
            try:
                batch = cursor.fetchmany(_FETCH)
            except duckdb.Error as e:
                raise InputError(f"--sql: {_first_line(e)}") from None
            if not batch:
                break
            for row in batch:
                line = json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False, default=_json_value)
                out.write(line + "\n")
                # a sum of row hashes: the same rows in any order (DuckDB joins run in parallel) give one identity
                total = (total + int.from_bytes(hashlib.sha256(line.encode("utf-8")).digest(), "big")) % _MOD
            rows += len(batch)
    digest = hashlib.sha256(f"sql\0{rows}\0{total:064x}".encode()).hexdigest()
    return rows, digest


def ingest_sql(
    store: GraphStore,
    settings: Settings,
    sql: str,
    *,
    kind: str,
    force: bool = False,
    max_bad_ratio: float | None = None,
    progress: Any = None,
    allow_forgotten: bool = False,
    **options: Any,
) -> IngestReport:
    """Ingest the rows of ``sql`` (one SELECT, run by DuckDB) as ``kind`` (events, products, reviews).

    The rows are validated, quarantined, pseudonymised and loaded exactly as a ``--format jsonl`` file of
    the same fields; ``options`` are that format's options (e.g. ``columns``; reviews' ``lang``, ...).
    """
    from kg.ingest.formats import resolve_format
    from kg.ingest.records import FormatMismatch
    from kg.ingest.runner import run_format

    query = check_query(sql)
    fmt = resolve_format(kind, "jsonl")
    fmt.check_options(options)
    label = sql_label(query)
    work = private_dir(settings.home / "sql")
    dest = work / f"{kind}-{uuid.uuid4().hex}.jsonl"
    try:
        con = connect(work)
        try:
            rows, digest = _materialise(con, query, dest)
        finally:
            con.close()
        logger.info("--sql: %d rows", rows)
        try:
            return run_format(
                store,
                settings,
                dest,
                fmt,
                options,
                kind=kind,
                fmt="sql",
                force=force,
                max_bad_ratio=max_bad_ratio,
                progress=progress,
                allow_forgotten=allow_forgotten,
                checksum=digest,
                label=label,
            )
        except FormatMismatch as e:
            message = str(e.args[0]).replace(str(dest), "--sql")
            raise FormatMismatch(
                message,
                hint=f"name the query's columns as the {kind} fields "
                f"({FIELDS.get(kind, '')}): SELECT ... AS item_id, ...",
            ) from None
    finally:
        dest.unlink(missing_ok=True)  # it holds raw ids: never left behind
