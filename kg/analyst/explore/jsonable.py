"""Query results as the page and a spreadsheet can take them: JSON-safe values and CSV text."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["jsonable", "csv_text"]


def jsonable(value: Any) -> Any:
    """Values as JSON can carry them (NaN and infinities as null, driver types as text).

    >>> jsonable({"a": float("nan"), "b": (1, "x")})
    {'a': None, 'b': [1, 'x']}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(jsonable(value), ensure_ascii=False)
    from kg.analyst.library import spreadsheet_safe

    return spreadsheet_safe(value, str(value))  # a spreadsheet would run a text cell starting like a formula


def csv_text(columns: list[str], rows: list[Mapping[str, Any]]) -> str:
    """Rows as CSV (header first; lists and maps as JSON; text that looks like a formula prefixed with ``'``).

    >>> csv_text(["a", "b"], [{"a": 1, "b": "=x"}, {"a": None, "b": [1, 2]}]).splitlines()
    ['a,b', "1,'=x", ',"[1, 2]"']
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()
