"""The facts of one subject (a user, a segment, a recommendation's reason) as the graph has them: the only
material a prompt may hold and the only claims a stored sentence may make."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ENTITY_KINDS", "Facts", "Subject"]

#: the kinds of catalogue entities a sentence can name (each is checked against the facts)
ENTITY_KINDS: tuple[str, ...] = ("product", "brand", "category", "aspect", "segment")

Subject = Literal["user", "segment", "reason"]


@dataclass(frozen=True)
class Facts:
    """What may be said about one subject.

    ``lines`` are the facts as a prompt shows them (one short statement each, in the graph's own names);
    ``entities`` maps an entity kind of :data:`ENTITY_KINDS` to the names the text may use; ``numbers`` and
    ``dates`` (ISO ``yyyy-mm-dd``) are the only figures and days it may state.
    """

    subject: Subject
    key: str  # pseudonymous user id, segment id, or "<user id>|<product id>" for a reason
    lines: tuple[str, ...]
    entities: Mapping[str, frozenset[str]] = field(default_factory=dict)
    numbers: frozenset[float] = frozenset()
    dates: frozenset[str] = frozenset()
    language: str = "en"

    def names(self, kind: str) -> frozenset[str]:
        """The names of ``kind`` the facts hold (empty when none)."""
        return self.entities.get(kind, frozenset())
