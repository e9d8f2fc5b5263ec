"""The inboxes ``kg schedule`` used (``KG_HOME/schedule/inboxes.json``, often outside ``KG_HOME``): the
copies kg moved into ``done/`` and ``failed/`` lose the person's records (CSV, JSON lines; gzip kept), their
``.report.json`` the person's id; a file kg never owned is left as it is and named, with how to remove it."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kg.foundation.settings import Settings
from kg.operations.forget.traces import _files, _holds, _Needles, _open

_KG_OWNED = ("done", "failed")  # inbox sub-folders kg moves files into: kg rewrites those copies


def _csv_groups(lines: list[bytes], tsv: bool) -> list[list[int]]:
    """The line numbers of each CSV record (a quoted field may span lines); one line per record if unreadable."""
    import csv

    text = [line.decode("utf-8", "surrogateescape") for line in lines]
    head = text[0] if text else ""
    delimiter = "\t" if tsv else max(",;\t|", key=head.count)
    consumed = 0

    def feed() -> Iterator[str]:
        nonlocal consumed
        for line in text:
            consumed += 1
            yield line

    groups: list[list[int]] = []
    start = 0
    try:
        for _record in csv.reader(feed(), delimiter=delimiter):
            groups.append(list(range(start, consumed)))
            start = consumed
    except csv.Error:
        return [[i] for i in range(len(lines))]
    if start < len(lines):
        groups.append(list(range(start, len(lines))))
    return groups


def _drop_records(path: Path, needles: _Needles) -> int | None:
    """Rewrite an ingest input (CSV/TSV with its header kept, JSON lines; gzip kept) without the records that
    name the person: records dropped, or None when the file is not one kg can rewrite safely."""
    name = path.name.removesuffix(".gz")
    gz = path.suffix == ".gz"
    try:
        with _open(path) as handle:
            data = handle.read()
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    lines = data.splitlines(keepends=True)
    if name.endswith((".csv", ".tsv")):
        groups = _csv_groups(lines, name.endswith(".tsv"))
        header, groups = groups[:1], groups[1:]
    elif name.endswith((".jsonl", ".ndjson", ".json")) and data.lstrip()[:1] in (b"{", b""):
        header, groups = [], [[i] for i in range(len(lines))]
    else:
        return None
    kept = [i for g in header for i in g]
    dropped = 0
    for group in groups:
        if needles.in_text(b"".join(lines[i] for i in group)):
            dropped += 1
        else:
            kept += group
    if dropped:
        _replace(path, b"".join(lines[i] for i in kept), gz=gz)
    return dropped


def _replace(path: Path, data: bytes, *, gz: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.forget-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, path.stat().st_mode & 0o777)
    with os.fdopen(fd, "wb") as raw:
        if gz:
            with gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as out:
                out.write(data)
        else:
            raw.write(data)
    os.replace(tmp, path)


def _scrub_inboxes(settings: Settings, needles: _Needles, *, dry_run: bool) -> tuple[dict[str, int], dict[str, Any]]:
    """The inboxes kg schedule used: copies kg moved (done/, failed/) rewritten without the person, their
    ``.report.json`` redacted; then every file of the inbox searched, and each that still holds the person
    named, with how to remove it (counts, and ``disk`` entries: inboxes, traces, notes)."""
    from kg.operations.scheduler import REPORT, known_inboxes

    counts = {"inbox_files": 0, "inbox_rows": 0}
    traces: list[str] = []
    notes: list[str] = []
    inboxes = known_inboxes(settings.home)
    for inbox in inboxes:
        for path in _files(inbox):
            if not _holds(path, needles, text=True):
                continue
            owned = path.parent.name in _KG_OWNED and path.parent.parent == inbox
            if owned and not dry_run:
                if path.name.endswith(REPORT):  # kg's own report: the id goes, the report stays
                    data = path.read_bytes()
                    _replace(path, needles._any.sub(b"[forgotten]", data))
                    counts["inbox_files"] += 1
                    continue
                dropped = _drop_records(path, needles)
                if dropped is not None:
                    counts["inbox_files"] += 1
                    counts["inbox_rows"] += dropped
                    if not _holds(path, needles, text=True):
                        continue
            elif owned:
                counts["inbox_files"] += 1
                continue
            if dry_run:
                continue
            traces.append(str(path))
            notes.append(
                f"{path}: "
                + (
                    "kg moved it here but cannot rewrite this format: delete it, or remove "
                    "the person's rows and keep the rest"
                    if owned
                    else "not ingested yet (kg never owned it, so it was left as it is): remove "
                    "the person's rows before it is ingested, or delete it (a re-ingest "
                    "skips them anyway)"
                )
            )
    return counts, {"inboxes": [str(p) for p in inboxes], "inbox_traces": traces, "inbox_notes": notes}
