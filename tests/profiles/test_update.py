"""kg update: new events change only the touched users' profiles, and what it writes for them equals a
from-scratch rebuild with the same frozen model (interests: equal to kg profiles' own arithmetic)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ingest.api import ingest_file
from ingest.synthetic import generate_shop
from kg.privacy import Pseudonymiser
from kg.settings import Settings
from kg.store import GraphStore
from profiles import compute_profiles, update_profiles
from profiles.incremental import latest_state, rebuild_with_state
from profiles.interests import compute_interests
from profiles.load import load_shop
from profiles.reasons import path_exists
from tests.helpers import run_cli

DAY = 86_400_000


def _events(path: Path, rows: list[tuple[str, str, str, int, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "event_type", "timestamp", "rating"])
        writer.writerows(rows)
    return path


def _graph_rows(store: GraphStore, users: list[str]) -> tuple[dict, dict, dict]:
    interests, recs, segments = {}, {}, {}
    for u in users:
        interests[u] = sorted((r["label"], r["key"], round(r["score"], 6))
                              for r in store.query("profiles_user_interests", id=u))
        recs[u] = [(r["id"], int(r["rank"]), r["reason"]) for r in store.query("profiles_user_recommended", id=u)]
        seg = store.query("profiles_user_segment", id=u)
        segments[u] = int(seg[0]["id"]) if seg else None
    return interests, recs, segments


@pytest.mark.slow
def test_update_touches_only_new_events_and_equals_a_rebuild(tmp_path: Path, settings: Settings,
                                                             store: GraphStore) -> None:
    files = generate_shop(tmp_path / "shop", users=50, products=30, events=1_500, seed=5)
    ingest_file(store, settings, files.products, kind="products", fmt="csv")
    ingest_file(store, settings, files.events, kind="events", fmt="csv")
    first = compute_profiles(store, settings, train=False, k=5, top=10, seed=2)
    assert update_profiles(store, settings).users_updated == 0  # nothing new yet

    pseudo = Pseudonymiser.from_settings(settings).user_id
    untouched = pseudo("U0000010")
    before = store.read("MATCH (u:User {id: $id})-[r:INTERESTED_IN|RECOMMENDED|IN_SEGMENT]->(t) "
                        "RETURN type(r) AS t, r.updated_at AS at, r.run AS run, r.rank AS rank, r.score AS score "
                        "ORDER BY t, score, rank", {"id": untouched})
    newest = max(int(r[3]) for r in csv.reader(open(files.events, encoding="utf-8")) if r[3].isdigit())
    new = _events(tmp_path / "new.csv", [
        ("U0000003", "P0000001", "purchase", newest + DAY, ""),
        ("U0000003", "P0000002", "rating", newest + DAY, "5"),
        ("U0000004", "P0000005", "view", newest + 2 * DAY, ""),
        ("NEWCOMER", "P0000007", "purchase", newest + 3 * DAY, ""),
        ("NEWCOMER", "P0000008", "cart", newest + 3 * DAY, ""),
    ])
    ingest_file(store, settings, new, kind="events", fmt="csv")
    report = update_profiles(store, settings)
    touched = sorted(pseudo(u) for u in ("U0000003", "U0000004", "NEWCOMER"))
    assert report.users_updated == 3 and report.new_users == 1
    assert report.run == first.run

    # interests equal kg profiles' arithmetic on the whole shop, from scratch
    state = latest_state(settings)[1]
    full = compute_interests(load_shop(store, settings), as_of_ms=state.as_of_ms, half_life_days=30.0, top=10)
    interests, recs, segments = _graph_rows(store, touched)
    for u in touched:
        assert interests[u] == sorted((label, key, round(score, 6)) for user, label, key, score in full.rows
                                      if user == u)
    assert interests[pseudo("NEWCOMER")], "a new user gets interests at once"
    assert recs[pseudo("NEWCOMER")], "and recommendations"

    # recommendations and segments equal a from-scratch rebuild (all events reloaded) with the frozen model
    reference = rebuild_with_state(store, settings, None, as_of_ms=state.as_of_ms)
    for u in touched:
        assert recs[u] == [(r["product"], r["rank"], r["reason"]) for r in reference["recommendations"]
                           if r["user"] == u]
        assert segments[u] == reference["segments"][u]
    for row in store.read("MATCH (u:User)-[r:RECOMMENDED]->(p:Product) WHERE u.id IN $users "
                          "RETURN r.path AS path, r.path_types AS types", {"users": touched}):
        assert path_exists(store, row["path"], row["types"])

    # untouched users keep their edges exactly
    after = store.read("MATCH (u:User {id: $id})-[r:INTERESTED_IN|RECOMMENDED|IN_SEGMENT]->(t) "
                       "RETURN type(r) AS t, r.updated_at AS at, r.run AS run, r.rank AS rank, r.score AS score "
                       "ORDER BY t, score, rank", {"id": untouched})
    assert after == before
    sizes = store.read("MATCH (s:Segment) RETURN sum(s.size) AS n")[0]["n"]
    assert sizes == store.read("MATCH (u:User)-[:IN_SEGMENT]->() RETURN count(u) AS n")[0]["n"] == 51

    result = run_cli(settings, "update", "--json")
    assert result.exit_code == 0 and '"users_updated": 0' in result.stdout
