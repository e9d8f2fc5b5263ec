"""The files a forget rewrites under ``KG_HOME``: quarantine lines, embedding runs and recorded export
folders (a tombstone for the person's label); then the final sweep of every file for a trace."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kg.foundation.settings import Settings
from kg.operations.forget.traces import _drop_lines, _files, _holds, _is_lines, _is_text, _looks_text, _Needles, _open


def _quarantine_files(settings: Settings) -> list[Path]:
    return [p for p in _files(settings.quarantine_dir) if _is_text(p)]


def _scrub_quarantine(settings: Settings, needles: _Needles, *, dry_run: bool) -> dict[str, int]:
    files = lines = 0
    for path in _quarantine_files(settings):
        if not _holds(path, needles, text=True):
            continue
        files += 1
        if dry_run:
            with _open(path) as handle:
                lines += sum(1 for line in handle if needles.in_text(line))
        else:
            lines += _drop_lines(path, needles)
    return {"quarantine_files": files, "quarantine_lines": lines}


def _scrub_lake(settings: Settings, pseudonym: str, *, dry_run: bool) -> dict[str, int]:
    """The Parquet mirrors of ``kg lake sync``: each day partition holding the person rewritten without them."""
    from kg.ledger.parquet_mirror import forget_in_mirrors

    return forget_in_mirrors(settings, pseudonym, dry_run=dry_run)


def _scrub_runs(settings: Settings, label: str, *, dry_run: bool) -> dict[str, int]:
    from kg.embeddings.forget import forget_in_export, forget_in_run, recorded_exports

    run_dirs = sorted(p for p in settings.runs_dir.iterdir() if p.is_dir()) if settings.runs_dir.is_dir() else []
    runs, run_files = _scrub_folders(run_dirs, "entity_to_id.tsv.gz", forget_in_run, label, dry_run=dry_run)
    exports, export_files = _scrub_folders(
        recorded_exports(settings.home), "entities.tsv", forget_in_export, label, dry_run=dry_run
    )
    return {"embedding_runs": runs, "run_files": run_files, "export_folders": exports, "export_files": export_files}


def _scrub_folders(
    folders: Iterable[Path], id_map: str, forget: Callable[[Path, str], list[str]], label: str, *, dry_run: bool
) -> tuple[int, int]:
    """(folders holding ``label``, files changed): ``forget`` in each folder, or with ``dry_run`` only a look
    at its id map file ``id_map``."""
    from kg.embeddings.runs import read_id_map

    hits = files = 0
    for folder in folders:
        if dry_run:
            path = folder / id_map
            hits += int(path.is_file() and label in read_id_map(path))
            continue
        changed = forget(folder, label)
        hits += bool(changed)
        files += len(changed)
    return hits, files


def _sweep(settings: Settings, needles: _Needles, extra: Iterable[Path]) -> dict[str, Any]:
    """Search every file under KG_HOME (and the recorded export folders); drop matching lines of
    line-oriented text files; the files that still hold a trace."""
    checked = 0
    traces: list[str] = []
    dropped = 0
    for root in (settings.home, *extra):
        for path in _files(root):
            checked += 1
            text = _is_text(path) or _looks_text(path)
            if not _holds(path, needles, text=text):
                continue
            if _is_lines(path):
                dropped += _drop_lines(path, needles)
                if not _holds(path, needles, text=True):
                    continue
            traces.append(str(path))
    return {"files_checked": checked, "lines_dropped": dropped, "traces": traces}
