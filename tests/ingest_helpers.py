"""What several ingest tests share: a child process that ingests one events file, and the graph's behaviour
edges next to the ledger's view of them. A helper module, not a test module."""

from __future__ import annotations

from typing import Any

from kg.foundation.settings import Settings
from kg.ingest.records import EVENT_TYPES
from kg.ledger import EventLedger
from kg.store import GraphStore

#: ``python -c INGEST_SCRIPT settings_json events.csv``: ingest one events file (batches of 2000)
INGEST_SCRIPT = """
import sys
from pathlib import Path
from kg.ingest.event_readers import EVENT_READERS
from kg.ingest.loaders import EventLoader
from kg.ingest.runner import run_ingest
from kg.foundation.settings import Settings
from kg.store import open_store
settings = Settings.model_validate_json(sys.argv[1]).model_copy(update={"batch_size": 2000})
with open_store(settings, start=False) as store, EventLoader.from_settings(settings) as loader:
    run_ingest(store, settings, Path(sys.argv[2]), kind="events", fmt="csv", reader=EVENT_READERS["csv"],
               loader=loader)
"""

EDGES = """
MATCH (u:User)-[r]->(p:Product)
RETURN type(r) AS rel, u.id AS user, p.id AS item, r.count AS count, r.first_at AS first_at, r.last_at AS last_at,
       r.rating AS rating, r.first_date AS first_date, r.last_date AS last_date, r.event_times AS times
"""


def edges(store: GraphStore) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """Every behaviour edge: (rel, user, item) -> its properties (asserting one edge per pair)."""
    rows = store.execute(EDGES)
    found = {
        (r["rel"], r["user"], r["item"]): (
            r["count"],
            r["first_at"],
            r["last_at"],
            r["rating"],
            r["first_date"],
            r["last_date"],
            r["times"],
        )
        for r in rows
    }
    assert len(found) == len(rows), "a (user, item, type) pair has more than one edge"
    return found


def ledger_edges(settings: Settings) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """What the edges must be, from the ledger's pair aggregates."""
    with EventLedger.from_settings(settings, readonly=True) as ledger:
        return {
            (EVENT_TYPES[p.type], p.user, p.item): (
                p.count,
                p.first_at,
                p.last_at,
                p.rating,
                p.first_date,
                p.last_date,
                None,
            )
            for p in ledger.pairs()
        }
