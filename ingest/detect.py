"""Which ``--format`` a file is in: from its extension and its first non-empty line.

>>> detect_format(Path("Gift_Cards_5.json.gz"), "reviews")          # doctest: +SKIP
'amazon'
>>> suggest_format(Path("Gift_Cards_5.json"), "products", "amazon-meta")  # doctest: +SKIP
'Gift_Cards_5.json holds Amazon review lines (reviewerID, asin, overall), not products: ...'

The runner can guard an ingest with :func:`guard_format` (or call :func:`check_fields` on the first
rows): when no early row has the fields the format needs, it raises
:class:`~ingest.records.FormatMismatch` naming the file, the format and the one that fits.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kg.ingest.records import BadRow, FormatMismatch

__all__ = [
    "detect_format",
    "suggest_format",
    "check_fields",
    "guard_format",
    "first_line",
    "KINDS",
    "JSON_EXTENSIONS",
    "CSV_EXTENSIONS",
]

logger = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("events", "products", "reviews")
JSON_EXTENSIONS: tuple[str, ...] = (".jsonl", ".json", ".ndjson")
CSV_EXTENSIONS: tuple[str, ...] = (".csv", ".tsv")
_RETAILROCKET_HEADER = ("timestamp", "visitorid", "event", "itemid")
_PEEK_BYTES = 1 << 20

#: shape of a line -> (kinds it can be ingested as, what to call it)
_SHAPES: dict[str, tuple[tuple[str, ...], str]] = {
    "amazon": (("events", "reviews"), "Amazon review lines (reviewerID, asin, overall)"),
    "amazon-meta": (("products",), "Amazon product metadata (asin, title, also_buy)"),
    "retailrocket": (("events",), "a RetailRocket events file (timestamp, visitorid, event, itemid)"),
    "jsonl": (KINDS, "JSON lines"),
    "csv": (KINDS, "CSV"),
}


def _formats(kind: str) -> tuple[str, ...]:
    """The --format names of ``kind`` (from the one format registry)."""
    from kg.ingest.formats import kind_formats

    return tuple(kind_formats(kind))


def _extension(path: Path) -> str:
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def first_line(path: Path, *, max_bytes: int = _PEEK_BYTES) -> str | None:
    """The first non-empty line (BOM and newline stripped, at most ``max_bytes``), or None."""
    path = Path(path)
    try:
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(path, "rb") as handle:
            budget = max_bytes
            while budget > 0:
                raw = handle.readline(budget)
                if not raw:
                    return None
                budget -= len(raw)
                text = raw.decode("utf-8", "replace").removeprefix("\ufeff").strip("\r\n")
                if text.strip():
                    return text
    except (OSError, EOFError):
        return None
    return None


def _shape(line: str) -> str | None:
    """amazon / amazon-meta / retailrocket / jsonl / csv, or None for JSON that is not an object."""
    stripped = line.strip()
    if stripped.startswith(("{", "[")):
        try:
            value: Any = json.loads(stripped)
        except (ValueError, RecursionError):
            return "jsonl" if stripped.startswith("{") else None
        if not isinstance(value, dict):
            return None
        keys = set(value)
        if {"reviewerID", "asin"} <= keys or {"asin", "overall"} <= keys:
            return "amazon"
        if "asin" in keys and keys & {"also_buy", "also_view", "title"}:
            return "amazon-meta"
        return "jsonl"
    header = tuple(h.strip().lower() for h in stripped.split(",")[:4])
    if header == _RETAILROCKET_HEADER:
        return "retailrocket"
    return "csv"


def detect_format(path: Path, kind: str) -> str | None:
    """The --format of ``kind`` that fits the file, or None when none does (or it cannot tell).

    The first non-empty line decides (a JSON object with Amazon review keys -> ``amazon``; with
    ``asin`` and ``title``/``also_buy`` -> ``amazon-meta``; the RetailRocket header ->
    ``retailrocket``; other JSON objects -> ``jsonl``; other text -> ``csv``); an empty file is
    judged by its extension (.csv/.tsv -> csv, .jsonl/.json/.ndjson -> jsonl, through .gz).
    A line in another kind's format (Amazon reviews read as products, ...) gives None.
    """
    formats = _formats(kind)
    line = first_line(path)
    if line is None:
        ext = _extension(path)
        guess = "csv" if ext in CSV_EXTENSIONS else "jsonl" if ext in JSON_EXTENSIONS else None
        return guess if guess in formats else None
    shape = _shape(line)
    return shape if shape in formats else None


def suggest_format(path: Path, kind: str, given: str | None) -> str | None:
    """One sentence on which --format fits ``path`` when ``given`` produced no usable row; None when
    no better format is known."""
    path = Path(path)
    line = first_line(path)
    if line is None:
        return None
    shape = _shape(line)
    if shape is None:
        return f"{path.name} starts with JSON that is not an object: write one JSON object per line"
    kinds, description = _SHAPES[shape]
    if kind not in kinds:
        other = " or ".join(kinds)
        return f"{path.name} holds {description}, not {kind}: ingest it as {other} with --format {shape}"
    if shape != given:
        return f"{path.name} looks like {description}: use --format {shape}"
    return None


def check_fields(path: Path, kind: str, fmt: str, first_rows: Sequence[Any]) -> None:
    """Raise FormatMismatch when none of ``first_rows`` (records or BadRows, as read) is usable and
    most of them lack the fields ``fmt`` needs; the message names the file, format and a fix."""
    if not first_rows or any(not isinstance(r, BadRow) for r in first_rows):
        return
    mismatched = [r for r in first_rows if r.mismatch]
    if 2 * len(mismatched) < len(first_rows):
        return
    reason, _ = Counter(r.reason for r in mismatched).most_common(1)[0]
    hint = suggest_format(path, kind, fmt) or "check the file, or map its columns to the fields the format needs"
    raise FormatMismatch(
        f"{path}: none of the first {len(first_rows)} rows is usable as {kind} --format {fmt} (most common: {reason})",
        hint=hint,
    )


def guard_format(records: Iterable[Any], path: Path, kind: str, fmt: str, *, first: int = 100) -> Iterator[Any]:
    """``records`` unchanged, after :func:`check_fields` on the first ``first`` of them."""
    iterator = iter(records)
    head = []
    for record in iterator:
        head.append(record)
        if len(head) >= first:
            break
    check_fields(path, kind, fmt, head)
    yield from head
    yield from iterator
