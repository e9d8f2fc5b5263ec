"""``kg schedule``: ingest files dropped into an inbox, on a timer (APScheduler) or once.

Each file is ingested through :func:`kg.ingest.api.ingest_file` (the call behind ``kg ingest``), then moved
to ``done/`` or ``failed/`` with its report beside it (``NAME.report.json``). Kind and format come from a
sidecar ``NAME.kg.json`` (``{"kind": "events", "format": "csv", "delimiter": ";", ...}``: other keys are
the format's options) or from the name ``<kind>__anything.<ext>`` (format detected). A file is taken
only once its size and modification time are unchanged across two looks, or it is older than
``settle`` seconds, or a ``NAME.ready`` marker sits beside it, so half-copied files wait (``*.part`` and
dot-files are never taken: write those, then rename); a file that changed while it was read stays for the
next tick. Sidecars are checked like CLI options (``allow_forgotten`` is refused: an operator's flag); a file
that cannot be handled goes to ``failed/`` with the reason and the batch goes on. After a batch that ingested
something, the touched users' profiles are brought up to date (``kg update``) when the graph already has
profiles (a ``Segment`` node) and ``profiles`` is on.

One batch at a time: the batch holds the graph's writer lock (:func:`kg.foundation.locks.writer_lock`, an flock
the OS drops when a process dies, so a crash never leaves it stuck); a tick that finds it taken is
skipped. Every ingest is logged as an ``(:IngestRun)`` by the ingest runner (``kg runs`` lists them).

This module is top-layer orchestration (like :mod:`kg.operations.demo`): it may use ``ingest`` and ``profiles``.

>>> parse_every("5m"), parse_every("90s"), parse_every("2h"), parse_every("45")
(300.0, 90.0, 7200.0, 45.0)
>>> classify(Path("inbox/events__shop-a.csv.gz"))
('events', None, {})
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from kg.foundation.errors import BusyError, ConfigError, KGError, shorten
from kg.foundation.settings import Settings

__all__ = [
    "KINDS",
    "SIDECAR",
    "parse_every",
    "classify",
    "Inbox",
    "BatchReport",
    "FileOutcome",
    "run_batch",
    "run_schedule",
    "make_trigger",
    "record_inbox",
    "known_inboxes",
    "INBOXES",
]

logger = logging.getLogger(__name__)

KINDS = ("events", "products", "reviews")
SIDECAR = ".kg.json"
REPORT = ".report.json"
READY = ".ready"
_SKIP_SUFFIXES = (SIDECAR, REPORT, READY, ".part", ".tmp", ".crdownload", ".partial", "~")
NAME_MAX = 255  # bytes of one file name (ext4, xfs, tmpfs, overlayfs)
INBOXES = "schedule/inboxes.json"  # under KG_HOME: every inbox kg schedule used (kg forget scrubs their copies)
_NAMED = re.compile(r"^(events|products|reviews)__.+\.[A-Za-z0-9.]+$")
_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_every(text: str) -> float:
    """``30s``, ``5m``, ``1h``, ``1d`` or plain seconds, as seconds (at least 1)."""
    match = _EVERY.match(str(text))
    if not match:
        raise ConfigError(f"--every {text!r} is not a duration", hint="e.g. 30s, 5m, 1h")
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if seconds < 1:
        raise ConfigError(f"--every {text!r} is under one second", hint="e.g. 30s, 5m, 1h")
    return seconds


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False for a name the file system refuses (too long: a sidecar of a 250-byte name)."""
    try:
        return path.is_file()
    except OSError:
        return False


def classify(path: Path) -> tuple[str, str | None, dict[str, Any]]:
    """(kind, format or None, options) of an inbox file, from its sidecar or its name (ConfigError when neither)."""
    sidecar = path.with_name(path.name + SIDECAR)
    if _is_file(sidecar):
        try:
            spec = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ConfigError(f"{sidecar.name}: not a JSON object ({' '.join(str(e).split())[:120]})") from None
        if not isinstance(spec, dict):
            raise ConfigError(f"{sidecar.name}: not a JSON object", hint='e.g. {"kind": "events", "format": "csv"}')
        options = dict(spec)
        kind = options.pop("kind", None)
        fmt = options.pop("format", None)
        if kind not in KINDS:
            raise ConfigError(f"{sidecar.name}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if fmt is not None and not isinstance(fmt, str):
            raise ConfigError(f"{sidecar.name}: format must be text")
        return kind, fmt, _check_sidecar(sidecar.name, options)
    match = _NAMED.match(path.name)
    if match:
        return match.group(1), None, {}
    raise ConfigError(
        f"{path.name}: cannot tell what it holds",
        hint=f"name it <kind>__name.ext (kind: {', '.join(KINDS)}) or add {path.name}{SIDECAR}",
    )


#: What a sidecar may hold besides kind and format (the CLI options of kg ingest that a file may choose).
SIDECAR_OPTIONS = (
    "force",
    "max_bad_ratio",
    "delimiter",
    "columns",
    "lang",
    "store_text",
    "sentiment",
    "folds",
    "synonyms",
    "event_types",
    "time_format",
    "tz",
)  # the last three: checked by the events reader
#: Options only an operator may give, on the command line.
_OPERATOR_ONLY = {
    "allow_forgotten": "re-admitting forgotten people is an operator's command "
    "(kg ingest ... --allow-forgotten), never a file's option"
}


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_sidecar(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """A sidecar's options checked as the CLI checks its options (types, ranges, known keys): ConfigError else."""

    def bad(key: str, want: str) -> ConfigError:
        got = repr(options[key])
        return ConfigError(f"{name}: {key} must be {want} (got {got[:40] + '...' if len(got) > 40 else got})")

    for key in sorted(options):
        if key in _OPERATOR_ONLY:
            raise ConfigError(f"{name}: {key} is refused: {_OPERATOR_ONLY[key]}")
    unknown = sorted(k for k in options if k not in SIDECAR_OPTIONS)
    if unknown:
        shown = ", ".join(repr(k)[:40] for k in unknown[:5])
        raise ConfigError(f"{name}: unknown key(s) {shown}; a sidecar takes kind, format, {', '.join(SIDECAR_OPTIONS)}")
    out = {k: v for k, v in options.items() if v is not None}  # null: not given, like a CLI option left out
    for key in ("force", "store_text"):
        if key in out and not isinstance(out[key], bool):
            raise bad(key, "true or false")
    if "max_bad_ratio" in out and not (_is_number(out["max_bad_ratio"]) and 0 <= out["max_bad_ratio"] <= 1):
        raise bad("max_bad_ratio", "a number from 0 to 1")
    if "folds" in out and not (
        isinstance(out["folds"], int) and not isinstance(out["folds"], bool) and 2 <= out["folds"] <= 20
    ):
        raise bad("folds", "a whole number from 2 to 20")
    if "delimiter" in out:
        value = out["delimiter"]
        value = {"tab": "\t", "\\t": "\t"}.get(value.lower(), value) if isinstance(value, str) else value
        if not isinstance(value, str) or len(value) != 1:
            raise bad("delimiter", "one character (or 'tab')")
        out["delimiter"] = value
    if "columns" in out and not (
        isinstance(out["columns"], dict)
        and out["columns"]
        and all(isinstance(v, str) and v.strip() for v in out["columns"].values())
    ):
        raise bad("columns", "an object of field -> column name")
    for key in ("lang", "sentiment"):
        if key in out and not (isinstance(out[key], str) and out[key].strip()):
            raise bad(key, "text")
    if "synonyms" in out and not (
        isinstance(out["synonyms"], str)
        and out["synonyms"].strip()
        or isinstance(out["synonyms"], dict)
        and all(isinstance(v, str) for v in out["synonyms"].values())
    ):
        raise bad("synonyms", "a path or an object of variant -> canonical")
    return out


def fit_name(name: str, *, reserve: int = len(REPORT)) -> str:
    """``name``, shortened (a hash keeps it unique, the extensions are kept) when ``name`` plus ``reserve`` bytes
    would be over the file-name limit (the report ``NAME.report.json`` goes beside it).

    >>> fit_name("a.csv"), len(fit_name("x" * 250 + ".csv").encode())
    ('a.csv', 243)
    """
    budget = NAME_MAX - reserve
    if len(os.fsencode(name)) <= budget:
        return name
    import hashlib

    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:10]
    suffix = "".join(Path(name).suffixes)
    suffix = suffix if len(os.fsencode(suffix)) <= 24 else ""
    head = name[: len(name) - len(suffix)] if suffix else name
    tail = f"~{digest}{suffix}"
    while head and len(os.fsencode(head + tail)) > budget:
        head = head[:-1]
    return head + tail


@dataclass
class FileOutcome:
    """What happened to one inbox file."""

    file: str
    status: str  # done | failed
    kind: str | None = None
    format: str | None = None
    run_id: str | None = None
    rows_ok: int = 0
    rows_bad: int = 0
    rows_sparse: int = 0  # catalogue rows with an id and no other field: landed, not bad
    skipped: bool = False
    error: str | None = None
    moved_to: str | None = None


@dataclass
class BatchReport:
    """One tick of the scheduler."""

    inbox: str
    started_at: float = field(default_factory=time.time)
    seconds: float = 0.0
    files: list[FileOutcome] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # still being written
    profiles: dict[str, Any] | None = None
    skipped: str | None = None  # why the whole tick did nothing

    @property
    def done(self) -> int:
        return sum(1 for f in self.files if f.status == "done")

    @property
    def failed(self) -> int:
        return sum(1 for f in self.files if f.status == "failed")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "done": self.done, "failed": self.failed}

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"{self.inbox}: skipped ({self.skipped})"]
        out = [
            f"{self.inbox}: {self.done} done, {self.failed} failed, {len(self.waiting)} still being written "
            f"({self.seconds:.1f} s)"
        ]
        for f in self.files:
            what = f"{f.rows_ok:,} rows ok, {f.rows_bad:,} bad" if f.status == "done" else (f.error or "")
            what += f" ({f.rows_sparse:,} sparse)" if f.status == "done" and f.rows_sparse else ""
            out.append(
                f"  {f.status}: {f.file} ({f.kind or '?'}) {what}" + (" [already ingested]" if f.skipped else "")
            )
        if self.profiles is not None:
            out.append(f"  profiles: {self.profiles.get('status')} {self.profiles.get('detail', '')}".rstrip())
        return out


class Inbox:
    """An inbox folder with ``done/`` and ``failed/`` inside; remembers what it saw at the last look."""

    def __init__(self, root: Path | str, *, settle: float = 60.0) -> None:
        self.root = Path(root).expanduser().resolve()
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"--inbox {self.root} is not a folder")
        self.settle = settle
        self.done_dir = self.root / "done"
        self.failed_dir = self.root / "failed"
        self._seen: dict[str, tuple[int, int]] = {}

    def ensure(self) -> None:
        for folder in (self.root, self.done_dir, self.failed_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def candidates(self) -> dict[str, tuple[int, int]]:
        """{name: (size, mtime_ns)} of the files waiting in the inbox (not sidecars, reports, partial files)."""
        found: dict[str, tuple[int, int]] = {}
        for entry in os.scandir(self.root):
            if (
                not entry.is_file(follow_symlinks=False)
                or entry.name.startswith(".")
                or entry.name.endswith(_SKIP_SUFFIXES)
            ):
                continue
            stat = entry.stat(follow_symlinks=False)
            found[entry.name] = (stat.st_size, stat.st_mtime_ns)
        return found

    def look(self) -> tuple[list[Path], list[str]]:
        """(files ready to ingest, names still changing): ready = marked ready (``NAME.ready`` beside it), or
        same size and mtime as at the previous look, or untouched for ``settle`` seconds."""
        now_ns = time.time_ns()
        current = self.candidates()
        ready, waiting = [], []
        for name, stat in sorted(current.items()):
            if (
                self._seen.get(name) == stat
                or (now_ns - stat[1]) / 1e9 >= self.settle
                or _is_file(self.root / (name + READY))
            ):
                ready.append(self.root / name)
            else:
                waiting.append(name)
        self._seen = current
        return ready, waiting

    def move(self, path: Path, outcome: FileOutcome, report: dict[str, Any]) -> Path:
        """Move ``path`` (and its sidecar) to done/ or failed/, with ``NAME.report.json`` beside it."""
        folder = self.done_dir if outcome.status == "done" else self.failed_dir
        target = folder / fit_name(path.name)  # a name too long for NAME.report.json is shortened
        if target.exists() or target.with_name(target.name + REPORT).exists():
            target = folder / fit_name(f"{time.strftime('%Y%m%dT%H%M%S')}-{path.name}")
        shutil.move(str(path), target)
        sidecar = path.with_name(path.name + SIDECAR)
        if _is_file(sidecar):
            shutil.move(str(sidecar), target.with_name(target.name + SIDECAR))
        if _is_file(path.with_name(path.name + READY)):
            path.with_name(path.name + READY).unlink()  # the hand-off marker has served
        outcome.moved_to = str(target)
        target.with_name(target.name + REPORT).write_text(
            json.dumps({"outcome": asdict(outcome), "report": report}, indent=2, default=str), encoding="utf-8"
        )
        return target


def record_inbox(settings: Settings, root: Path) -> None:
    """Note ``root`` (absolute) in ``KG_HOME/schedule/inboxes.json``: the files kg moves to its ``done/`` and
    ``failed/`` hold people's raw ids, and ``kg forget`` must find them (they may live outside KG_HOME)."""
    from kg.foundation.home import private_dir, write_private

    path = settings.home / INBOXES
    folders = [str(p) for p in known_inboxes(settings.home, existing=False)]
    if str(root) in folders:
        return
    private_dir(path.parent)
    write_private(path, json.dumps({"inboxes": sorted({*folders, str(root)})}, indent=2))


def known_inboxes(home: Path, *, existing: bool = True) -> list[Path]:
    """The inbox folders recorded by :func:`record_inbox` (those that still exist, unless ``existing`` is False)."""
    try:
        folders = json.loads((Path(home) / INBOXES).read_text(encoding="utf-8")).get("inboxes", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [Path(f) for f in folders if isinstance(f, str) and (not existing or Path(f).is_dir())]


def _ingest_one(store: Any, settings: Settings, path: Path) -> tuple[FileOutcome, dict[str, Any]]:
    from kg.ingest.api import ingest_file

    outcome = FileOutcome(file=path.name, status="failed")
    try:
        kind, fmt, options = classify(path)
        outcome.kind, outcome.format = kind, fmt
        force = bool(options.pop("force", False))
        max_bad = options.pop("max_bad_ratio", None)
        report = ingest_file(store, settings, path, kind=kind, fmt=fmt, force=force, max_bad_ratio=max_bad, **options)
        ok = report.ok
    except BusyError:
        raise  # the graph is busy: leave the file for the next tick
    except KGError as e:
        outcome.error = " ".join(str(e).split())
        return outcome, {}
    except Exception as e:  # noqa: BLE001 - one bad file must not stop the batch; the error goes in its report
        logger.warning("%s: %s", path.name, e, exc_info=logger.isEnabledFor(logging.DEBUG))
        outcome.error = shorten(f"{type(e).__name__}: {' '.join(str(e).split())}", 500)
        return outcome, {}
    outcome.format, outcome.run_id = report.format, report.run_id
    outcome.rows_ok, outcome.rows_bad, outcome.skipped = report.rows_ok, report.rows_bad, report.skipped
    outcome.rows_sparse = report.rows_sparse
    if ok:
        outcome.status = "done"
    else:
        outcome.error = f"bad-row share {report.bad_ratio:.2%} is over the limit {report.max_bad_ratio}"
    return outcome, report.as_dict()


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _move_or_fail(inbox: Inbox, path: Path, outcome: FileOutcome, report: dict[str, Any]) -> None:
    """:meth:`Inbox.move`; when that fails the file goes to failed/ with the reason (one bad file must not stop
    the inbox); when even that fails it stays, the reason logged and in the batch report."""
    try:
        inbox.move(path, outcome, report)
        return
    except OSError as e:
        error = shorten(f"cannot move it to {outcome.status}/: {type(e).__name__}: {' '.join(str(e).split())}", 500)
    logger.warning("%s: %s", path.name, error)
    outcome.status, outcome.error = "failed", error
    try:
        if path.exists():
            inbox.move(path, outcome, {})
    except OSError as e:
        logger.error("%s: cannot move it to failed/ either: %s", path.name, e)


def _has_profiles(store: Any) -> bool:
    return int(store.stats()["nodes"].get("Segment", 0)) > 0


def _update_profiles(store: Any, settings: Settings) -> dict[str, Any]:
    """``kg update`` after a batch: only the users the batch touched (a full kg profiles is not needed)."""
    if not _has_profiles(store):
        return {"status": "skipped", "detail": "no profiles in the graph yet (run kg profiles once)"}
    from kg.profiles import update_profiles  # the profiles extra: only where kg profiles has run

    try:
        result = update_profiles(store, settings)
    except KGError as e:
        return {"status": "failed", "detail": " ".join(str(e).split())}
    return {
        "status": "done",
        "detail": " ".join(result.lines()[:1]),
        "run": result.run,
        "users_updated": result.users_updated,
    }


def _default_opener() -> Callable[[Settings], Any]:
    """The store opener a batch uses unless given one (imported late: the store pulls in its client)."""
    from kg.store import open_store

    return open_store


def run_batch(
    settings: Settings, inbox: Inbox, *, profiles: bool = True, open_store: Callable[[Settings], Any] | None = None
) -> BatchReport:
    """One tick: ingest every ready file of ``inbox``, move it, then update profiles (see the module doc)."""
    from kg.foundation.locks import writer_lock

    open_store = open_store or _default_opener()
    batch = BatchReport(inbox=str(inbox.root))
    started = time.perf_counter()
    inbox.ensure()
    record_inbox(settings, inbox.root)
    ready, batch.waiting = inbox.look()
    if not ready:
        batch.seconds = round(time.perf_counter() - started, 3)
        return batch
    try:
        with writer_lock(settings, what=f"kg schedule {inbox.root.name}", timeout=0), open_store(settings) as store:
            for path in ready:
                before = _stat(path)
                if before is None:  # taken away since the look
                    continue
                if before != inbox._seen.get(path.name, before):  # written to since the look: wait
                    batch.waiting.append(path.name)
                    continue
                outcome, report = _ingest_one(store, settings, path)
                if _stat(path) != before:  # still being written: the next tick takes it (the ingest is idempotent)
                    logger.warning("%s: changed while it was read; left for the next tick", path.name)
                    batch.waiting.append(path.name)
                    continue
                _move_or_fail(inbox, path, outcome, report)
                batch.files.append(outcome)
                logger.info("%s: %s", path.name, outcome.status)
            if profiles and any(f.status == "done" and not f.skipped for f in batch.files):
                batch.profiles = _update_profiles(store, settings)
    except BusyError as e:
        batch.skipped = f"the graph is busy: {' '.join(str(e).split())}"
        inbox._seen = {}  # look again from scratch next time
    batch.seconds = round(time.perf_counter() - started, 3)
    return batch


def warm_text_encodings(settings: Settings, *, open_store: Callable[[Settings], Any] | None = None) -> int:
    """Before the first tick: encode the product texts that text cold-start learns from (kept in the run
    folder), so that the first batch with new products encodes only those. Best effort: 0 when there is
    no trained run, no local text encoder or no embeddings extra; a failure is logged, never raised."""
    from kg.foundation.extras import available

    if not available("embeddings"):
        return 0
    from kg.embeddings import warm_text_encodings as warm

    open_store = open_store or _default_opener()
    try:
        with open_store(settings) as store:
            encoded = warm(store, settings)
    except KGError as e:
        logger.warning("could not prepare the text encodings: %s", " ".join(str(e).split()))
        return 0
    if encoded:
        logger.info("encoded %d product texts for text cold-start ahead of the first batch", encoded)
    return encoded


def make_trigger(*, every: str | None = None, cron: str | None = None) -> Any:
    """An APScheduler trigger for ``--every`` or ``--cron`` (exactly one)."""
    if (every is None) == (cron is None):
        raise ConfigError("give exactly one of --every and --cron", hint='e.g. --every 5m or --cron "*/5 * * * *"')
    if every is not None:
        from apscheduler.triggers.interval import IntervalTrigger

        return IntervalTrigger(seconds=parse_every(every))
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger.from_crontab(cron)
    except ValueError as e:
        raise ConfigError(f"--cron {cron!r}: {e}", hint="five fields: minute hour day month weekday") from None


def run_schedule(
    settings: Settings,
    inbox: Inbox,
    *,
    every: str | None = None,
    cron: str | None = None,
    profiles: bool = True,
    on_batch: Callable[[BatchReport], None] | None = None,
) -> None:
    """Run :func:`run_batch` now and then on the trigger, until interrupted (one batch at a time)."""
    from datetime import datetime

    from apscheduler.schedulers.blocking import BlockingScheduler

    trigger = make_trigger(every=every, cron=cron)
    inbox.ensure()
    if profiles:
        warm_text_encodings(settings)

    def tick() -> None:
        try:
            batch = run_batch(settings, inbox, profiles=profiles)
        except KGError as e:  # the database is down: say so and try again next tick
            logger.error("scheduled batch failed: %s", e)
            return
        if on_batch is not None and (batch.files or batch.skipped):
            on_batch(batch)

    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        tick,
        trigger,
        id="inbox",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
        misfire_grace_time=None,
    )
    logger.info("watching %s (%s)", inbox.root, f"every {every}" if every else f"cron {cron}")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
