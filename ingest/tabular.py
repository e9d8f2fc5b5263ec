"""Row-level parsing shared by readers: CSV and JSON-lines rows with line numbers."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from ingest.records import BadRow
from ingest.source import LineSource

__all__ = ["csv_rows", "json_rows", "clean_text"]

csv.field_size_limit(1 << 24)


def clean_text(value: Any) -> str | None:
    """Trimmed string, or None for empty/missing values."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def csv_rows(source: LineSource, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any]] | BadRow]:
    """(line, row dict) for each CSV record (header first); BadRow for unreadable records."""
    reader = csv.reader(source.lines())
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as e:
        yield BadRow(1, f"bad CSV header: {e}", "")
        return
    missing = [c for c in required if c not in header]
    if missing:
        from kg.errors import InputError

        raise InputError(f"{source.path}:1: missing CSV column(s) {', '.join(missing)}; found {', '.join(header)}")
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield BadRow(reader.line_num, f"bad CSV: {e}", "")
            continue
        if not values or not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield BadRow(reader.line_num, f"expected {len(header)} fields, got {len(values)}", ",".join(values))
            continue
        yield reader.line_num, dict(zip(header, values))


def json_rows(source: LineSource) -> Iterator[tuple[int, dict[str, Any]] | BadRow]:
    """(line, object) for each JSON line; BadRow for bad JSON or non-objects."""
    for number, text in source.numbered():
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            yield BadRow(number, f"bad JSON: {e.msg} at column {e.colno}", text)
            continue
        if not isinstance(value, dict):
            yield BadRow(number, f"expected a JSON object, got {type(value).__name__}", text)
            continue
        yield number, value
