"""kg serve over real HTTP: a uvicorn server on a loopback port, driven with httpx, on both backends.

Events posted are stored once (the ledger's idempotency), bad lines come back with their reasons, the
touched users' recommendations equal what the frozen model gives from scratch (kg update's reference),
reads are loopback-only without the token, writes always need it, and no id reaches the metrics.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kg.foundation.locks import writer_lock
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ingest.api import ingest_file
from kg.ingest.synthetic import generate_shop
from kg.ledger import EventLedger
from kg.profiles import compute_profiles
from kg.profiles.cypher import USER_RECOMMENDED
from kg.profiles.incremental import latest_state, rebuild_with_state
from kg.profiles.reasons import path_exists
from kg.store import GraphStore
from tests.service.serving import AUTH, Served, serving

LATE = 1_800_000_000_000  # after every event of the synthetic shop


def _shop(tmp_path: Path, settings: Settings, store: GraphStore) -> None:
    files = generate_shop(tmp_path / "shop", users=50, products=30, events=1_500, seed=5)
    ingest_file(store, settings, files.products, kind="products", fmt="csv")
    ingest_file(store, settings, files.events, kind="events", fmt="csv")


@pytest.fixture
def served(tmp_path: Path, settings: Settings, store: GraphStore) -> Iterator[Served]:
    """A profiled synthetic shop (no embeddings) and ``kg serve`` on it."""
    _shop(tmp_path, settings, store)
    compute_profiles(store, settings, train=False, k=5, top=10, seed=2)
    with serving(settings, store) as served:
        yield served


def _event(user: str, item: str, kind: str, at: int) -> dict[str, object]:
    return {"user_id": user, "item_id": item, "event_type": kind, "timestamp": at}


def _ledger_events(settings: Settings) -> int:
    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        return ledger.counts()["events"]


def test_posted_events_land_once_and_update_recommendations_like_kg_update(served: Served) -> None:
    settings, store = served.settings, served.store
    events = [
        _event("U0000003", "P0000001", "purchase", LATE),
        _event("NEWCOMER", "P0000007", "purchase", LATE + 1),
        _event("NEWCOMER", "P0000008", "cart", LATE + 2),
        {"user_id": "NEWCOMER", "event_type": "view", "timestamp": LATE},  # no item
        _event("NEWCOMER", "P0000007", "purchase", LATE + 1),  # the same event twice
    ]
    before = _ledger_events(settings)
    with httpx.Client(base_url=served.url, timeout=60) as http:
        assert http.post("/events", json=events).status_code == 401, "writes need the token, even on loopback"
        reply = http.post("/events", json=events, headers=AUTH, params={"wait": "updated"})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["accepted"] == 4 and body["updated"] is True
        assert [r["line"] for r in body["rejected"]] == [4] and "item_id" in body["rejected"][0]["reason"]
        assert _ledger_events(settings) == before + 3, "a duplicate in the same post is stored once"

        again = http.post("/events", json=events, headers=AUTH)  # the whole post again, as JSON lines this time
        assert again.status_code == 200 and again.json()["accepted"] == 4
        assert _ledger_events(settings) == before + 3, "a post repeated is stored once"

        recs = http.get("/users/NEWCOMER/recommendations", params={"k": 5})
        assert recs.status_code == 200, recs.text
        shown = recs.json()["recommendations"]
        assert 0 < len(shown) <= 5 and all(r["reason"] for r in shown)
        assert http.get("/users/NOBODY-AT-ALL/recommendations").status_code == 404
        profile = http.get("/users/NEWCOMER/profile").json()
        assert profile["found"] and profile["interests"] and profile["summary"]
        health = http.get("/health").json()
        assert health["status"] == "ok" and health["profiles_run"] == latest_state(settings)[1].run
        metrics = http.get("/metrics").text

    # what the service wrote equals the frozen model's from-scratch answer for the touched users
    pseudo = Pseudonymiser.from_settings(settings).user_id
    state = latest_state(settings)[1]
    reference = rebuild_with_state(store, settings, None, as_of_ms=state.as_of_ms)
    for raw in ("U0000003", "NEWCOMER"):
        user = pseudo(raw)
        stored = [(r["id"], int(r["rank"]), r["reason"]) for r in store.query(USER_RECOMMENDED, id=user)]
        assert stored == [
            (r["product"], r["rank"], r["reason"]) for r in reference["recommendations"] if r["user"] == user
        ]
    assert [r["id"] for r in shown] == [r["id"] for r in store.query(USER_RECOMMENDED, id=pseudo("NEWCOMER"))][:5]
    for row in store.read(
        "MATCH (u:User {id: $id})-[r:RECOMMENDED]->() RETURN r.path AS path, r.path_types AS types",
        {"id": pseudo("NEWCOMER")},
    ):
        assert path_exists(store, row["path"], row["types"])

    assert "kg_serve_events_ingested_total 8.0" in metrics  # valid lines; the ledger stored 3 new events
    assert 'kg_serve_events_rejected_total{source="http"} 2.0' in metrics
    assert "kg_serve_event_to_recommendation_seconds_count" in metrics
    assert "NEWCOMER" not in metrics and pseudo("NEWCOMER") not in metrics
    assert 'route="/users/{raw_id}/recommendations"' in metrics


def test_guards_bodies_and_bad_requests(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as http:
        rebinding = http.get("/health", headers={"Host": "attacker.example"})
        assert rebinding.status_code == 403, "reads without the token answer loopback Host headers only"
        huge = http.post("/events", content=b"x" * (65 * 1024), headers=AUTH)
        assert huge.status_code == 413 and "bytes" in huge.json()["error"]
        empty = http.post("/events", content=b"  \n", headers=AUTH)
        assert empty.status_code == 400 and empty.json()["hint"]
        garbage = http.post("/events", content=b'not json\n{"user_id": 1}\n', headers=AUTH)
        assert garbage.status_code == 200
        assert garbage.json()["accepted"] == 0 and [r["line"] for r in garbage.json()["rejected"]] == [1, 2]
        batch = garbage.json()["batch"]
        quarantined = [
            json.loads(line)
            for file in served.settings.quarantine_dir.iterdir()
            if file.is_file()
            for line in file.read_text(encoding="utf-8").splitlines()
        ]
        mine = [r for r in quarantined if r["source"].endswith(batch)]
        assert [r["line"] for r in mine] == [1, 2] and "JSON" in mine[0]["reason"], "bad lines are quarantined"
        assert http.get("/users/NEWCOMER/recommendations", params={"k": 0}).status_code == 422
        assert http.post("/events", json=[], headers=AUTH, params={"wait": "later"}).status_code == 422


def test_writes_wait_for_another_writer_and_forgotten_people_stay_gone(served: Served) -> None:
    from kg.operations.forget.person import forget_user

    settings, store = served.settings, served.store
    before = _ledger_events(settings)
    with httpx.Client(base_url=served.url, timeout=60) as http:
        with writer_lock(settings, what="a kg ingest beside the service"):
            queued = http.post(
                "/events", json=[_event("LOCKED-OUT", "P0000002", "view", LATE)], headers=AUTH, params={"wait": "none"}
            )
            assert queued.status_code == 202
            deadline = time.monotonic() + 10
            while served.service.intake.waiting:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            assert _ledger_events(settings) == before, "nothing is written while another writer holds the graph"
        landed = http.post("/events", json=[_event("LOCKED-OUT", "P0000003", "view", LATE)], headers=AUTH)
        assert landed.status_code == 200 and _ledger_events(settings) == before + 2

        assert http.get("/users/U0000005/recommendations").status_code == 200
        forget_user(store, settings, "U0000005")
        assert http.get("/users/U0000005/recommendations").status_code == 404
        back = http.post(
            "/events", json=[_event("U0000005", "P0000004", "purchase", LATE)], headers=AUTH, params={"wait": "updated"}
        )
        assert back.status_code == 200
        assert http.get("/users/U0000005/recommendations").status_code == 404, "a forgotten person does not come back"
        assert "kg_serve_events_forgotten_total 1.0" in http.get("/metrics").text


def test_a_new_profiles_run_is_picked_up_without_a_restart(served: Served) -> None:
    settings, store = served.settings, served.store
    first = latest_state(settings)[1].run
    second = compute_profiles(store, settings, train=False, k=4, top=10, seed=3).run
    assert second != first
    with httpx.Client(base_url=served.url, timeout=60) as http:
        assert http.get("/health").json()["profiles_run"] == second
        reply = http.post(
            "/events", json=[_event("U0000007", "P0000009", "purchase", LATE)], headers=AUTH, params={"wait": "updated"}
        )
        assert reply.status_code == 200
    user = Pseudonymiser.from_settings(settings).user_id("U0000007")
    runs = {
        r["run"] for r in store.read("MATCH (:User {id: $id})-[r:RECOMMENDED]->() RETURN r.run AS run", {"id": user})
    }
    assert runs == {second}


@pytest.mark.slow
def test_new_users_and_products_are_folded_in_from_their_own_neighbourhood(
    tmp_path: Path, settings: Settings, store: GraphStore
) -> None:
    from kg.embeddings import TrainConfig, train_graph
    from kg.profiles import update_profiles

    _shop(tmp_path, settings, store)
    train_graph(store, settings, TrainConfig(model="TransE", dim=16, epochs=3, seed=1, early_stopping=False))
    compute_profiles(store, settings, k=4, seed=0)
    catalogue = tmp_path / "late_products.csv"
    catalogue.write_text("item_id,title,brand,category,price\nPCAT-ONLY,Acme lamp,Acme Labs,Home > Lamps,9.99\n")
    ingest_file(store, settings, catalogue, kind="products", fmt="csv")
    events = [_event("FRESH-USER", "P0000001", "purchase", LATE), _event("U0000001", "PNEW-EVENTS", "view", LATE + 1)]
    with serving(settings, store) as served, httpx.Client(base_url=served.url, timeout=60) as http:
        reply = http.post("/events", json=events, headers=AUTH, params={"wait": "updated"})
        assert reply.status_code == 200 and reply.json()["accepted"] == 2
        assert http.get("/users/FRESH-USER/recommendations").json()["recommendations"]

    fresh = Pseudonymiser.from_settings(settings).user_id("FRESH-USER")
    method = "MATCH (n) WHERE n.id IN $ids RETURN n.id AS id, n.embedding_method AS m"
    methods = {r["id"]: r["m"] for r in store.read(method, {"ids": [fresh, "PNEW-EVENTS", "PCAT-ONLY"]})}
    assert methods[fresh] == "fold-in" and methods["PNEW-EVENTS"] == "fold-in"
    assert methods["PCAT-ONLY"] is None, "a batch folds in only its own new users and products"
    update_profiles(store, settings)  # kg update looks at the whole graph
    assert store.read(method, {"ids": ["PCAT-ONLY"]})[0]["m"] in ("fold-in", "text")
