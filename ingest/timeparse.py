"""Timestamps in, epoch milliseconds out.

>>> to_epoch_ms("2018-06-17T00:00:00Z")
1529193600000
>>> to_epoch_ms(1529193600) == to_epoch_ms("1529193600000")
True
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["to_epoch_ms"]


def to_epoch_ms(value: object) -> int:
    """ISO-8601 text (naive = UTC) or epoch seconds/milliseconds/microseconds -> epoch ms.

    Raises ValueError with a readable reason.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("missing timestamp")
    if isinstance(value, bool):
        raise ValueError(f"bad timestamp {value!r}")
    number: float | None = None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
            except ValueError:
                raise ValueError(f"bad timestamp {text[:40]!r} (want ISO-8601 or epoch s/ms)") from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return int(parsed.timestamp() * 1000)
    if number != number or number < 0:  # NaN or negative
        raise ValueError(f"bad timestamp {value!r}")
    if number >= 1e14:  # microseconds
        return int(number // 1000)
    if number >= 1e11:  # milliseconds
        return int(number)
    return int(number * 1000)
