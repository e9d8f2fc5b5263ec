"""kg update: new events change only the touched users' profiles, and what it writes for them equals a
from-scratch rebuild with the same frozen model (interests: equal to kg profiles' own arithmetic)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ingest.api import ingest_file
from kg.ingest.synthetic import ShopFiles, generate_shop
from kg.profiles import compute_profiles, update_profiles
from kg.profiles.cypher import USER_INTERESTS, USER_RECOMMENDED, USER_SEGMENT
from kg.profiles.incremental import latest_state, rebuild_with_state
from kg.profiles.interests import compute_interests
from kg.profiles.load import load_shop
from kg.profiles.reasons import path_exists
from kg.profiles.steps import stored_score
from kg.store import GraphStore
from tests.helpers import run_cli

DAY = 86_400_000
#: after every event of the synthetic shops
LATE = 1_800_000_000_000
#: a user's profile edges with what an update would change on them
PROFILE_EDGES = (
    "MATCH (u:User {id: $id})-[r:INTERESTED_IN|RECOMMENDED|IN_SEGMENT]->(t) "
    "RETURN type(r) AS t, r.updated_at AS at, r.run AS run, r.rank AS rank, r.score AS score "
    "ORDER BY t, score, rank"
)


def _csv(path: Path, header: list[str], rows: list[tuple[object, ...]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _events(path: Path, rows: list[tuple[str, str, str, int, str]]) -> Path:
    return _csv(path, ["user_id", "item_id", "event_type", "timestamp", "rating"], rows)


def _products(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    return _csv(path, ["item_id", "title", "brand", "category", "price"], rows)


def _ingested_shop(tmp_path: Path, settings: Settings, store: GraphStore, **sizes: int) -> ShopFiles:
    """A synthetic shop (``generate_shop(**sizes)``) with its products and events ingested."""
    files = generate_shop(tmp_path / "shop", **sizes)
    ingest_file(store, settings, files.products, kind="products", fmt="csv")
    ingest_file(store, settings, files.events, kind="events", fmt="csv")
    return files


def _trained_and_profiled(store: GraphStore, settings: Settings, epochs: int) -> None:
    """A small TransE model trained on the graph (vectors written back), then the profiles with k = 4."""
    from kg.embeddings import TrainConfig, train_graph

    train_graph(store, settings, TrainConfig(model="TransE", dim=16, epochs=epochs, seed=1, early_stopping=False))
    compute_profiles(store, settings, k=4, seed=0)


def _graph_rows(store: GraphStore, users: list[str]) -> tuple[dict, dict, dict]:
    interests, recs, segments = {}, {}, {}
    for u in users:
        interests[u] = sorted((r["label"], r["key"], float(r["score"])) for r in store.query(USER_INTERESTS, id=u))
        recs[u] = [(r["id"], int(r["rank"]), r["reason"]) for r in store.query(USER_RECOMMENDED, id=u)]
        seg = store.query(USER_SEGMENT, id=u)
        segments[u] = int(seg[0]["id"]) if seg else None
    return interests, recs, segments


@pytest.mark.slow
def test_update_touches_only_new_events_and_equals_a_rebuild(
    tmp_path: Path, settings: Settings, store: GraphStore
) -> None:
    files = _ingested_shop(tmp_path, settings, store, users=50, products=30, events=1_500, seed=5)
    first = compute_profiles(store, settings, train=False, k=5, top=10, seed=2)
    assert update_profiles(store, settings).users_updated == 0  # nothing new yet

    pseudo = Pseudonymiser.from_settings(settings).user_id
    untouched = pseudo("U0000010")
    before = store.read(PROFILE_EDGES, {"id": untouched})
    newest = max(int(r[3]) for r in csv.reader(open(files.events, encoding="utf-8")) if r[3].isdigit())
    new = _events(
        tmp_path / "new.csv",
        [
            ("U0000003", "P0000001", "purchase", newest + DAY, ""),
            ("U0000003", "P0000002", "rating", newest + DAY, "5"),
            ("U0000004", "P0000005", "view", newest + 2 * DAY, ""),
            ("NEWCOMER", "P0000007", "purchase", newest + 3 * DAY, ""),
            ("NEWCOMER", "P0000008", "cart", newest + 3 * DAY, ""),
        ],
    )
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
        assert interests[u] == sorted(
            (label, key, stored_score(score)) for user, label, key, score in full.rows if user == u
        )
    assert interests[pseudo("NEWCOMER")], "a new user gets interests at once"
    assert recs[pseudo("NEWCOMER")], "and recommendations"

    # recommendations and segments equal a from-scratch rebuild (all events reloaded) with the frozen model
    reference = rebuild_with_state(store, settings, None, as_of_ms=state.as_of_ms)
    for u in touched:
        assert recs[u] == [
            (r["product"], r["rank"], r["reason"]) for r in reference["recommendations"] if r["user"] == u
        ]
        assert segments[u] == reference["segments"][u]
    for row in store.read(
        "MATCH (u:User)-[r:RECOMMENDED]->(p:Product) WHERE u.id IN $users RETURN r.path AS path, r.path_types AS types",
        {"users": touched},
    ):
        assert path_exists(store, row["path"], row["types"])

    # untouched users keep their edges exactly
    after = store.read(PROFILE_EDGES, {"id": untouched})
    assert after == before
    sizes = store.read("MATCH (s:Segment) RETURN sum(s.size) AS n")[0]["n"]
    assert sizes == store.read("MATCH (u:User)-[:IN_SEGMENT]->() RETURN count(u) AS n")[0]["n"] == 51

    result = run_cli(settings, "update", "--json")
    assert result.exit_code == 0 and '"users_updated": 0' in result.stdout


def test_ingest_runs_kg_update_unless_told_not_to(tmp_path: Path, settings: Settings, store: GraphStore) -> None:
    files = _ingested_shop(tmp_path, settings, store, users=30, products=20, events=600, seed=8)
    result = run_cli(settings, "ingest", "events", str(files.events), "--force")
    assert result.exit_code == 0 and "updated" not in result.stderr  # no profiles yet: nothing to update
    compute_profiles(store, settings, train=False, k=3, seed=0)
    skip = _events(tmp_path / "skip.csv", [("U0000001", "P0000002", "purchase", LATE, "")])
    result = run_cli(settings, "ingest", "events", str(skip), "--no-update")
    assert result.exit_code == 0 and "updated" not in result.stderr
    new = _events(tmp_path / "new.csv", [("U0000002", "P0000003", "purchase", LATE + 1, "")])
    result = run_cli(settings, "ingest", "events", str(new))
    assert result.exit_code == 0
    assert "updated 2 users (0 new)" in result.stderr  # the skipped update's user too: the bookmark had not moved


@pytest.mark.slow
def test_update_gives_new_users_and_products_vectors_similar_items_and_recommendations(
    tmp_path: Path, settings: Settings, store: GraphStore
) -> None:
    from kg.embeddings import similar_items

    _ingested_shop(tmp_path, settings, store, users=40, products=25, events=1_200, seed=9)
    _trained_and_profiled(store, settings, epochs=3)

    catalogue = _products(
        tmp_path / "new_products.csv",
        [
            ("PNEW-EVENTS", "Acme phone case", "Acme Labs", "Electronics > Phones", "9.99"),
            ("PNEW-TEXT", "Acme Labs phone charger", "", "", "19.99"),  # no edge: text only
        ],
    )
    result = run_cli(settings, "ingest", "products", str(catalogue))
    assert result.exit_code == 0, result.output
    new = _events(
        tmp_path / "late.csv",
        [
            ("FRESH-USER", "P0000001", "purchase", LATE, ""),
            ("FRESH-USER", "P0000002", "view", LATE + 1, ""),
            ("U0000001", "PNEW-EVENTS", "purchase", LATE + 2, ""),
        ],
    )
    result = run_cli(settings, "ingest", "events", str(new))
    assert result.exit_code == 0, result.output
    assert "fold-in" in result.stderr and "updated" in result.stderr

    fresh = Pseudonymiser.from_settings(settings).user_id("FRESH-USER")
    methods = {
        row["id"]: row["m"]
        for row in store.read(
            "MATCH (n) WHERE n.id IN $ids RETURN n.id AS id, n.embedding_method AS m",
            {"ids": [fresh, "PNEW-EVENTS", "PNEW-TEXT"]},
        )
    }
    assert methods == {fresh: "fold-in", "PNEW-EVENTS": "fold-in", "PNEW-TEXT": "text"}
    assert similar_items(store, "PNEW-TEXT", k=3, settings=settings)
    assert similar_items(store, "PNEW-EVENTS", k=3, settings=settings)
    assert store.query(USER_RECOMMENDED, id=fresh), "the new user is recommended products at once"
    result = run_cli(settings, "similar", "PNEW-TEXT", "--k", "2", "--json")
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 2


class _CountingEncoder:
    """Stands in for the sentence encoder: deterministic vectors, and a count of the texts it encoded."""

    max_length = 0
    encoded: list[str] = []

    @classmethod
    def available(cls) -> bool:
        return True

    @classmethod
    def shared(cls) -> _CountingEncoder:
        return cls()

    def encode(self, texts: list[str]):  # type: ignore[no-untyped-def]
        import numpy as np

        type(self).encoded += texts
        return np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=16) for t in texts])


@pytest.mark.slow
def test_a_small_batch_folds_in_and_cold_starts_only_what_it_touched(
    tmp_path: Path, settings: Settings, store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20: a 5-row batch after the first update costs what the batch touched, not the whole shop."""
    monkeypatch.setattr("kg.embeddings.coldstart.TextEncoder", _CountingEncoder)
    _ingested_shop(tmp_path, settings, store, users=40, products=25, events=1_200, seed=9)
    _trained_and_profiled(store, settings, epochs=2)

    def batch(n: int) -> dict:
        # no edges: text cold-start
        catalogue = _products(tmp_path / f"products{n}.csv", [(f"PTEXT{n}", f"Acme gadget {n}", "", "", "9.99")])
        ingest_file(store, settings, catalogue, kind="products", fmt="csv")
        at = LATE + n * 10
        rows = [
            (f"NEW{n}", "P0000001", "purchase", at, ""),
            (f"NEW{n}", "P0000002", "view", at + 1, ""),
            ("U0000001", "P0000003", "view", at + 2, ""),
            ("U0000002", "P0000004", "cart", at + 3, ""),
            ("U0000003", "P0000005", "purchase", at + 4, ""),
        ]
        ingest_file(store, settings, _events(tmp_path / f"batch{n}.csv", rows), kind="events", fmt="csv")
        _CountingEncoder.encoded = []
        return update_profiles(store, settings).embeddings

    first = batch(
        1
    )  # the first cold-start learns its mapping from every product with a vector (and keeps the encodings)
    assert len(_CountingEncoder.encoded) > 20, first
    done = batch(2)
    assert done["fold_in"]["total_entities"] == 1  # the batch's one new user (known users and items keep theirs)
    assert done["text"]["products"] == 1
    assert _CountingEncoder.encoded == ["Acme gadget 2"]  # not the catalogue again
