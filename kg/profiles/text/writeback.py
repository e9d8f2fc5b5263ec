"""Write the texts into the graph, and read them back for ``kg profile``.

Every text property ``P`` comes with ``P_source`` (``model`` or ``template``), ``P_model`` (the model of the
run, or ``template`` on the template route) and ``P_run`` (the profiles run): ``User.profile_text``,
``Segment.name`` and ``Segment.description``, and ``reason_text`` on each ``RECOMMENDED`` edge. Writes are
batched ``UNWIND`` statements; a ``profile_text``, ``name`` or ``description`` that kg did not write (no
``_source`` beside it) is never overwritten. Texts of an earlier profiles run are removed once a run's texts
are written (or when ``kg profiles`` runs without texts), so a text never describes another run's segments.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kg.profiles.text.cypher import (
    TEXT_OF_USER,
    TEXT_REASON_WRITE,
    TEXT_REASONS_OF_USER,
    TEXT_SEGMENT_STALE_CLEAR,
    TEXT_SEGMENT_WRITE,
    TEXT_USER_STALE_CLEAR,
    TEXT_USER_WRITE,
)
from kg.store import GraphStore

__all__ = [
    "SEGMENT_TEXTS",
    "SOURCES",
    "StoredTexts",
    "TEXT_PROPERTIES",
    "clear_stale_texts",
    "reason_text_of",
    "stored_texts",
    "write_reason_texts",
    "write_segment_texts",
    "write_user_texts",
]

logger = logging.getLogger(__name__)

#: where a stored text came from
SOURCES: tuple[str, ...] = ("model", "template")
#: the segment's text properties
SEGMENT_TEXTS: tuple[str, ...] = ("name", "description")
#: every property the texts add, per label or relationship type (kg forget removes them with the person)
TEXT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "User": ("profile_text", "profile_text_source", "profile_text_model", "profile_text_run"),
    "Segment": tuple(f"{p}{s}" for p in SEGMENT_TEXTS for s in ("", "_source", "_model", "_run")),
    "RECOMMENDED": ("reason_text", "reason_text_source", "reason_text_model", "reason_text_run"),
}
_PAGE = 10_000


def _identifiers(prop: str) -> dict[str, str]:
    return {"prop": prop, "source": f"{prop}_source", "model": f"{prop}_model", "run": f"{prop}_run"}


def write_user_texts(store: GraphStore, rows: Iterable[Mapping[str, Any]], *, run: str) -> int:
    """``User.profile_text`` and its source, model and run; rows ``{user, text, source, model}``."""
    return store.write(TEXT_USER_WRITE, [dict(r) for r in rows], run=run)


def write_segment_texts(store: GraphStore, prop: str, rows: Iterable[Mapping[str, Any]], *, run: str) -> int:
    """``Segment.<prop>`` (``name`` or ``description``) and its source, model and run; rows ``{segment, text,
    source, model}``."""
    if prop not in SEGMENT_TEXTS:
        raise ValueError(f"not a segment text: {prop!r}; one of {', '.join(SEGMENT_TEXTS)}")
    return store.write(TEXT_SEGMENT_WRITE, [dict(r) for r in rows], identifiers=_identifiers(prop), run=run)


def write_reason_texts(store: GraphStore, rows: Iterable[Mapping[str, Any]], *, run: str) -> int:
    """``reason_text`` and its source, model and run on ``RECOMMENDED`` edges; rows ``{user, product, text,
    source, model}``."""
    return store.write(TEXT_REASON_WRITE, [dict(r) for r in rows], run=run)


def clear_stale_texts(store: GraphStore, *, run: str) -> dict[str, int]:
    """Remove the texts kg wrote for another profiles run than ``run`` (users page by page, segments' names
    and descriptions); returns how many of each were removed. Reasons need nothing: their edges are
    replaced by every run."""
    users = 0
    while True:
        rows = store.query(TEXT_USER_STALE_CLEAR, run=run, limit=_PAGE)
        cleared = int(rows[0]["cleared"]) if rows else 0
        users += cleared
        if cleared < _PAGE:
            break
    out = {"users": users}
    for prop in SEGMENT_TEXTS:
        rows = store.query(TEXT_SEGMENT_STALE_CLEAR, identifiers=_identifiers(prop), run=run)
        out[f"segment {prop}s"] = int(rows[0]["cleared"]) if rows else 0
    return out


@dataclass
class StoredTexts:
    """The texts the graph holds for one user: their profile text, their segment's name and description,
    and the reason sentences of their recommendations, each with its source and model."""

    text: str | None = None
    source: str | None = None
    model: str | None = None
    run: str | None = None
    segment: int | None = None
    segment_name: str | None = None
    segment_name_source: str | None = None
    segment_description: str | None = None
    segment_description_source: str | None = None
    segment_text_model: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "source": self.source,
            "model": self.model,
            "run": self.run,
            "segment": self.segment,
            "segment_name": self.segment_name,
            "segment_name_source": self.segment_name_source,
            "segment_description": self.segment_description,
            "segment_description_source": self.segment_description_source,
            "segment_text_model": self.segment_text_model,
            "reasons": list(self.reasons),
        }


def stored_texts(store: GraphStore, user: str) -> StoredTexts:
    """What the texts hold for ``user`` (a pseudonym): nothing set where none was written."""
    rows = store.query(TEXT_OF_USER, id=user)
    found = StoredTexts(**rows[0]) if rows else StoredTexts()
    found.reasons = [dict(r) for r in store.query(TEXT_REASONS_OF_USER, id=user)]
    return found


def reason_text_of(reasons: Sequence[Mapping[str, Any]], product: str) -> str | None:
    """The stored reason sentence of the recommendation of ``product`` (None when there is none)."""
    return next((str(r["text"]) for r in reasons if r.get("product") == product and r.get("text")), None)
