"""A Parquet mirror of the ledger's events (``kg lake sync``): where Spark, DuckDB or pandas read them.

One folder per UTC day, hive style (``<mirror>/day=2024-06-01/events.parquet``; the files'
columns: :data:`~kg.ledger.parquet_files.COLUMNS`). The default mirror is ``KG_HOME/lake/<graph>/events``.

**Incremental.** Beside the partitions, ``_kg_mirror.json`` (hidden from Spark by its ``_``) records the ledger
it mirrors and the last ledger batch the mirror holds, with that batch's write time. The next sync reads the
events of the pairs that got new events since that batch (``pairs.batch``, one indexed lookup per touched
user: events carry no batch, so a touched pair brings its older events too), groups them by day, and for
each day adds to the partition the events it lacks (an anti-join on the event's identity: user, item, type,
time). A day that gains nothing is not written; a day that gains rows is rewritten whole, atomically
(:func:`~kg.ledger.parquet_files.write_partition`). So a re-run with nothing new writes nothing, an
interrupted run is finished by the next one, and no event is ever written twice. This relies on the
ledger being append-only, which it is except for ``kg forget`` (which edits the mirror too,
:func:`forget_in_mirrors`): the mirror of the last sync plus what is new equals the ledger.

A **full** sync (the first, ``--full``, or when the bookmark's batch is gone or was written at another time:
a ledger cleared, replaced or restored from a backup) writes every day from the ledger, in time order, one day
in memory at a time, and removes the partitions of days the ledger no longer has.

**Forgetting.** Every mirror a sync wrote is recorded in ``KG_HOME/lake/mirrors.json``; :func:`forget_in_mirrors`
reads each partition's ``user_id`` column and rewrites, without the person, every partition that holds them
(a day left empty is removed). A sync and a forget of one mirror never overlap (a lock per mirror,
``KG_HOME/locks/lake-<hash>.lock``); forget runs after the ledger has dropped the person, so a sync that
follows cannot bring them back.

>>> report = sync_events(settings)              # doctest: +SKIP
>>> report.mode, report.days_written            # doctest: +SKIP
('incremental', ['2024-06-01'])
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kg.foundation.errors import ConfigError
from kg.foundation.home import private_dir, write_private
from kg.foundation.locks import file_lock
from kg.foundation.settings import Settings
from kg.ledger import EventLedger
from kg.ledger import parquet_files as files
from kg.ledger.records import LedgerEvent

__all__ = [
    "STATE_FILE",
    "MirrorReport",
    "default_path",
    "forget_in_mirrors",
    "known_mirrors",
    "require_for_mirrors",
    "sync_events",
]

logger = logging.getLogger(__name__)

STATE_FILE = "_kg_mirror.json"
_FORMAT = 1
_REGISTRY = "mirrors.json"

#: the caller's progress hook: (events written, events in the ledger)
ProgressHook = Callable[[int, int], None]


@dataclass
class MirrorReport:
    """What one sync did: ``mode`` is ``full``, ``incremental`` or ``unchanged`` (nothing new, nothing written)."""

    path: str
    mode: str
    from_batch: int
    to_batch: int
    days_written: list[str] = field(default_factory=list)
    days_removed: list[str] = field(default_factory=list)
    new_rows: int = 0  # rows the mirror did not hold before
    rows_written: int = 0  # rows in the files written (a rewritten day's old rows too)
    rows: int = 0  # rows in the mirror afterwards
    days: int = 0  # day partitions in the mirror afterwards
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The report as text lines (messages for stderr)."""
        if self.mode == "unchanged":
            head = f"lake: nothing new since ledger batch {self.to_batch:,}; nothing written"
        else:
            head = (
                f"lake: {self.mode} sync to ledger batch {self.to_batch:,}: {self.new_rows:,} new events, "
                f"{len(self.days_written):,} day(s) written ({self.rows_written:,} rows)"
                + (f", {len(self.days_removed):,} removed" if self.days_removed else "")
            )
        return [
            head,
            f"lake: {self.path} holds {self.rows:,} events in {self.days:,} day(s) (done in {self.seconds:.1f} s)",
        ]


def default_path(settings: Settings) -> Path:
    """``KG_HOME/lake/<graph>/events``."""
    return settings.lake_dir / "events"


def sync_events(
    settings: Settings, path: Path | None = None, *, full: bool = False, progress: ProgressHook | None = None
) -> MirrorReport:
    """Bring the mirror at ``path`` (default :func:`default_path`) up to the ledger: incremental unless ``full``
    or the mirror's bookmark no longer matches the ledger (see the module docstring)."""
    files.pyarrow()  # the lake extra, before anything is touched
    started = time.perf_counter()
    root = _absolute(path or default_path(settings))
    ledger_path = str(settings.ledger_path)
    with EventLedger(settings.ledger_path, readonly=True) as ledger, _mirror_lock(settings, root, "kg lake sync"):
        state = _read_state(root)
        if state is None and root.is_dir() and any(root.iterdir()):
            raise ConfigError(
                f"{root} is not empty and holds no kg events mirror ({STATE_FILE})",
                hint="give --path a new or empty folder",
            )
        if state is not None and state.get("ledger") != ledger_path and not full:
            raise ConfigError(
                f"the mirror at {root} was made from the ledger {state.get('ledger')}, not {ledger_path}",
                hint="give each graph its own --path, or --full to rebuild this one from this ledger",
            )
        if root == _absolute(default_path(settings)):
            private_dir(settings.lake_dir)  # kg's own folders in KG_HOME: owner-only, like the rest of it
        private_dir(root, tighten=False)
        _record(settings.home, root)  # before the first file: a forget finds a half-written mirror too
        files.remove_temp_files(root)
        last = ledger.last_batch()
        bookmark = None if full or state is None else _bookmark(ledger, state)
        if bookmark is None:
            _write_state(root, ledger_path, None, None, None)  # interrupted from here on: the next sync is full
            report = MirrorReport(str(root), "full", 0, last)
            _full(ledger, root, report, progress)
            rows = report.rows_written
        else:
            since, rows = bookmark
            report = MirrorReport(str(root), "unchanged" if since == last else "incremental", since, last)
            if since == last:  # nothing new: nothing written, not even the state
                report.rows, report.days = rows, len(files.partitions(root))
                report.seconds = round(time.perf_counter() - started, 3)
                return report
            _incremental(ledger, root, since, report)
            rows += report.new_rows
        report.rows, report.days = rows, len(files.partitions(root))
        _write_state(root, ledger_path, last, ledger.batch_written_at(last), rows)
    report.seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "lake sync (%s) of %s: %d new events, %d days written",
        report.mode,
        root,
        report.new_rows,
        len(report.days_written),
    )
    return report


def _bookmark(ledger: EventLedger, state: dict[str, Any]) -> tuple[int, int] | None:
    """(the state's batch, the mirror's rows) when the ledger still holds that batch as written then; None (a
    full sync) otherwise: a ledger cleared, replaced or restored, or a full sync that was interrupted."""
    batch, rows = state.get("batch"), state.get("rows")
    if not isinstance(batch, int) or batch < 0 or not isinstance(rows, int):
        return None
    if batch > ledger.last_batch() or ledger.batch_written_at(batch) != state.get("batch_written_at"):
        return None
    return batch, rows


def _full(ledger: EventLedger, root: Path, report: MirrorReport, progress: ProgressHook | None) -> None:
    """Write every day from the ledger (time order, one day in memory), then drop days it no longer has."""
    total = ledger.counts()["events"] if progress else 0
    written = 0
    for day, events in _by_day(ledger.events_between()):
        files.write_partition(root, day, files.table_of(events))
        report.days_written.append(day)
        written += len(events)
        if progress:
            progress(written, total)
    report.new_rows = report.rows_written = written
    kept = set(report.days_written)
    for day, folder in files.partitions(root).items():
        if day not in kept:
            files.remove_partition(folder)
            report.days_removed.append(day)


def _by_day(events: Iterator[LedgerEvent]) -> Iterator[tuple[str, list[LedgerEvent]]]:
    """Events in time order, grouped into (day, that day's events)."""
    current: int | None = None
    bucket: list[LedgerEvent] = []
    for event in events:
        number = event.at // files.DAY_MS
        if number != current:
            if bucket:
                yield files.day_of(bucket[0].at), bucket
            current, bucket = number, []
        bucket.append(event)
    if bucket:
        yield files.day_of(bucket[0].at), bucket


def _incremental(ledger: EventLedger, root: Path, since: int, report: MirrorReport) -> None:
    """Add to each day the events of the pairs touched after batch ``since`` that it lacks."""
    pa = files.pyarrow()
    touched: dict[str, list[LedgerEvent]] = defaultdict(list)
    for event in ledger.events_touched_since(since):
        touched[files.day_of(event.at)].append(event)
    for day in sorted(touched):
        candidates = files.table_of(touched.pop(day))
        held = files.read_partition(files.partition_dir(root, day))
        new = candidates
        if held.num_rows:
            new = candidates.join(held.select(files.KEYS), keys=files.KEYS, join_type="left anti")
        if not new.num_rows:
            continue
        whole = pa.concat_tables([held, new.select(held.schema.names).cast(held.schema)])
        files.write_partition(root, day, whole)
        report.days_written.append(day)
        report.new_rows += new.num_rows
        report.rows_written += whole.num_rows


def forget_in_mirrors(settings: Settings, pseudonym: str, *, dry_run: bool = False) -> dict[str, int]:
    """Remove one person (pseudonym) from every known mirror: each partition holding them is rewritten without
    them (or removed when nothing is left). ``{"lake_partitions", "lake_rows"}``: partitions and rows that held
    them (that would, with ``dry_run``). Nothing to do, and pyarrow not needed, when there is no mirror."""
    out = {"lake_partitions": 0, "lake_rows": 0}
    mirrors = known_mirrors(settings)
    if not mirrors:
        return out
    pc = files.pyarrow().compute
    for root in mirrors:
        with _mirror_lock(settings, root, "kg forget"):
            if not dry_run:
                files.remove_temp_files(root)
            removed = 0
            for day, folder in files.partitions(root).items():
                hits = sum(int(pc.sum(pc.equal(users, pseudonym)).as_py() or 0) for users in files.read_users(folder))
                if not hits:
                    continue
                out["lake_partitions"] += 1
                out["lake_rows"] += hits
                removed += hits
                if dry_run:
                    continue
                held = files.read_partition(folder)
                kept = held.filter(pc.not_equal(held.column("user_id"), pseudonym))
                if kept.num_rows:
                    files.write_partition(root, day, kept)
                else:
                    files.remove_partition(folder)
            state = _read_state(root)
            if removed and not dry_run and state is not None and isinstance(state.get("rows"), int):
                _write_state(
                    root, state["ledger"], state["batch"], state.get("batch_written_at"), state["rows"] - removed
                )
    return out


def require_for_mirrors(settings: Settings) -> None:
    """:class:`~kg.foundation.extras.MissingExtraError` when a mirror exists and pyarrow (the ``lake`` extra) is
    missing: a forget checks it before it changes anything, rather than stop half-way."""
    if known_mirrors(settings):
        files.pyarrow()


def known_mirrors(settings: Settings) -> list[Path]:
    """The mirrors recorded in ``KG_HOME/lake/mirrors.json`` that still exist (no pyarrow needed)."""
    try:
        recorded = json.loads(_registry(settings.home).read_text(encoding="utf-8")).get("mirrors", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [Path(p) for p in recorded if isinstance(p, str) and Path(p).is_dir()]


def _registry(home: Path) -> Path:
    return home / "lake" / _REGISTRY


def _record(home: Path, root: Path) -> None:
    """Note ``root`` in ``KG_HOME/lake/mirrors.json`` (once), so that a forget finds it."""
    registry = _registry(home)
    try:
        recorded = json.loads(registry.read_text(encoding="utf-8")).get("mirrors", [])
    except (OSError, ValueError, AttributeError):
        recorded = []
    mirrors = sorted({str(p) for p in recorded if isinstance(p, str)} | {str(root)})
    if mirrors != recorded:
        private_dir(registry.parent)
        write_private(registry, json.dumps({"mirrors": mirrors}, indent=2) + "\n")


def _absolute(path: Path) -> Path:
    return Path(path).expanduser().resolve()


@contextmanager
def _mirror_lock(settings: Settings, root: Path, what: str) -> Iterator[None]:
    """One writer per mirror (sync or forget): ``KG_HOME/locks/lake-<hash of the path>.lock``."""
    key = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:16]
    with file_lock(
        settings.home / "locks" / f"lake-{key}.lock", what=what, timeout=settings.writer_wait, subject=f"mirror {root}"
    ):
        yield


def _read_state(root: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and state.get("format") == _FORMAT else None


def _write_state(root: Path, ledger: str, batch: int | None, written_at: int | None, rows: int | None) -> None:
    """Record the ledger, its last batch the mirror holds (with that batch's write time) and the rows; a batch of
    None makes the next sync a full one."""
    state = {
        "format": _FORMAT,
        "ledger": ledger,
        "batch": batch,
        "batch_written_at": written_at,
        "rows": rows,
        "synced_at": int(time.time() * 1000),
    }
    write_private(root / STATE_FILE, json.dumps(state, indent=2) + "\n")
