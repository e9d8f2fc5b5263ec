"""Ledger events as Parquet day partitions: the columns, a table of events, and one partition folder
(``day=YYYY-MM-DD/``, hive style) read, written atomically or removed. The only module that imports pyarrow
(the ``lake`` extra), and only inside its functions, so importing it costs nothing without the extra.

A partition holds one file, ``events.parquet``, rows in time order. It is replaced whole: the new file is
written beside it under a hidden temporary name (``.events.parquet.<pid>.<token>.tmp``, which Spark and pyarrow
skip as they skip every name starting with ``.`` or ``_``), flushed to disk, renamed over the old one (readers
see the old file or the new, never half of one), and only then are other files of the folder removed.

>>> day_of(86_400_000 * 19_723 + 5)
'2024-01-01'
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from kg.foundation.extras import require
from kg.foundation.home import PRIVATE_FILE, private_dir
from kg.ledger.records import LedgerEvent

__all__ = [
    "COLUMNS",
    "DATA_FILE",
    "KEYS",
    "day_of",
    "partition_dir",
    "partitions",
    "pyarrow",
    "read_partition",
    "read_users",
    "remove_partition",
    "remove_temp_files",
    "schema",
    "table_of",
    "write_partition",
]

DAY_MS = 86_400_000
DATA_FILE = "events.parquet"
_PREFIX = "day="
_TEMP_SUFFIX = ".tmp"
_EPOCH = dt.date(1970, 1, 1)

#: the columns of every file: (name, what it holds); ``event_time`` is a UTC timestamp in milliseconds
COLUMNS: tuple[tuple[str, str], ...] = (
    ("user_id", "the person's pseudonym, as the ledger and the graph's User.id hold it (never a raw id)"),
    ("item_id", "the product id"),
    ("event_type", "view, favorite, cart, purchase or rating"),
    ("event_time", "when, timestamp[ms, UTC]"),
    ("rating", "the rating of a rating event, else null"),
)
#: an event's identity: the same event is never written twice
KEYS = ["user_id", "item_id", "event_type", "event_time"]


def pyarrow() -> Any:
    """The ``pyarrow`` module; :class:`~kg.foundation.extras.MissingExtraError` naming the ``lake`` extra when
    it is not installed."""
    require("lake")
    import pyarrow

    return pyarrow


@cache
def schema() -> Any:
    """The files' Arrow schema (see :data:`COLUMNS`)."""
    pa = pyarrow()
    return pa.schema(
        [
            pa.field("user_id", pa.string(), nullable=False),
            pa.field("item_id", pa.string(), nullable=False),
            pa.field("event_type", pa.string(), nullable=False),
            pa.field("event_time", pa.timestamp("ms", tz="UTC"), nullable=False),
            pa.field("rating", pa.float64()),
        ]
    )


def day_of(at_ms: int) -> str:
    """The UTC day (``YYYY-MM-DD``) of a time in epoch milliseconds."""
    return (_EPOCH + dt.timedelta(days=int(at_ms) // DAY_MS)).isoformat()


def table_of(events: Iterable[LedgerEvent]) -> Any:
    """An Arrow table of ledger events, in the files' schema."""
    pa = pyarrow()
    rows = list(events)
    target = schema()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(target)
    return pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, target, strict=True)], schema=target)


def partition_dir(root: Path, day: str) -> Path:
    """The folder of ``day``'s partition."""
    return root / f"{_PREFIX}{day}"


def partitions(root: Path) -> dict[str, Path]:
    """``{day: folder}`` of every partition under ``root``."""
    if not root.is_dir():
        return {}
    return {p.name[len(_PREFIX) :]: p for p in sorted(root.iterdir()) if p.is_dir() and p.name.startswith(_PREFIX)}


def _data_files(folder: Path) -> list[Path]:
    """The Parquet files of a partition folder (normally one), hidden and temporary names left out."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".parquet" and not p.name.startswith((".", "_")))


def read_partition(folder: Path) -> Any:
    """Every row of a partition (an empty table when it does not exist)."""
    pa = pyarrow()
    import pyarrow.parquet as pq

    target = schema()
    tables = [pq.ParquetFile(path).read(columns=target.names).cast(target) for path in _data_files(folder)]
    return pa.concat_tables(tables) if tables else target.empty_table()


def read_users(folder: Path) -> Iterator[Any]:
    """The ``user_id`` column of each file of a partition (one Arrow array each): what a forget searches."""
    pyarrow()
    import pyarrow.parquet as pq

    for path in _data_files(folder):
        yield pq.ParquetFile(path).read(columns=["user_id"]).column("user_id")


def write_partition(root: Path, day: str, table: Any) -> Path:
    """Replace ``day``'s partition with ``table`` (sorted by time, then user, item, type): a temporary file,
    flushed, renamed into place; then the folder's other files go. Returns the file."""
    import pyarrow.parquet as pq

    folder = private_dir(partition_dir(root, day))
    target = folder / DATA_FILE
    tmp = folder / f".{DATA_FILE}.{os.getpid()}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"
    rows = table.select(schema().names).cast(schema()).sort_by([(k, "ascending") for k in ("event_time", *KEYS[:3])])
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(rows, handle, compression="snappy")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for other in _data_files(folder):
        if other != target:
            other.unlink()
    _sync_dir(folder)
    return target


def remove_partition(folder: Path) -> None:
    """Delete a partition folder and what it holds (a day with no events left)."""
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


def remove_temp_files(root: Path) -> int:
    """Delete the temporary files an interrupted write left in the partitions (call it holding the mirror's lock);
    the number removed."""
    removed = 0
    for folder in partitions(root).values():
        for path in folder.iterdir():
            if path.name.startswith(".") and path.name.endswith(_TEMP_SUFFIX):
                path.unlink()
                removed += 1
    return removed


def _sync_dir(folder: Path) -> None:
    """Flush a folder's entries (the rename) to disk, where the OS allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
