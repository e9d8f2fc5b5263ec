"""The ledger's typed records: what its reads and writes hand back (plain ids, counts and times)."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["LedgerEvent", "PairAggregate", "TouchedJson"]


class LedgerEvent(NamedTuple):
    """One stored event (a named tuple: built straight from SQLite rows, millions per rebuild)."""

    user: str  # pseudonym
    item: str
    type: str  # view, cart, purchase, rating
    at: int  # epoch ms
    rating: float | None = None


class PairAggregate(NamedTuple):
    """The aggregate of one (user, item, type) pair; dates are UTC ``YYYY-MM-DD`` (a named tuple:
    one per touched pair per batch, so it must be cheap to build)."""

    user: str
    item: str
    type: str
    # The field shadows tuple.count on purpose: it is the public name (ledger column, JSON field).
    count: int  # type: ignore[assignment]  # NamedTuple field named like tuple.count
    first_at: int
    last_at: int
    rating: float | None
    rating_at: int | None
    first_date: str
    last_date: str


class TouchedJson(NamedTuple):
    """The pairs one :meth:`~kg.ledger.EventLedger.add_json` batch touched, as ``{type: rows text}``: each
    text holds one JSON array per pair (the caller's choice of :class:`PairAggregate` fields), joined by
    the caller's separator."""

    known: dict[str, str]  # pairs the ledger held before the batch
    fresh: dict[str, str]  # pairs the batch created: new to the ledger
