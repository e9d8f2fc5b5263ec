"""``kg update``: profiles that follow new events without a full recompute.

``kg profiles`` leaves a *state* in its run folder: the recommender's item side (weights, item-item
similarities, EASE weights, item factors; no user row, no user id), the segment centroids in feature
space, the co-purchase counts and what each segment's popular products are, and a bookmark into the
event ledger. :func:`update_profiles` then touches only the users whose events arrived after the
bookmark (new users included):

- interest scores: recomputed from the user's whole history, exactly as ``kg profiles`` computes them
  (same decay, weights and top-N; ``as_of`` moves to the newest event unless ``--as-of`` fixed it);
- segment: the segment whose centroid is nearest the user's features (``kg profiles`` re-clusters);
- recommendations: the frozen item side scores the user's whole current history (MF user factors folded
  in with the ALS user step), with reasons that are paths in the graph, as in ``kg profiles``.

For a touched user the result equals what the same frozen model gives when every user is rebuilt from
scratch (:func:`rebuild_with_state`, tested). Products first seen after ``kg profiles`` are not scored
until the next ``kg profiles`` (their similar items come from ``kg update``'s embedding fold-in).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from kg.foundation.errors import ConfigError
from kg.foundation.locks import writer_lock
from kg.foundation.progress import Progress
from kg.foundation.settings import Settings
from kg.ledger import EventLedger
from kg.profiles.cypher import (
    MEMBERSHIP_WRITE,
    SEGMENT_OF_USERS,
    SEGMENT_SIZE_ADD,
    TOGETHER_ADD,
    USER_EDGES_CLEAR,
)
from kg.profiles.frozen import features_in_columns, nearest_segment, profile_with_state, segment_centroids
from kg.profiles.state import ProfileState, latest_state, load_state, save_cursor, save_state
from kg.profiles.steps import day
from kg.store import GraphStore

__all__ = [
    "ProfileState",
    "UpdateReport",
    "features_in_columns",
    "latest_state",
    "load_state",
    "nearest_segment",
    "rebuild_with_state",
    "save_state",
    "segment_centroids",
    "update_embeddings",
    "update_profiles",
]

logger = logging.getLogger(__name__)


@dataclass
class UpdateReport:
    """What one ``kg update`` changed."""

    run: str | None
    users_updated: int = 0
    new_users: int = 0
    interests: int = 0
    recommendations: int = 0
    segments_changed: int = 0
    events_seen: int = 0
    as_of: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    embeddings: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"embeddings: {line}" for part in self.embeddings.values() for line in part.get("lines", [])]
        if not self.users_updated:
            return out + [self.note or "nothing to update: no new events since the last kg profiles / kg update"]
        total = sum(self.seconds.values())
        return out + [
            (
                f"updated {self.users_updated:,} users ({self.new_users:,} new) "
                f"from {self.events_seen:,} events in {total:.2f} s: {self.interests:,} interests, "
                f"{self.recommendations:,} recommendations, "
                f"{self.segments_changed:,} changed segment (run {self.run}, as of {self.as_of})"
            ),
            "stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items()),
        ]


def _size_changes(before: dict[str, int], membership: list[dict[str, Any]]) -> list[dict[str, int]]:
    """How much each segment's size moves when ``membership`` (rows ``{user, segment}``) replaces the
    segments the users were in ``before``: only the touched users are counted, not every member."""
    delta: dict[int, int] = {}
    for row in membership:
        old, new = before.get(row["user"]), int(row["segment"])
        if old != new:
            delta[new] = delta.get(new, 0) + 1
            if old is not None:
                delta[int(old)] = delta.get(int(old), 0) - 1
    return [{"segment": s, "delta": d} for s, d in sorted(delta.items()) if d]


def rebuild_with_state(
    store: GraphStore, settings: Settings, users: list[str] | None = None, *, as_of_ms: int
) -> dict[str, Any]:
    """What the frozen state gives when ``users`` (every user when None: all events loaded from scratch)
    are rebuilt, without writing: interests, segment and recommendations per user. The reference
    :func:`update_profiles` is tested against."""
    found = latest_state(settings)
    if found is None:
        raise ConfigError("no profiles yet", hint="run kg profiles first")
    _dir, state = found
    result = profile_with_state(store, settings, state, users, as_of_ms=as_of_ms)
    return {
        "interests": result.interest_rows,
        "recommendations": result.recommendations,
        "segments": result.segment_of(),
    }


def update_embeddings(
    store: GraphStore,
    settings: Settings,
    *,
    progress: Progress | None = None,
    around: tuple[Collection[str], Collection[str]] | None = None,
    text: bool = True,
) -> dict[str, Any]:
    """New users and products get vectors without a retrain: fold-in for entities with triples, text for
    products with none (``kg.embeddings.fold_in`` / ``kg.embeddings.text_cold_start``). Nothing when the graph
    has no trained embeddings. ``around`` = (user ids, product ids) of new events: only those of them that are
    new are folded in, from their own relationships (one query, not an export of the graph); every other
    product without a vector then gets one from its text (``text``)."""
    from kg.embeddings.runs import last_write

    if last_write(settings.runs_dir, settings.graph) is None:
        return {}
    from kg.embeddings import fold_in, text_cold_start

    done: dict[str, Any] = {}
    folded = fold_in(store, settings, progress=progress, around=around)
    done["fold_in"] = {**folded.as_dict(), "lines": folded.lines() if folded.total_entities else []}
    if not text:
        return done
    texts = text_cold_start(store, settings, progress=progress)
    done["text"] = {**texts.as_dict(), "lines": texts.lines() if texts.products else []}
    return done


def _touched_since_profiles(settings: Settings) -> tuple[set[str], set[str]] | None:
    """(users, items) with new events since the last ``kg profiles``/``kg update``; None before the first
    ``kg profiles`` (then the fold-in looks at the whole graph)."""
    found = latest_state(settings)
    if found is None or not settings.ledger_path.exists():
        return None
    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        return ledger.users_touched_since(found[1].bookmark), ledger.items_touched_since(found[1].bookmark)


def update_profiles(
    store: GraphStore,
    settings: Settings,
    *,
    progress: Progress | None = None,
    embeddings: bool = True,
    around: tuple[Collection[str], Collection[str]] | None = None,
) -> UpdateReport:
    """Bring the profiles of users with new events (and new users) up to date; see the module docstring.
    First (``embeddings``) the new users and products among those with new events get vectors by fold-in
    from their own relationships, and other products without one from their text; ``around`` (the user and
    product ids of a batch, from ``kg serve``) names them instead of the ledger, and skips the text step."""
    from kg.profiles.writeback import write_interests, write_recommendations

    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    vectors = {}
    if embeddings:
        targets = around if around is not None else _touched_since_profiles(settings)
        vectors = update_embeddings(store, settings, progress=progress, around=targets, text=around is None)
    if vectors:
        seconds["embeddings"] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()
    found = latest_state(settings)
    if found is None:
        return UpdateReport(
            run=None, embeddings=vectors, note="no profiles yet: run kg profiles first (kg update keeps them current)"
        )
    run_dir, state = found
    if not settings.ledger_path.exists():
        return UpdateReport(run=state.run, embeddings=vectors, note="no events yet")
    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        bookmark = ledger.last_batch()
        touched = sorted(ledger.users_touched_since(state.bookmark))
    if not touched:
        return UpdateReport(run=state.run, embeddings=vectors, seconds=seconds)
    seconds["find"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    result = profile_with_state(store, settings, state, touched)
    as_of = int(result.interests.as_of_ms)
    seconds["compute"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    users = result.users
    before = {row["user"]: row["segment"] for row in store.query(SEGMENT_OF_USERS, users=users)}
    membership = [{"user": u, "segment": segment} for u, segment in result.segment_of().items()]
    with writer_lock(settings, what="kg update"):
        updated_at = int(time.time() * 1000)
        n_interests = write_interests(store, result.interest_rows_of, users, run=state.run, updated_at=updated_at)
        store.write(USER_EDGES_CLEAR, users, identifiers={"rel": "IN_SEGMENT"})
        store.write(MEMBERSHIP_WRITE, membership, run=state.run)
        store.write(
            TOGETHER_ADD, [{"source": s, "target": t, "count": c} for s, t, c in result.together], run=state.run
        )
        n_recs = write_recommendations(store, result.recommendations, users, run=state.run)
        store.write(SEGMENT_SIZE_ADD, _size_changes(before, membership))
    seconds["write"] = round(time.perf_counter() - clock, 3)
    state.bookmark = bookmark
    state.as_of_ms = as_of
    save_cursor(run_dir, state)
    changed = sum(1 for m in membership if before.get(m["user"]) not in (None, m["segment"]))
    return UpdateReport(
        run=state.run,
        embeddings=vectors,
        users_updated=len(users),
        new_users=sum(1 for u in users if u not in before),
        interests=n_interests,
        recommendations=n_recs,
        segments_changed=changed,
        events_seen=result.shop.interactions.n_events,
        as_of=day(as_of),
        seconds=seconds,
    )
