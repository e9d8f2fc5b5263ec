"""Typed records that readers produce and loaders write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from kg.foundation.errors import InputError

__all__ = ["Event", "ProductRecord", "BadRow", "EVENT_TYPES", "FormatMismatch"]

#: canonical behaviour types -> relationship type in the graph
EVENT_TYPES: dict[str, str] = {
    "view": "VIEWED",
    "cart": "CARTED",
    "purchase": "PURCHASED",
    "rating": "RATED",
    "favorite": "FAVORITED",
}  # favourite / wishlist / collect


class Event(NamedTuple):
    """One behaviour event; its identity is its content (user, item, type, time). A named tuple:
    readers make one per row, millions per file, at a third of a frozen dataclass's cost."""

    user: str  # raw id; pseudonymised by the loader
    item: str
    type: str  # one of EVENT_TYPES
    at: int  # epoch milliseconds
    rating: float | None = None


@dataclass(slots=True)
class ProductRecord:
    """One catalogue row."""

    id: str
    title: str | None = None
    brand: str | None = None
    category: list[str] = field(default_factory=list)  # path, root first
    price: float | None = None
    also_bought: list[str] = field(default_factory=list)
    also_viewed: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BadRow:
    """A line that could not be used, with the reason; it goes to the quarantine.

    ``mismatch`` marks rows that lack what the format needs at all (no id, no catalogue field,
    not JSON): when every early row is such a row, the file is probably in another format.
    """

    line: int
    reason: str
    raw: str
    mismatch: bool = False


class FormatMismatch(InputError):
    """The file does not look like the format it is read as (no early row has the fields it needs)."""
