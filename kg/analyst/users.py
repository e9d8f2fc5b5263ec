"""Looking a person up by the raw id of the shop's logs (pseudonymised on the way in)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from kg.analyst.cypher import USER_EXISTS, USER_PROFILE, USER_TOP_PRODUCTS
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.store import GraphStore

__all__ = ["UserReport", "describe_user"]


def _day(ms: Any) -> str | None:
    if not isinstance(ms, (int, float)):
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


@dataclass
class UserReport:
    """What the graph holds about one user: behaviour per type, top products, reviews."""

    id: str
    found: bool
    behaviour: list[dict[str, Any]] = field(default_factory=list)
    top_products: list[dict[str, Any]] = field(default_factory=list)
    reviews: int = 0
    forgotten: bool = False  # on the forgotten list (kg forget): answered without asking the database

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        if self.forgotten:
            return ["user not found: forgotten (kg forget); the database was not asked"]
        if not self.found:
            return [f"user not found (pseudonym {self.id})"]
        out = [f"user {self.id}: {self.reviews:,} reviews"]
        for row in self.behaviour:
            out.append(
                f"  {row['type']}: {int(row['products'] or 0):,} products, {int(row['events'] or 0):,} events"
                f" ({_day(row.get('first_at')) or '?'} .. {_day(row.get('last_at')) or '?'})"
            )
        for row in self.top_products:
            out.append(
                f"  top product {row['id']} {row.get('title') or ''}: {int(row['events'] or 0):,} events "
                f"({', '.join(row.get('types') or [])})"
            )
        return out


def describe_user(store: GraphStore, settings: Settings, raw_id: str, *, top: int = 5) -> UserReport:
    """The graph's view of the user whose raw id is ``raw_id``. A forgotten person is not looked up at all:
    the query would put their pseudonym back into the server's query log (FalkorDB's telemetry)."""
    from kg.foundation.forgotten import ForgottenUsers

    pseudonym = Pseudonymiser.from_settings(settings).user_id(raw_id)
    if pseudonym in ForgottenUsers.from_settings(settings):
        return UserReport(id="", found=False, forgotten=True)
    exists = store.query(USER_EXISTS, id=pseudonym)
    if not exists:
        return UserReport(id=pseudonym, found=False)
    return UserReport(
        id=pseudonym,
        found=True,
        behaviour=store.query(USER_PROFILE, id=pseudonym),
        top_products=store.query(USER_TOP_PRODUCTS, id=pseudonym, limit=top),
        reviews=int(exists[0]["reviews"] or 0),
    )
