"""kg profiles end to end on a real embedded server: a small synthetic shop ingested through the library,
profiles computed and written, read back, re-run without duplicates; reasons are real graph paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ingest.api import ingest_file
from kg.ingest.synthetic import generate_shop
from kg.profiles import compute_profiles, user_profile, user_recommendations
from kg.profiles.reasons import path_exists
from kg.store import GraphStore
from tests.helpers import run_cli

K = 5


@pytest.fixture
def shop_store(tmp_path: Path, settings: Settings, store: GraphStore) -> GraphStore:
    files = generate_shop(tmp_path / "shop", users=60, products=40, events=2_000, seed=3)
    ingest_file(store, settings, files.products, kind="products", fmt="csv")
    ingest_file(store, settings, files.events, kind="events", fmt="csv")
    return store


def _count(store: GraphStore, text: str) -> int:
    return int(store.read(text)[0]["n"])


def test_profiles_written_and_replaced_on_rerun(shop_store: GraphStore, settings: Settings) -> None:
    store = shop_store
    report = compute_profiles(store, settings, train=False, k=K, top=10, seed=1)
    users = _count(store, "MATCH (u:User) RETURN count(u) AS n")
    assert report.users == users == 60
    assert report.users_profiled == users
    assert report.segments and sum(s["size"] for s in report.segments) == users
    assert Path(report.run_dir, "segments.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    counts = {
        rel: _count(store, f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n")
        for rel in ("INTERESTED_IN", "IN_SEGMENT", "RECOMMENDED", "POPULAR_IN", "BOUGHT_TOGETHER")
    }
    assert counts["IN_SEGMENT"] == users
    assert counts["RECOMMENDED"] == report.recommendations > 0
    assert counts["INTERESTED_IN"] == report.interests > 0
    assert (
        _count(store, "MATCH (u:User)-[r:INTERESTED_IN]->() WITH u, count(r) AS c WHERE c > 10 RETURN count(u) AS n")
        == 0
    )  # --top 10 per user

    # bought or rated items are never recommended (viewed ones may be, as in the evaluation); ranks 1..n
    assert (
        _count(
            store, "MATCH (u:User)-[:RECOMMENDED]->(p:Product) WHERE (u)-[:PURCHASED|RATED]->(p) RETURN count(*) AS n"
        )
        == 0
    )
    for row in store.read(
        "MATCH (u:User)-[r:RECOMMENDED]->() WITH u, collect(r.rank) AS ranks RETURN u.id AS user, ranks"
    ):
        assert sorted(row["ranks"]) == list(range(1, len(row["ranks"]) + 1))
        assert len(row["ranks"]) <= K

    # every reason is a real path from the user to the product
    rows = store.read(
        "MATCH (u:User)-[r:RECOMMENDED]->(p:Product) RETURN u.id AS user, p.id AS product, "
        "r.reason AS reason, r.path AS path, r.path_types AS types"
    )
    for row in rows:
        assert row["path"][0] == f"User:{row['user']}" and row["path"][-1] == f"Product:{row['product']}"
        assert row["reason"]
        assert path_exists(store, row["path"], row["types"]), row

    # a changed path fails the check (the check can fail)
    bad = list(rows[0]["path"])
    bad[-1] = "Product:no-such-product"
    assert not path_exists(store, bad, rows[0]["types"])

    again = compute_profiles(store, settings, train=False, k=K, top=10, seed=1)
    assert again.run != report.run
    for rel, n in counts.items():
        assert _count(store, f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n") == n, rel
    assert _count(store, f"MATCH ()-[r:RECOMMENDED]->() WHERE r.run <> '{again.run}' RETURN count(r) AS n") == 0
    assert _count(store, "MATCH (s:Segment) RETURN count(s) AS n") == len(again.segments)


def test_profile_and_recommend_read_back(shop_store: GraphStore, settings: Settings) -> None:
    store = shop_store
    compute_profiles(store, settings, train=False, k=K, seed=0)
    raw = "U0000001"
    profile = user_profile(store, settings, raw)
    assert profile.found and profile.profiled
    assert profile.id == Pseudonymiser.from_settings(settings).user_id(raw)
    scores = [row["score"] for row in profile.interests]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert profile.segment is not None and profile.segment["label"] in profile.summary
    assert profile.interests[0]["key"] in profile.summary
    recs = user_recommendations(store, settings, raw, k=3)
    assert [r["rank"] for r in recs.recommendations] == [1, 2, 3]
    assert recs.recommendations[0]["reason"] in profile.summary

    missing = user_profile(store, settings, "nobody-at-all")
    assert not missing.found and missing.lines()[0].startswith("user not found")


def test_cli_profiles_profile_recommend_and_errors(shop_store: GraphStore, settings: Settings) -> None:
    result = run_cli(settings, "profiles", "--no-train", "--k", "4", "--segments", "3", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"run", "users_profiled", "segments", "recommendations", "catalogue_coverage", "seconds", "files"} <= set(
        data
    )
    assert len(data["segments"]) == 3
    assert any(f.endswith("segments.png") for f in data["files"])

    result = run_cli(settings, "recommend", "U0000002", "--k", "2", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 2 and all(r["reason"] and r["path"] for r in rows)

    result = run_cli(settings, "profile", "U0000002")
    assert result.exit_code == 0 and "summary:" in result.stdout

    for args, code in (
        (("profile", "no-such-user"), 1),
        (("recommend", "no-such-user"), 1),
        (("profiles", "--k", "0"), 2),
        (("profiles", "--segments", "0"), 2),
        (("profiles", "--as-of", "yesterday"), 2),
        (("eval", "recommend", "--model", "magic"), 2),
        (("eval", "recommend", "--k", "0"), 2),
        (("eval", "recommend", "--split", "random"), 2),
    ):
        result = run_cli(settings, *args)
        assert result.exit_code == code, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)


def test_cli_eval_recommend_json(shop_store: GraphStore, settings: Settings) -> None:
    result = run_cli(settings, "eval", "recommend", "--model", "popularity,itemknn", "--k", "5,20", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["model"] for r in rows] == ["popularity", "itemknn"]
    for row in rows:
        for key in ("recall@5", "ndcg@5", "hit@5", "coverage@5", "recall@20", "ndcg@20", "hit@20", "coverage@20"):
            assert 0.0 <= row[key] <= 1.0, key
        assert row["users"] > 0
        # the default split is live; every slice is in the JSON, its users counted
        slices = ("bought1", "bought2-4", "bought5+", "views_only")
        assert sum(row[f"users_{name}"] for name in slices) == row["users"]
        assert all(f"recall@20_{name}" in row for name in slices)


@pytest.mark.slow  # trains a small TransE model
def test_a_first_run_trains_the_embeddings_with_the_measured_defaults(
    shop_store: GraphStore, settings: Settings
) -> None:
    from kg.embeddings.runs import find_run
    from kg.profiles.steps import AUTO_TRAIN

    report = compute_profiles(shop_store, settings, k=K, top=5, seed=1)
    assert report.embeddings_run is not None
    config = find_run(settings.runs_dir, report.embeddings_run, arrays=False).config
    assert {key: config[key] for key in AUTO_TRAIN} == AUTO_TRAIN
    assert AUTO_TRAIN == {"batch_size": 2048, "epochs": 30, "early_stopping": False, "eval_max": 1000}
    assert config["seed"] == 1
