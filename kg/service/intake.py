"""Events as they arrive, in micro-batches: one worker writes each batch the way ``kg ingest`` + ``kg update`` do.

Callers (``POST /events``, the Kafka source) hand over JSON lines with :meth:`Intake.submit` and get a
:class:`Ticket`. One worker thread gathers what was submitted until the batch holds ``max_events`` lines or
the oldest line has waited ``max_wait_s``; it then writes the batch to a private file under
``KG_HOME/serve/batches`` and ingests it with :func:`kg.ingest.ingest_file` (format ``jsonl``: the same
validation, pseudonymisation, quarantine, forgotten-list filter and idempotency as ``kg ingest``: an event
submitted twice is stored once; bad lines go to the quarantine under the batch's name and their line),
sets every ticket's ``ingested`` (the ledger and the graph hold the events),
brings the touched users' profiles up to date with :func:`kg.profiles.update_profiles` and sets ``updated``.
The batch file is removed once ingested (its bad rows stay in the quarantine, with the batch's name and line).

A crash loses only what was not yet ingested, and no caller was told it was: an HTTP client gets its answer
after ``ingested``, and the Kafka source commits offsets only then, so a replay re-submits the rest and the
ledger stores each event once.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.foundation.errors import KGError
from kg.foundation.home import private_dir
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.store import GraphStore

__all__ = ["Intake", "IntakeClosed", "Ticket", "Rejected", "BatchOutcome", "event_lines"]

logger = logging.getLogger(__name__)


class IntakeClosed(KGError, RuntimeError):
    """Events submitted to an intake that is stopping or whose worker failed."""


@dataclass(frozen=True)
class Rejected:
    """A submitted line that is not an event: its number within the submission (from 1) and why."""

    line: int
    reason: str


@dataclass
class BatchOutcome:
    """What one micro-batch did; shared by the tickets of that batch."""

    batch: str
    events: int = 0
    rows_ok: int = 0
    rows_bad: int = 0
    rows_forgotten: int = 0
    ingest_s: float = 0.0
    update_s: float = 0.0
    users_updated: int = 0
    update_note: str | None = None


@dataclass
class Ticket:
    """One submission's place in a batch. ``ingested`` is set once the ledger and graph hold its events,
    ``updated`` once the touched profiles are current (or the batch failed: see ``error``)."""

    lines: int
    source: str
    submitted: float = field(default_factory=time.perf_counter)
    rejected: list[Rejected] = field(default_factory=list)
    outcome: BatchOutcome | None = None
    error: BaseException | None = None
    finished: float | None = None  # perf_counter() when ``updated`` was reached
    ingested: threading.Event = field(default_factory=threading.Event)
    updated: threading.Event = field(default_factory=threading.Event)
    _callbacks: list[tuple[str, Callable[[], None]]] = field(default_factory=list, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def accepted(self) -> int:
        return self.lines - len(self.rejected)

    def when(self, stage: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from the worker thread, or now) once ``stage`` (``ingested``, ``updated``) is
        reached or the batch failed: how an asyncio handler waits without holding a thread."""
        event = self.ingested if stage == "ingested" else self.updated
        with self._guard:
            if not event.is_set():
                self._callbacks.append((stage, callback))
                return
        callback()

    def mark(self, stage: str) -> None:
        """Set ``stage`` (``updated`` implies ``ingested``) and run its callbacks."""
        stages = ("ingested", "updated") if stage == "updated" else ("ingested",)
        with self._guard:
            if "updated" in stages and self.finished is None:
                self.finished = time.perf_counter()
            for name in stages:
                (self.ingested if name == "ingested" else self.updated).set()
            due = [c for name, c in self._callbacks if name in stages]
            self._callbacks = [(name, c) for name, c in self._callbacks if name not in stages]
        for callback in due:
            callback()

    def wait_ingested(self, timeout: float | None = None) -> bool:
        """True once the events are in the ledger; raises the batch's error if ingesting failed."""
        done = self.ingested.wait(timeout)
        if self.error is not None:
            raise self.error
        return done

    def wait_updated(self, timeout: float | None = None) -> bool:
        """True once the touched users' profiles are up to date (ingest errors are raised)."""
        done = self.updated.wait(timeout)
        if self.error is not None:
            raise self.error
        return done


#: (ticket, its lines) waiting for the worker
_Pending = tuple[Ticket, list[str]]


class Intake:
    """The micro-batcher (see the module docstring). ``store_factory`` opens the worker's own store;
    ``observer`` (e.g. the metrics) is called with every finished batch and its tickets. The embedded
    server's log is compacted after a batch at most every ``compact_every_s`` seconds, and when stopping."""

    def __init__(
        self,
        settings: Settings,
        store_factory: Callable[[], GraphStore],
        *,
        max_events: int = 5_000,
        max_wait_s: float = 0.2,
        update: bool = True,
        observer: Callable[[BatchOutcome, list[Ticket]], None] | None = None,
        compact_every_s: float = 300.0,
    ) -> None:
        self.settings = settings
        self.store_factory = store_factory
        self.max_events = max_events
        self.max_wait_s = max_wait_s
        self.update = update
        self.observer = observer
        self.compact_every_s = compact_every_s
        self._written = False  # batches ingested since the server's log was last compacted
        self._compacted = time.monotonic()
        self._pending: list[_Pending] = []
        self._pending_lines = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._flush = False  # a caller waits for what it submitted before it sends more
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None  # why the worker stopped, when it did not stop on request
        self._numbers = itertools.count(1)
        self.batches_dir = private_dir(Path(settings.home) / "serve" / "batches")

    # -- callers ---------------------------------------------------------------------------------------
    def submit(self, lines: list[str], *, source: str = "http", flush: bool = False) -> Ticket:
        """Queue JSON lines (one event each, the generic event schema); returns at once. ``flush``: the
        caller sends nothing more until this is written (a Kafka poll), so the batch closes now."""
        ticket = Ticket(lines=len(lines), source=source)
        if not lines:
            ticket.mark("updated")
            return ticket
        with self._cond:
            if self.failure is not None:
                raise IntakeClosed(f"the intake stopped: {self.failure}", hint="see the service's log; restart it")
            if self._stopping:
                raise IntakeClosed("the service is stopping", hint="send the events again once it is back")
            self._pending.append((ticket, lines))
            self._pending_lines += len(lines)
            self._flush = self._flush or flush
            self._cond.notify_all()
        return ticket

    @property
    def alive(self) -> bool:
        """Whether the worker runs (False before :meth:`start`, after :meth:`stop` and once it failed)."""
        return self._thread is not None and self._thread.is_alive() and self.failure is None

    @property
    def waiting(self) -> int:
        """Lines submitted and not yet taken into a batch (the service's lag)."""
        return self._pending_lines

    # -- life cycle ------------------------------------------------------------------------------------
    def start(self) -> Intake:
        """Start the worker (first ingesting batch files a crash left behind)."""
        self._thread = threading.Thread(target=self._run, name="kg-intake", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30) -> None:
        """Finish what was submitted, then stop the worker."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- worker ----------------------------------------------------------------------------------------
    def _take(self) -> list[_Pending] | None:
        """The next batch: wait for a first submission, then until ``max_events`` or ``max_wait_s``."""
        with self._cond:
            while not self._pending and not self._stopping:
                self._cond.wait()
            if not self._pending:
                return None
            deadline = self._pending[0][0].submitted + self.max_wait_s
            while self._pending_lines < self.max_events and not self._stopping and not self._flush:
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                self._cond.wait(left)
            taken: list[_Pending] = []
            size = 0
            while self._pending and (not taken or size + len(self._pending[0][1]) <= self.max_events):
                entry = self._pending.pop(0)
                taken.append(entry)
                size += len(entry[1])
            self._pending_lines -= size
            self._flush = False
            return taken

    def _run(self) -> None:
        try:
            with contextlib.closing(self.store_factory()) as store:
                self._warm_up()
                self._recover(store)
                while (taken := self._take()) is not None:
                    self._process(store, taken)
                    self._compact(store, due=time.monotonic() - self._compacted >= self.compact_every_s)
                self._compact(store, due=True)
        except BaseException as e:  # noqa: BLE001 - no caller may wait for ever on a dead worker
            logger.error("the intake stopped: %s", type(e).__name__)
            with self._cond:
                self.failure = e
                pending, self._pending, self._pending_lines = self._pending, [], 0
            for ticket, _ in pending:
                ticket.error = e
                ticket.mark("updated")
            if not isinstance(e, Exception):
                raise

    def _compact(self, store: GraphStore, *, due: bool) -> None:
        """Rewrite the embedded server's log when due and something was written since the last time (a
        batch's ingest does not: at 10^6 events that costs about a second per batch)."""
        if not (due and self._written):
            return
        from kg.foundation.locks import writer_lock

        with writer_lock(self.settings, what="kg serve (compacting the log)"):
            store.compact()
        self._written, self._compacted = False, time.monotonic()

    def _warm_up(self) -> None:
        """Import what a batch's update needs once, at start, not in the first batch (PyKEEN's models take
        seconds to import; fold-in needs them when the graph has embeddings)."""
        if not self.update:
            return
        from kg.embeddings.runs import last_write
        from kg.profiles import incremental  # noqa: F401

        if last_write(self.settings.runs_dir, self.settings.graph) is not None:
            import pykeen.models  # noqa: F401

    def _recover(self, store: GraphStore) -> None:
        """Ingest batch files a crash left (their callers were never told they landed; ingest is idempotent)."""
        for path in sorted(self.batches_dir.glob("batch-*.jsonl")):
            if _owned_by_another_live_process(path):
                continue
            logger.info("ingesting a batch left by an earlier run: %s", path.name)
            try:
                self._ingest(store, path)
                path.unlink()
            except Exception as e:  # noqa: BLE001 - one bad leftover must not stop the service
                logger.warning("could not ingest leftover %s: %s", path.name, e)

    def _batch_file(self, taken: list[_Pending]) -> tuple[Path, list[tuple[Ticket, int]], _BatchRead]:
        """Write the batch to a private file, lines in submission order: each ticket's (ticket, first line)
        and the batch as ``kg ingest``'s reader sees it."""
        name = f"batch-{int(time.time() * 1000):013d}-{os.getpid()}-{next(self._numbers):06d}.jsonl"
        path = self.batches_dir / name
        texts = [text.replace("\n", " ").replace("\r", " ") for _, lines in taken for text in lines]
        starts, line = [], 1
        for ticket, lines in taken:
            starts.append((ticket, line))
            line += len(lines)
        _write_private(path, texts)
        return path, starts, _read_batch(path)

    def _ingest(self, store: GraphStore, path: Path) -> Any:
        from kg.ingest import ingest_file

        self._written = True
        return ingest_file(
            store,
            self.settings,
            path,
            kind="events",
            fmt="jsonl",
            max_bad_ratio=1.0,
            compact=False,
            check_format=False,  # the service wrote the file: even a batch of only bad lines is quarantined
        )

    def _process(self, store: GraphStore, taken: list[_Pending]) -> None:
        tickets = [ticket for ticket, _ in taken]
        outcome = BatchOutcome(batch="", events=sum(len(lines) for _, lines in taken))
        path: Path | None = None
        try:
            path, starts, read = self._batch_file(taken)
            rejected = read.rejected
            outcome.batch = path.name
            clock = time.perf_counter()
            report = self._ingest(store, path)
            outcome.rows_ok, outcome.rows_bad = report.rows_ok, report.rows_bad
            outcome.rows_forgotten = report.rows_forgotten
            outcome.ingest_s = round(time.perf_counter() - clock, 4)
            path.unlink(missing_ok=True)
        except BaseException as e:  # noqa: BLE001 - every caller of the batch hears of it
            logger.error("batch %s failed: %s", outcome.batch or "(not written)", e)
            if path is not None:
                path.unlink(missing_ok=True)  # nobody was told it landed: callers retry, the Kafka source replays
            for ticket in tickets:
                ticket.error, ticket.outcome = e, outcome
                ticket.mark("updated")
            if not isinstance(e, Exception):
                raise
            self._observe(outcome, tickets)
            return
        for (ticket, first), (_, lines) in zip(starts, taken, strict=True):
            ticket.rejected = [
                Rejected(n - first + 1, rejected[n]) for n in range(first, first + len(lines)) if n in rejected
            ]
            ticket.outcome = outcome
            ticket.mark("ingested")
        if self.update and outcome.rows_ok:
            self._update(store, outcome, read)
        for ticket in tickets:
            ticket.mark("updated")
        self._observe(outcome, tickets)

    def _observe(self, outcome: BatchOutcome, tickets: list[Ticket]) -> None:
        if self.observer is not None:
            try:
                self.observer(outcome, tickets)
            except Exception as e:  # noqa: BLE001 - metrics must never stop the intake
                logger.warning("batch observer failed: %s", e)

    def _update(self, store: GraphStore, outcome: BatchOutcome, read: _BatchRead) -> None:
        from kg.profiles import update_profiles

        clock = time.perf_counter()
        pseudonym = Pseudonymiser.from_settings(self.settings).user_id
        try:
            report = update_profiles(store, self.settings, around=({pseudonym(u) for u in read.users}, read.products))
            outcome.users_updated, outcome.update_note = report.users_updated, report.note
        except Exception as e:  # noqa: BLE001 - the events landed; the next batch's update catches up
            logger.warning("kg update after batch %s failed: %s", outcome.batch, e)
            outcome.update_note = f"update failed: {e}"
        outcome.update_s = round(time.perf_counter() - clock, 4)


def event_lines(value: bytes | str | None) -> list[str]:
    """The JSON lines (one event each) of a request body or a Kafka message value: an object, an array of
    objects, or JSON lines. Text that is not JSON is returned line by line, as it is, for the intake to reject
    with its reason (bytes that are not UTF-8 become U+FFFD first).

    >>> event_lines(b'[{"user_id": "u1"}, {"user_id": "u2"}]')
    ['{"user_id": "u1"}', '{"user_id": "u2"}']
    >>> event_lines(b'{"user_id": "u1"}\\n{"user_id": "u2"}\\n')
    ['{"user_id": "u1"}', '{"user_id": "u2"}']
    >>> event_lines(b"not json")
    ['not json']
    """
    if value is None:
        return []  # a tombstone: nothing to ingest
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
    if not text.strip():
        return []
    try:
        parsed = json.loads(text)
    except ValueError:  # JSON lines, or not JSON at all: each line goes as it is (the intake checks it)
        return [line.strip() for line in text.splitlines() if line.strip()]
    items = parsed if isinstance(parsed, list) else [parsed]
    return [json.dumps(item, ensure_ascii=False) for item in items]


def _owned_by_another_live_process(path: Path) -> bool:
    """Whether a batch file's name (``batch-<ms>-<pid>-<n>.jsonl``) names another process that still runs
    (a second ``kg serve`` on the same home, writing it now)."""
    parts = path.stem.split("-")
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    pid = int(parts[2])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_private(path: Path, texts: list[str]) -> None:
    """``texts`` as lines of a file only the owner may read (it holds raw user ids until ingested)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.writelines(text + "\n" for text in texts)


@dataclass
class _BatchRead:
    """A batch file as ``kg ingest``'s reader sees it: why each bad line (by number) is bad; the raw users
    and the products of its events (whose new ones the update folds in)."""

    rejected: dict[int, str] = field(default_factory=dict)
    users: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)


def _read_batch(path: Path) -> _BatchRead:
    """Read a batch file with the reader ``kg ingest`` uses."""
    from kg.ingest.event_readers import read_events_jsonl
    from kg.ingest.records import BadRow
    from kg.ingest.source import LineSource

    read = _BatchRead()
    with LineSource(path) as source:
        for record in read_events_jsonl(source):
            if isinstance(record, BadRow):
                read.rejected[record.line] = record.reason
            else:
                read.users.add(record.user)
                read.products.add(record.item)
    return read
