"""The library entry points every caller uses: the CLI, ``kg demo``, the benchmarks, tests, the scheduler.

>>> report = ingest_file(store, settings, Path("events.csv"), kind="events")        # doctest: +SKIP
>>> reports = ingest_files(store, settings, ["logs/*.csv.gz"], kind="events", fmt="csv")  # doctest: +SKIP
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kg.foundation.errors import InputError
from kg.foundation.settings import Settings
from kg.ingest.formats import Format, kind_formats, resolve_format
from kg.ingest.records import FormatMismatch
from kg.ingest.report import IngestReport
from kg.ingest.runner import ProgressHook, run_format
from kg.store import GraphStore

__all__ = ["ingest_file", "ingest_files", "expand_paths", "choose_format", "rebuild"]

logger = logging.getLogger(__name__)


def choose_format(path: Path, kind: str, fmt: str | None) -> Format:
    """The format given, else the one the file's name and first line point to (InputError when unclear)."""
    if fmt:
        return resolve_format(kind, fmt)
    kind_formats(kind)
    from kg.ingest.detect import detect_format, suggest_format

    if not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    detected = detect_format(Path(path), kind)
    if detected is None:
        raise InputError(
            f"{path}: cannot tell which {kind} format this is",
            hint=suggest_format(Path(path), kind, None) or f"pass --format ({', '.join(kind_formats(kind))})",
        )
    logger.info("%s: reading as %s format %r (detected)", path, kind, detected)
    return resolve_format(kind, detected)


def ingest_file(
    store: GraphStore,
    settings: Settings,
    path: Path | str,
    *,
    kind: str,
    fmt: str | None = None,
    force: bool = False,
    max_bad_ratio: float | None = None,
    progress: ProgressHook | None = None,
    allow_forgotten: bool = False,
    compact: bool = True,
    check_format: bool = True,
    **options: Any,
) -> IngestReport:
    """Ingest one file of ``kind`` (events, products, reviews) in format ``fmt`` (detected when None).

    Rows of people forgotten by ``kg forget`` are skipped (``report.rows_forgotten``) unless
    ``allow_forgotten``, which loads them and takes those people off the forgotten list. ``compact=False``
    leaves the embedded server's log as it is (``kg serve`` compacts on a timer, not after every batch);
    ``check_format=False`` skips the early stop on a file whose first rows are unusable (files kg wrote).

    ``options`` are the format's reader options (``delimiter``, ``columns``) and loader options
    (reviews: ``lang``, ``store_text``, ``sentiment``, ``folds``, ``synonyms``); an option the
    format does not take is a ConfigError.
    """
    path = Path(path)
    chosen = choose_format(path, kind, fmt)
    chosen.check_options(options)
    try:
        return run_format(
            store,
            settings,
            path,
            chosen,
            options,
            kind=kind,
            fmt=chosen.name,
            force=force,
            max_bad_ratio=max_bad_ratio,
            progress=progress,
            allow_forgotten=allow_forgotten,
            compact=compact,
            check_format=check_format,
        )
    except FormatMismatch as e:
        from kg.ingest.detect import suggest_format

        suggestion = suggest_format(path, kind, chosen.name)
        if suggestion and suggestion != e.hint:
            raise FormatMismatch(str(e.args[0]), hint=suggestion) from e
        raise


def expand_paths(patterns: Iterable[str | Path]) -> list[Path]:
    """Files named by ``patterns`` (paths or shell globs), sorted per pattern, duplicates dropped."""
    seen: dict[Path, None] = {}
    for pattern in patterns:
        text = str(pattern)
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else [text]
        if not matches:
            raise InputError(f"{text}: no file matches", hint="check the path or quote the glob")
        for match in matches:
            seen.setdefault(Path(match), None)
    return list(seen)


def ingest_files(
    store: GraphStore, settings: Settings, patterns: Iterable[str | Path], *, kind: str, **options: Any
) -> list[IngestReport]:
    """:func:`ingest_file` for each file the paths/globs name, in order; ``options`` are ingest_file's
    (``fmt``, ``force``, ``max_bad_ratio``, ``progress``, ``allow_forgotten`` and the format's options)."""
    return [ingest_file(store, settings, path, kind=kind, **options) for path in expand_paths(patterns)]


def format_help(kind: str) -> Mapping[str, str]:
    """``{format: description}`` of one kind (for ``--help`` texts)."""
    return {name: f.description for name, f in kind_formats(kind).items()}


def rebuild(
    store: GraphStore, settings: Settings, *, remove_unknown: bool = False, progress: ProgressHook | None = None
) -> dict[str, Any]:
    """Rewrite every behaviour edge from the event ledger (``kg rebuild``), under the graph's writer lock,
    and add ``date``/``month`` to reviews that lack them (graphs made by kg 0.1).

    Behaviour edges the ledger does not know are counted and left alone unless ``remove_unknown``.
    """
    from kg.foundation.locks import writer_lock
    from kg.ingest.events_view import rebuild_behaviour
    from kg.ingest.reviews.loader import backfill_review_dates
    from kg.ledger import EventLedger

    with writer_lock(settings, what="kg rebuild"), EventLedger.from_settings(settings) as ledger:
        result = rebuild_behaviour(store, ledger, remove_unknown=remove_unknown, progress=progress)
        result["review_dates_added"] = backfill_review_dates(store)  # reviews ingested by kg 0.1
        return result
