"""Run one ingest: manifest check, streaming read, quarantine, batched idempotent writes, summary.

>>> summary = run_ingest(store, settings, Path("events.csv"), kind="events", fmt="csv",
...                      reader=EVENT_READERS["csv"], loader=EventLoader(p))   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingest.loaders import Loader
from ingest.manifest import Manifest, run_key
from ingest.quarantine import Quarantine
from ingest.records import BadRow
from ingest.source import LineSource, file_checksum
from kg.settings import Settings
from kg.store import GraphStore, batched

__all__ = ["run_ingest", "IngestSummary"]

logger = logging.getLogger(__name__)

Reader = Callable[[LineSource], Iterator[Any]]
ProgressHook = Callable[[int, int], None]  # (bytes done, bytes total)


@dataclass
class IngestSummary:
    """What one ingest did; ``ok`` is False when the bad-row share exceeded the limit."""

    file: str
    kind: str
    format: str
    run_id: str
    skipped: bool = False
    rows_ok: int = 0
    rows_bad: int = 0
    seconds: float = 0.0
    quarantine: str | None = None
    bad_reasons: dict[str, int] = field(default_factory=dict)
    max_bad_ratio: float = 0.01
    warnings: dict[str, int] = field(default_factory=dict)

    @property
    def bad_ratio(self) -> float:
        total = self.rows_ok + self.rows_bad
        return self.rows_bad / total if total else 0.0

    @property
    def ok(self) -> bool:
        return self.bad_ratio <= self.max_bad_ratio

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "bad_ratio": round(self.bad_ratio, 6), "ok": self.ok,
                "rows_per_s": round(self.rows_ok / self.seconds, 1) if self.seconds else None}


def run_ingest(store: GraphStore, settings: Settings, path: Path, *, kind: str, fmt: str, reader: Reader,
               loader: Loader, force: bool = False, max_bad_ratio: float | None = None,
               progress: ProgressHook | None = None) -> IngestSummary:
    """Ingest one file. Finished files are skipped unless ``force``; every write is idempotent, so a
    forced or interrupted-and-repeated run leaves the same graph as one clean run."""
    path = Path(path)
    limit = settings.max_bad_ratio if max_bad_ratio is None else max_bad_ratio
    with LineSource(path) as source:
        checksum = file_checksum(path)
        key = run_key(kind, fmt, checksum)
        summary = IngestSummary(file=str(path), kind=kind, format=fmt, run_id=key, max_bad_ratio=limit)
        manifest = Manifest(store)
        store.ensure_schema()
        previous = manifest.get(key)
        if previous and previous.get("status") == "finished" and not force:
            logger.info("%s already ingested (run %s); skipping", path, key)
            summary.skipped = True
            summary.rows_ok, summary.rows_bad = int(previous.get("rows_ok", 0)), int(previous.get("rows_bad", 0))
            return summary
        manifest.start(key, file=path.name, kind=kind, format=fmt, checksum=checksum)
        quarantine = Quarantine(settings.quarantine_dir / f"{kind}-{path.name}-{checksum[:12]}.jsonl", path)
        started = time.perf_counter()
        try:
            for chunk in batched(reader(source), settings.batch_size):
                good = []
                for record in chunk:
                    if isinstance(record, BadRow):
                        quarantine.add(record)
                    else:
                        good.append(record)
                if good:
                    loader.load(store, good)
                summary.rows_ok += len(good)
                if progress:
                    progress(source.bytes_read, source.total_bytes)
            loader.finish(store)
            store.flush()
        finally:
            quarantine.close()
        summary.rows_bad = quarantine.count
        summary.bad_reasons = dict(quarantine.reasons.most_common(10))
        summary.quarantine = str(quarantine.path) if quarantine.count else None
        summary.warnings = dict(getattr(loader, "warnings", {}) or {})
        summary.seconds = round(time.perf_counter() - started, 3)
        manifest.finish(key, rows_ok=summary.rows_ok, rows_bad=summary.rows_bad,
                        status="finished", seconds=summary.seconds)
        store.compact()
        logger.info("ingested %s: %d ok, %d bad in %.1f s", path, summary.rows_ok, summary.rows_bad,
                    summary.seconds)
        return summary
