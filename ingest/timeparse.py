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
from datetime import datetime, timezone

__all__ = ["to_epoch_ms", "MIN_EPOCH_MS", "MAX_EPOCH_MS"]

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


def _from_iso(text: str) -> int:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        raise ValueError(f"bad timestamp {text[:40]!r} (want ISO-8601 or epoch s/ms)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
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


def to_epoch_ms(value: object) -> int:
    """ISO-8601 text (naive = UTC) or epoch seconds/milliseconds/microseconds -> epoch ms.

    Raises ValueError with a readable reason (bad, missing or out of 1970-01-01..9999-12-31).
    """
    if isinstance(value, str):  # the common case first: this runs once per row
        text = value.strip()
        if not text:
            raise ValueError("missing timestamp")
        try:
            number = float(text)
        except ValueError:
            return _from_iso(text)
        return _from_number(number, text)
    if value is None:
        raise ValueError("missing timestamp")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"bad timestamp {str(value)[:40]!r}")
    try:
        return _from_number(float(value), value)
    except OverflowError:  # an int beyond float range
        raise ValueError(f"timestamp {str(value)[:40]!r} out of range {_RANGE}") from None
