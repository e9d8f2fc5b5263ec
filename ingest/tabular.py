"""Row-level parsing shared by readers: CSV and JSON-lines rows with line numbers.

Hostile rows become :class:`~ingest.records.BadRow` here, before any reader sees them: a NUL byte
(raw or ``\\u0000``), JSON nested too deeply, a CSV row with the wrong number of fields, a line over
:data:`kg.ingest.source.MAX_LINE_CHARS` (an over-long CSV header is an InputError). CSV
headers lose a UTF-8 BOM, the delimiter is sniffed from the header line unless given, and a
``columns`` mapping (canonical field -> the file's column or key) renames fields on the way in.

>>> with LineSource(Path("orders.csv")) as src:                                   # doctest: +SKIP
...     rows = list(csv_rows(src, ("user_id",), columns={"user_id": "customer"}))
"""

from __future__ import annotations

import csv
import functools
import inspect
import itertools
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar, cast

from kg.foundation.errors import ConfigError, InputError
from kg.foundation.schema import MAX_KEY_BYTES, check_key
from kg.ingest.records import BadRow
from kg.ingest.source import LineSource

__all__ = [
    "csv_rows",
    "csv_values",
    "checked_csv_rows",
    "json_rows",
    "clean_text",
    "key_text",
    "sniff_delimiter",
    "check_delimiter",
    "check_columns",
    "reader_options",
    "DELIMITERS",
    "NUL_REASON",
    "NESTED_REASON",
]

logger = logging.getLogger(__name__)

csv.field_size_limit(1 << 24)

#: delimiters sniffed from a CSV header line, in order of preference on a tie
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
NUL_REASON = "NUL byte"
NESTED_REASON = "JSON nested too deeply"
_BOM = "\ufeff"
_SURELY_SHORT = MAX_KEY_BYTES // 4  # a UTF-8 character is at most 4 bytes

F = TypeVar("F", bound=Callable[..., Any])


def clean_text(value: Any) -> str | None:
    """Trimmed string, or None for empty/missing values."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def key_text(value: Any, field: str) -> str | None:
    """An id/key field as trimmed text (numbers become their text), None when empty.

    Raises ValueError for a JSON object, array or boolean given as an id, and for a key over
    :data:`kg.foundation.schema.MAX_KEY_BYTES` (such keys crash the graph server).
    """
    if type(value) is str:  # the common case first: this runs twice per row
        text = value.strip()
    elif value is None:
        return None
    elif isinstance(value, (dict, list, bool)):
        raise ValueError(f"malformed {field}: a JSON {_json_type(value)}, not an id")
    else:
        text = str(value).strip()
    if not text:
        return None
    if len(text) > _SURELY_SHORT and (reason := check_key(text, field)):
        raise ValueError(reason)
    return text


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", bool: "boolean"}.get(type(value), type(value).__name__)


def reader_options(kind: str, fmt: str) -> Callable[[F], F]:
    """Decorate a reader ``reader(source, *, opt=...)`` so that an option it does not take raises
    ConfigError naming the option and the format (eagerly, not at the first row)."""

    def decorate(func: F) -> F:
        accepted = [p.name for p in inspect.signature(func).parameters.values() if p.kind is p.KEYWORD_ONLY]

        @functools.wraps(func)
        def wrapper(source: LineSource, **options: Any) -> Any:
            unknown = sorted(set(options) - set(accepted))
            if unknown:
                takes = f"it takes {', '.join(accepted)}" if accepted else "it takes no options"
                raise ConfigError(f"{kind} format {fmt!r} has no option {', '.join(unknown)}", hint=takes)
            return func(source, **options)

        wrapper.options = tuple(accepted)  # type: ignore[attr-defined]  # a function attribute: the options it takes
        return cast(F, wrapper)  # functools.wraps keeps func's signature; mypy cannot see that

    return decorate


def check_columns(columns: Mapping[str, str] | None, fields: tuple[str, ...], fmt: str) -> dict[str, str]:
    """Validated ``columns`` mapping (canonical field -> file column); ConfigError for unknown fields."""
    if not columns:
        return {}
    unknown = sorted(set(columns) - set(fields))
    if unknown:
        raise ConfigError(
            f"{fmt}: unknown field(s) {', '.join(unknown)} in the column mapping",
            hint=f"map any of {', '.join(fields)} to the file's column names",
        )
    bad = [k for k, v in columns.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ConfigError(f"{fmt}: empty column name for {', '.join(bad)} in the column mapping")
    return dict(columns)


def check_delimiter(delimiter: str | None) -> str | None:
    """``delimiter`` when it is one character (None = sniff); ConfigError otherwise."""
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n'):
        raise ConfigError(
            f"CSV delimiter must be one character (not a quote or newline), not {delimiter!r}",
            hint="e.g. ',' ';' '\\t' '|', or leave it out to sniff it from the header",
        )
    return delimiter


def sniff_delimiter(header: str) -> str:
    """The most frequent of , ; TAB | in a header line (outside quotes); ``,`` when none occurs."""
    unquoted = "".join(part for i, part in enumerate(header.split('"')) if i % 2 == 0)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first on a tie
    return best if counts[best] else ","


def _shown(text: str) -> str:
    return text.replace("\x00", "\\x00")


def _header_error(source: LineSource, header: list[str], missing: list[str], kind: str | None, fmt: str) -> InputError:
    from kg.ingest.records import FormatMismatch

    looks_json = bool(header) and header[0].lstrip().startswith(("{", "["))
    found = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
    if looks_json:
        found = "a JSON line, not a CSV header"
    elif len(found) > 200:
        found = found[:200] + "..."
    message = f"{source.path}:1: missing CSV column(s) {', '.join(missing)}; found {found}"
    # ingest_file swaps this hint for the --format that fits, when it can tell
    return FormatMismatch(message, hint="map the file's columns with --map field=column, or pass the right --format")


def csv_rows(
    source: LineSource, required: tuple[str, ...], **options: Any
) -> Iterator[tuple[int, dict[str, Any]] | BadRow]:
    """(line, row dict) for each CSV record (header first); BadRow for unreadable records.

    ``options`` are :func:`csv_values`'s (``delimiter``, ``columns``, ``kind``, ``fmt``).
    """
    header: list[str] = []
    for entry in csv_values(source, required, header_out=header, **options):
        yield entry if isinstance(entry, BadRow) else (entry[0], dict(zip(header, entry[1], strict=True)))


def checked_csv_rows(
    source: LineSource,
    required: tuple[str, ...],
    fields: tuple[str, ...],
    *,
    kind: str,
    delimiter: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> Iterator[tuple[int, dict[str, Any]] | BadRow]:
    """:func:`csv_rows` for the csv format of ``kind``, whose canonical fields are ``fields``: the
    ``columns`` mapping and the delimiter are checked now (ConfigError), not at the first row."""
    mapping = check_columns(columns, fields, f"{kind} csv")
    check_delimiter(delimiter)
    return csv_rows(source, required, delimiter=delimiter, columns=mapping, kind=kind)


def csv_values(
    source: LineSource,
    required: tuple[str, ...],
    *,
    delimiter: str | None = None,
    columns: Mapping[str, str] | None = None,
    kind: str | None = None,
    fmt: str = "csv",
    header_out: list[str] | None = None,
) -> Iterator[tuple[int, list[str]] | BadRow]:
    """(line, values) for each CSV record, in the order of the header, which is put into ``header_out``
    (renamed by ``columns``) before the first record comes out; BadRow for unreadable records.

    Header names are trimmed and lower-cased (a BOM is dropped); ``delimiter`` None sniffs it from
    the header line; ``columns`` maps canonical field -> the file's column name. Missing required
    columns raise InputError (FormatMismatch, with the --format that fits, when ``kind`` is given).
    """
    lines = source.lines()
    first = next(lines, None)
    if first is None:
        return
    if source.bad_lines:  # an over-long header: nothing in the file can be read
        raise InputError(f"{source.path}:1: the CSV header {source.bad_lines[0].reason}")
    first = first.removeprefix(_BOM)
    delimiter = check_delimiter(delimiter) or sniff_delimiter(first)

    reader = csv.reader(itertools.chain((first,), lines), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as e:
        yield BadRow(1, f"bad CSV header: {e}", "", mismatch=True)
        return
    rename = {v.strip().lower(): k for k, v in (columns or {}).items()}
    header = [rename.get(h, h) for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        shown = [f"{c} (mapped from {columns[c]})" if columns and c in columns else c for c in missing]
        raise _header_error(source, header, shown, kind, fmt)
    if header_out is not None:
        header_out[:] = header
    width = len(header)
    overlong = source.bad_lines  # over-long lines, read as blank ones: quarantined in line order
    while True:
        try:
            values = next(reader)
        except StopIteration:
            yield from _overlong(source)
            return
        except csv.Error as e:
            source.data_rows += 1
            yield BadRow(reader.line_num, f"bad CSV: {e}", "")
            continue
        if overlong:
            yield from _overlong(source)
        joined = "".join(values)  # one string for both checks: blank row (every field), NUL byte (any field)
        if not joined.strip():
            continue
        source.data_rows += 1
        if "\x00" in joined:
            yield BadRow(reader.line_num, NUL_REASON, _shown(delimiter.join(values)))
            continue
        if len(values) != width:
            yield BadRow(reader.line_num, f"expected {width} fields, got {len(values)}", delimiter.join(values))
            continue
        yield reader.line_num, values


def _overlong(source: LineSource) -> Iterator[BadRow]:
    """The over-long lines the source skipped (see :meth:`kg.ingest.source.LineSource.lines`), each a data row."""
    for bad in source.take_bad_lines():
        source.data_rows += 1
        yield bad


def _has_nul_value(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _has_nul_value(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul_value(v) for v in value)
    return False


def _rename(row: dict[str, Any], columns: Mapping[str, str]) -> dict[str, Any]:
    for canonical, name in columns.items():
        if name in row:
            row[canonical] = row.pop(name)
    return row


def json_rows(
    source: LineSource, *, columns: Mapping[str, str] | None = None
) -> Iterator[tuple[int, dict[str, Any]] | BadRow]:
    """(line, object) for each JSON line; BadRow for bad JSON, non-objects, NUL bytes, deep nesting.

    ``columns`` maps canonical field -> the key the file uses.
    """
    overlong = source.bad_lines  # over-long lines (skipped as blank ones): quarantined in line order
    for number, text in source.numbered():
        if overlong:
            yield from _overlong(source)
        source.data_rows += 1
        if "\x00" in text:
            yield BadRow(number, NUL_REASON, _shown(text))
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            yield BadRow(number, f"bad JSON: {e.msg} at column {e.colno}", text, mismatch=True)
            continue
        except RecursionError:
            yield BadRow(number, NESTED_REASON, text[:200])
            continue
        if not isinstance(value, dict):
            yield BadRow(number, f"expected a JSON object, got {type(value).__name__}", text, mismatch=True)
            continue
        if "\\u0000" in text:
            try:
                has_nul = _has_nul_value(value)
            except RecursionError:
                yield BadRow(number, NESTED_REASON, text[:200])
                continue
            if has_nul:
                yield BadRow(number, NUL_REASON, text)
                continue
        yield number, _rename(value, columns) if columns else value
    yield from _overlong(source)
