"""The ingest engine: manifest check, streaming read, quarantine, batched idempotent writes, report.

Callers use :func:`kg.ingest.api.ingest_file`, which picks the reader and loader from the format registry;
this module runs one file through them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.foundation.errors import KGError, shorten
from kg.foundation.forgotten import ForgottenUsers
from kg.foundation.locks import writer_lock
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ingest.detect import guard_format
from kg.ingest.loaders import Loader
from kg.ingest.manifest import Manifest, run_key
from kg.ingest.product_readers import is_sparse
from kg.ingest.quarantine import Quarantine
from kg.ingest.records import BadRow
from kg.ingest.report import IngestReport
from kg.ingest.source import LineSource, file_checksum
from kg.store import GraphStore, batched

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kg.ingest.formats import Format

__all__ = ["run_ingest", "run_format", "IngestReport", "IngestSummary", "Reader", "ProgressHook"]

logger = logging.getLogger(__name__)

Reader = Callable[[LineSource], Iterator[Any]]
ProgressHook = Callable[[int, int], None]  # (bytes done, bytes total)
IngestSummary = IngestReport  # the name used before the report became its own module


def run_ingest(
    store: GraphStore,
    settings: Settings,
    path: Path,
    *,
    kind: str,
    fmt: str,
    reader: Reader,
    loader: Loader,
    force: bool = False,
    max_bad_ratio: float | None = None,
    progress: ProgressHook | None = None,
    user_fields: Sequence[str] = (),
    allow_forgotten: bool = False,
    checksum: str | None = None,
    label: str | None = None,
    compact: bool = True,
    check_format: bool = True,
) -> IngestReport:
    """Ingest one file. Finished files are skipped unless ``force``; every write is idempotent, so a
    forced or interrupted-and-repeated run leaves the same graph as one clean run. A run that fails
    is recorded as ``failed`` with its reason in the manifest before the error propagates.
    ``user_fields`` names the file's own user-id columns (beyond the usual names), which the
    quarantine pseudonymises.

    Rows of people on the forgotten list (``kg forget``) are skipped and counted (``rows_forgotten``);
    with ``allow_forgotten`` they are loaded and the people taken off the list.

    ``check_format`` stops early when the first rows are mostly unusable in this format (a file in another
    format); inputs kg wrote itself skip it, so even a file of only bad rows goes to the quarantine.

    ``compact`` rewrites the embedded server's append-only log at the end (callers that write often, such as
    ``kg serve``'s batches, compact on their own schedule).

    ``checksum`` replaces the file's sha256 as the run's identity and ``label`` names the input in the
    report, the manifest and the quarantine (both for inputs made on the fly, e.g. :mod:`kg.ingest.sql_source`)."""
    path = Path(path)
    limit = settings.max_bad_ratio if max_bad_ratio is None else max_bad_ratio
    # one writer per graph: a second ingest waits (readers never do), so concurrent runs equal sequential ones
    with writer_lock(settings, what=f"ingest {kind} {path.name}"), LineSource(path) as source:
        checksum = checksum or file_checksum(path)
        key = run_key(kind, fmt, checksum)
        report = IngestReport(file=label or str(path), kind=kind, format=fmt, run_id=key, max_bad_ratio=limit)
        manifest = Manifest(store)
        store.ensure_schema()
        previous = manifest.get(key)
        if previous and previous.get("status") == "finished" and not force:
            logger.info("%s already ingested (run %s); skipping", path, key)
            report.skipped, report.status = True, "finished"
            report.rows_ok, report.rows_bad = int(previous.get("rows_ok", 0)), int(previous.get("rows_bad", 0))
            return report
        manifest.start(key, file=(label or path.name)[:500], kind=kind, format=fmt, checksum=checksum)
        started = time.perf_counter()
        try:
            _stream(
                store,
                settings,
                source,
                path,
                reader,
                loader,
                report,
                progress,
                checksum,
                user_fields,
                _ForgottenFilter(settings, allow=allow_forgotten),
                check_format,
            )
        except BaseException as e:
            report.seconds = round(time.perf_counter() - started, 3)
            _record_failure(manifest, key, report, e)
            raise
        finally:
            close = getattr(loader, "close", None)
            if callable(close):
                close()
        report.seconds = round(time.perf_counter() - started, 3)
        report.status = "finished"
        manifest.finish(
            key, rows_ok=report.rows_ok, rows_bad=report.rows_bad, status="finished", seconds=report.seconds
        )
        if compact:
            store.compact()
        logger.info("ingested %s: %d ok, %d bad in %.1f s", path, report.rows_ok, report.rows_bad, report.seconds)
        return report


def run_format(
    store: GraphStore, settings: Settings, path: Path, chosen: Format, options: Mapping[str, Any], **run: Any
) -> IngestReport:
    """:func:`run_ingest` with the reader and a loader of format ``chosen`` for its ``options``; the column
    that ``options`` maps ``user_id`` to is pseudonymised too. ``run`` are run_ingest's other options."""
    loader = chosen.make_loader(settings, options)

    def reader(source: LineSource) -> Iterator[Any]:
        return chosen.read(source, options)

    mapped_user = (options.get("columns") or {}).get("user_id")
    user_fields = (mapped_user,) if mapped_user else ()
    return run_ingest(store, settings, path, reader=reader, loader=loader, user_fields=user_fields, **run)


_RAW_SCAN = 10_000  # characters of a bad row searched for a forgotten person's id (the raw quarantine keeps as many)
_FIELD_SPLIT = re.compile(r"[,;\t|\"'{}\[\]]|\s{2,}")  # CSV/TSV/JSON field boundaries (an id may hold a space)
_ID_TOKEN = re.compile(r"[^\W_]+(?:[_.:-][^\W_]+)*")  # id-like words (as the quarantine masks them)


class _ForgottenFilter:
    """Keeps the rows of forgotten people out of an ingest (or lets them in and takes them off the list).

    A record's raw ``user`` is pseudonymised and looked up once per distinct user (cached); files
    without users (catalogues), and installations where nobody was forgotten, cost nothing."""

    _CACHE = 200_000

    def __init__(self, settings: Settings, *, allow: bool) -> None:
        self.allow = allow
        self.forgotten = ForgottenUsers.from_settings(settings)
        self._pseudonymiser = Pseudonymiser.from_settings(settings) if self.forgotten else None
        self._cache: dict[str, str | None] = {}  # raw id -> pseudonym when forgotten, else None
        self.skipped = 0
        self.returning: set[str] = set()  # pseudonyms whose rows were let in

    def _forgotten(self, raw: str) -> str | None:
        hit = self._cache.get(raw, "")
        if hit == "":
            assert self._pseudonymiser is not None
            pseudonym = self._pseudonymiser.user_id(raw)
            hit = pseudonym if pseudonym in self.forgotten else None
            if len(self._cache) >= self._CACHE:
                self._cache.clear()
            self._cache[raw] = hit
        return hit

    def __call__(self, records: list[Any]) -> list[Any]:
        if self._pseudonymiser is None:
            return records
        kept = []
        for record in records:
            raw = getattr(record, "user", None)
            pseudonym = self._forgotten(str(raw)) if raw is not None else None
            if pseudonym is None:
                kept.append(record)
            elif self.allow:
                self.returning.add(pseudonym)
                kept.append(record)
            else:
                self.skipped += 1
        return kept

    def names_forgotten(self, bad: BadRow) -> bool:
        """True (and counted as skipped) when a bad row names a forgotten person: any token or field of its
        raw text whose pseudonym is on the list. Such a row never reaches the quarantine (unless allowed)."""
        if self._pseudonymiser is None or self.allow or not bad.raw:
            return False
        text = bad.raw[:_RAW_SCAN]
        tokens = set(_FIELD_SPLIT.split(text)) | set(_ID_TOKEN.findall(text))
        if any(token and self._forgotten(token.strip()) is not None for token in tokens):
            self.skipped += 1
            return True
        return False

    def finish(self) -> None:
        """Take the people whose rows were let in off the forgotten list."""
        for pseudonym in self.returning:
            self.forgotten.remove(pseudonym)
        if self.returning:
            logger.info("%d forgotten user(s) re-admitted (--allow-forgotten)", len(self.returning))


def _stream(
    store: GraphStore,
    settings: Settings,
    source: LineSource,
    path: Path,
    reader: Reader,
    loader: Loader,
    report: IngestReport,
    progress: ProgressHook | None,
    checksum: str,
    user_fields: Sequence[str],
    forgotten: _ForgottenFilter,
    check_format: bool = True,
) -> None:
    """Read, quarantine and load every batch of ``source``; fill ``report``."""
    quarantine = Quarantine.from_settings(settings, path, kind=report.kind, checksum=checksum, user_fields=user_fields)
    if report.file != str(path):  # an input made on the fly: bad rows name what the user gave
        quarantine.source = report.file
    try:
        records = reader(source)
        if check_format:  # wrong format: stop early
            records = guard_format(records, path, report.kind, report.format)
        for chunk in batched(records, settings.batch_size):
            good = []
            for record in chunk:
                if isinstance(record, BadRow):
                    if not forgotten.names_forgotten(record):  # suppression comes before the quarantine
                        quarantine.add(record)
                else:
                    good.append(record)
            good = forgotten(good)
            if good:
                loader.load(store, good)
            report.rows_ok += len(good)
            if report.kind == "products":
                report.rows_sparse += sum(1 for record in good if is_sparse(record))
            report.rows_forgotten = forgotten.skipped
            if progress:
                progress(source.bytes_read, source.total_bytes)
        loader.finish(store)
        store.flush()
        forgotten.finish()
    finally:
        quarantine.close()
    report.rows_bad = quarantine.count
    report.bad_reasons = dict(quarantine.reasons.most_common(10))
    report.quarantine = str(quarantine.path) if quarantine.count else None
    report.warnings = dict(getattr(loader, "warnings", {}) or {})
    for warning, count in source.warnings.items():
        report.warnings[warning] = report.warnings.get(warning, 0) + count
    if report.rows_ok == 0 and report.rows_bad == 0 and report.rows_forgotten == 0:
        report.warnings["no data rows in the file (empty or header only)"] = 1
    details = getattr(loader, "details", None)
    if callable(details):
        report.details = dict(details() or {})


def _record_failure(manifest: Manifest, key: str, report: IngestReport, error: BaseException) -> None:
    """Mark the run failed (with a one-line reason) so it never stays ``running``; best effort."""
    if isinstance(error, KeyboardInterrupt):
        reason = "interrupted"
    elif isinstance(error, KGError):
        reason = str(error)
    else:
        reason = f"{type(error).__name__}: {error}"
    report.status = "failed"
    try:
        manifest.finish(
            key, status="failed", error=shorten(reason, 500), rows_ok=report.rows_ok, seconds=report.seconds
        )
    except Exception as e:  # the store itself may be what failed
        logger.warning("could not record the failed run %s: %s", key, e)
