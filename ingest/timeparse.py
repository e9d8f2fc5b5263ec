"""Timestamps in, epoch milliseconds out, within 1970-01-01 .. 9999-12-31 (UTC).

Numbers are epoch seconds, milliseconds or microseconds, told apart by size (below 1e11 seconds,
below 1e14 milliseconds, else microseconds); text is ISO-8601 (naive = UTC) or such a number.
Every time is checked against the same bounds after conversion, so an ISO year-0001 time and
epoch -5 are both rejected, and so is ``1e23`` (which would overflow a 64-bit integer).

>>> to_epoch_ms("2018-06-17T00:00:00Z")
1529193600000
>>> to_epoch_ms(1529193600) == to_epoch_ms("1529193600000")
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

__all__ = ["to_epoch_ms", "MIN_EPOCH_MS", "MAX_EPOCH_MS", "TimeLayoutError", "time_parser", "zone"]

#: 1970-01-01T00:00:00Z: no shop log predates the epoch; negative epochs are junk
MIN_EPOCH_MS = 0
#: 9999-12-31T23:59:59.999Z: the last time ISO-8601 (and Python's datetime) can write
MAX_EPOCH_MS = 253_402_300_799_999

_RANGE = "1970-01-01..9999-12-31"
_INF = float("inf")


def _bounded(ms: int, value: object) -> int:
    if not MIN_EPOCH_MS <= ms <= MAX_EPOCH_MS:
        raise ValueError(f"timestamp {str(value)[:40]!r} out of range {_RANGE}")
    return ms


class TimeLayoutError(ValueError):
    """A timestamp in a layout that needs ``--time-format`` (or cannot be placed in time: no year).
    A row with one is a format mismatch: when no early row reads, the ingest stops with one line."""


#: a date without a year, as marketplaces log them: 6-4, 06/04, 6.4 [08:00[:00]]
_YEARLESS = re.compile(r"\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}(?::\d{2}){0,2})?")
_NO_YEAR = (
    "timestamp {!r} has no year, so it cannot be placed in time: re-export it with the year and give "
    "--time-format its layout (e.g. --time-format '%Y-%m-%d %H:%M')"
)


def _from_iso(text: str, tz: tzinfo | None = None) -> int:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        if _YEARLESS.fullmatch(text):
            raise TimeLayoutError(_NO_YEAR.format(text[:40])) from None
        raise ValueError(f"bad timestamp {text[:40]!r} (want ISO-8601 or epoch s/ms)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz or UTC)
    return _aware_ms(parsed, text)


def _aware_ms(parsed: datetime, text: str) -> int:
    try:
        return _bounded(math.floor(parsed.timestamp() * 1000), text)
    except (OverflowError, OSError):  # e.g. year 1 with a positive UTC offset
        raise ValueError(f"timestamp {text[:40]!r} out of range {_RANGE}") from None


def _from_number(number: float, value: object) -> int:
    if number != number or number in (_INF, -_INF):
        raise ValueError(f"bad timestamp {str(value)[:40]!r}")
    if number >= 1e14 or number <= -1e14:  # microseconds
        ms = number / 1000
    elif number >= 1e11 or number <= -1e11:  # milliseconds
        ms = number
    else:  # seconds
        ms = number * 1000
    if not MIN_EPOCH_MS <= ms <= MAX_EPOCH_MS:  # checked as a float: 1e23 never becomes an int
        raise ValueError(f"timestamp {str(value)[:40]!r} out of range {_RANGE}")
    return int(ms)


def to_epoch_ms(value: object, tz: tzinfo | None = None) -> int:
    """ISO-8601 text (naive = UTC, or ``tz`` when given) or epoch seconds/milliseconds/microseconds -> epoch ms.

    Raises ValueError with a readable reason (bad, missing or out of 1970-01-01..9999-12-31).
    """
    if isinstance(value, str):  # the common case first: this runs once per row
        text = value.strip()
        if not text:
            raise ValueError("missing timestamp")
        try:
            number = float(text)
        except ValueError:
            return _from_iso(text, tz)
        return _from_number(number, text)
    if value is None:
        raise ValueError("missing timestamp")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"bad timestamp {str(value)[:40]!r}")
    try:
        return _from_number(float(value), value)
    except OverflowError:  # an int beyond float range
        raise ValueError(f"timestamp {str(value)[:40]!r} out of range {_RANGE}") from None


def zone(name: str | None) -> tzinfo | None:
    """The IANA time zone ``name`` (``--tz``), None for None; ValueError naming ``--tz`` otherwise."""
    if name is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    text = str(name).strip()
    if text.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"--tz {text[:60]!r} is not an IANA time zone (e.g. Asia/Shanghai, Europe/Berlin, UTC)"
        ) from None


def time_parser(time_format: str | None = None, tz: tzinfo | None = None) -> Callable[[object], int]:
    """A timestamp reader for ``--time-format`` (a :func:`datetime.strptime` layout) and ``--tz`` (the zone of
    naive times): text in the layout -> epoch ms; without a layout, :func:`to_epoch_ms` in ``tz``.

    ValueError naming ``--time-format`` when the layout has no year (a date like ``6-4``); rows that do not
    match the layout fail with :class:`TimeLayoutError`.

    >>> from zoneinfo import ZoneInfo
    >>> time_parser("%Y-%m-%d %H:%M", ZoneInfo("Asia/Shanghai"))("2017-11-25 08:00")
    1511568000000
    """
    if time_format is None:
        return lambda value: to_epoch_ms(value, tz)
    layout = str(time_format)
    if not layout.strip() or "%" not in layout:
        raise ValueError(f"--time-format {layout[:60]!r} is not a strptime layout (e.g. '%Y-%m-%d %H:%M')")
    if not any(code in layout for code in ("%Y", "%y", "%G")):
        raise ValueError(
            f"--time-format {layout[:60]!r} has no year (%Y or %y): a date without one cannot be "
            "placed in time; re-export the log with the year"
        )
    zone_of_naive = tz or UTC

    def parse(value: object) -> int:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError("missing timestamp")
        if not isinstance(value, str):  # a JSON number: epoch s/ms/µs whatever the layout
            return to_epoch_ms(value)
        text = value.strip()
        try:
            parsed = datetime.strptime(text, layout)
        except ValueError:
            if _YEARLESS.fullmatch(text):
                raise TimeLayoutError(_NO_YEAR.format(text[:40])) from None
            raise TimeLayoutError(f"timestamp {text[:40]!r} does not match --time-format {layout[:40]!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone_of_naive)
        return _aware_ms(parsed, text)

    return parse
