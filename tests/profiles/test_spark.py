"""``kg profiles --engine spark``: real Spark in local mode (one session for the whole test session), no mocks.

Interests computed with Spark from a real Parquet mirror equal :func:`compute_interests`'s (same users in the same
order, same keys, same rows by user and rank, scores within 1e-9) on a synthetic shop with a three-level category
tree, brands, ratings of every kind, review mentions and an ``as_of`` in the middle; co-purchase counts equal
:func:`together_counts`; and ``kg profiles --engine spark`` on the embedded default writes the interests, the
BOUGHT_TOGETHER counts and the recommendations (with their reasons) that ``--engine local`` writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from kg.foundation.settings import Settings
from kg.ingest.api import ingest_file
from kg.ingest.synthetic import generate_shop
from kg.ledger import parquet_files as files
from kg.ledger.records import LedgerEvent
from kg.profiles.data import AspectSignals, Catalogue, Interactions, ShopData
from kg.profiles.interests import DAY_MS, InterestTable, InterestWeights, compute_interests
from kg.profiles.reasons import together_counts
from kg.profiles.spark import read_events, spark_interests, spark_session, spark_together
from kg.store import GraphStore
from tests.helpers import run_cli

pytest.importorskip("pyspark", reason="the 'spark' extra is not installed (pip install -e '.[spark]')")
pytest.importorskip("pyarrow", reason="the 'spark' extra is not installed (pip install -e '.[spark]')")

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

START = 1_700_000_000_000
TYPES = ("view", "view", "view", "favorite", "cart", "purchase", "rating")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """One local[2] session for every Spark test (a start costs seconds); ``kg profiles --engine spark`` run in
    this process uses it too."""
    with spark_session(Settings(home=tmp_path_factory.mktemp("spark-home")), "local[2]") as session:
        yield session


def _shop(seed: int = 11) -> tuple[ShopData, list[LedgerEvent]]:
    """A shop of 40 users and 30 products over 60 days: three category levels (one product on a top category,
    one with none), brands (one empty, some missing), every event type, ratings of 1..5 stars, out of range,
    fractional and missing; review mentions (one without a time, one user with mentions only)."""
    rng = np.random.default_rng(seed)
    items = [f"P{i:03d}" for i in range(30)]
    leaves = ["Home > Kitchen > Knives", "Home > Kitchen > Pans", "Home > Bedding", "Sports > Running", "Sports"]
    catalogue = Catalogue(
        category_of={p: leaves[i % len(leaves)] for i, p in enumerate(items[:-1])},
        brand_of={p: ("" if i == 3 else f"Brand{i % 6}") for i, p in enumerate(items) if i % 7 != 5},
        parent_of={
            "Home > Kitchen > Knives": "Home > Kitchen",
            "Home > Kitchen > Pans": "Home > Kitchen",
            "Home > Kitchen": "Home",
            "Home > Bedding": "Home",
            "Sports > Running": "Sports",
        },
    )
    stars = [1.0, 2.0, 3.0, 4.0, 5.0, 4.3, 7.0, None]
    events = []
    for _ in range(1_500):
        kind = TYPES[int(rng.integers(len(TYPES)))]
        rating = stars[int(rng.integers(len(stars)))] if kind == "rating" else None
        at = START + int(rng.integers(0, 60 * DAY_MS))
        events.append(LedgerEvent(f"U{int(rng.zipf(1.6)) % 40:03d}", items[int(rng.zipf(1.3)) % 30], kind, at, rating))
    events.sort(key=lambda e: (e.at, e.user, e.item, e.type))
    mentions: list[tuple[str, str, float, int | None]] = [
        (events[i].user, ["blade", "handle", "fit", "price"][i % 4], float(rng.uniform(-1, 1)), events[i].at)
        for i in range(0, 1_500, 37)
    ]
    mentions += [("U001", "price", 0.8, None), ("REVIEWER", "fit", 0.5, START + 10 * DAY_MS)]
    interactions = Interactions.from_rows([tuple(e) for e in events])  # type: ignore[misc]
    return ShopData(interactions, catalogue, AspectSignals(user_mentions=mentions)), events


def _mirror(root: Path, events: list[LedgerEvent]) -> Path:
    """``events`` as the lake's day partitions (the files ``kg lake sync`` writes)."""
    by_day: dict[str, list[LedgerEvent]] = {}
    for event in events:
        by_day.setdefault(files.day_of(event.at), []).append(event)
    for day, rows in by_day.items():
        files.write_partition(root, day, files.table_of(rows))
    return root


def _assert_same(spark_table: InterestTable, local: InterestTable) -> None:
    assert spark_table.users == local.users
    assert spark_table.keys == local.keys
    assert spark_table.as_of_ms == local.as_of_ms
    assert [r[:3] for r in spark_table.rows] == [r[:3] for r in local.rows]
    np.testing.assert_allclose(spark_table.score, local.score, rtol=1e-9, atol=0)
    assert spark_table.user.tolist() == local.user.tolist() and spark_table.key.tolist() == local.key.tolist()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[ShopData, Path]:
    shop, events = _shop()
    return shop, _mirror(tmp_path_factory.mktemp("lake") / "events", events)


CASES: dict[str, dict[str, Any]] = {
    "defaults (as_of: the newest event)": {},
    "as_of in the middle, short half-life, top 4": {"as_of_ms": START + 30 * DAY_MS, "half_life_days": 7, "top": 4},
    "other weights": {
        "as_of_ms": START + 45 * DAY_MS,
        "weights": InterestWeights(view=0.5, rating=6, aspect=3, category_decay=0.3, brand_share=0.7),
        "top": 50,
    },
}


@pytest.mark.parametrize("case", list(CASES))
def test_spark_interests_equal_the_local_engine(
    spark: SparkSession, synthetic: tuple[ShopData, Path], case: str
) -> None:
    shop, mirror = synthetic
    local = compute_interests(shop, **CASES[case])
    on_spark = spark_interests(spark, read_events(spark, mirror), shop, **CASES[case])
    _assert_same(on_spark, local)
    labels = {label for _, label, _, _ in local.rows}
    assert labels == {"Category", "Brand", "Aspect"}  # every kind of interest was compared
    assert ("Category", "Home") in local.keys and "REVIEWER" in local.users  # parents and mention-only users
    assert len(local) > 100


def test_spark_interests_before_every_event(spark: SparkSession, synthetic: tuple[ShopData, Path]) -> None:
    shop, mirror = synthetic
    local = compute_interests(shop, as_of_ms=START - 1)
    _assert_same(spark_interests(spark, read_events(spark, mirror), shop, as_of_ms=START - 1), local)
    assert local.rows == [("U001", "Aspect", "price", pytest.approx(1.6))]  # only the review without a time


def test_spark_together_counts_equal_the_local_ones(spark: SparkSession, synthetic: tuple[ShopData, Path]) -> None:
    shop, mirror = synthetic
    local = together_counts(shop.interactions.matrix())
    on_spark = spark_together(read_events(spark, mirror), shop.interactions.items)
    assert local.nnz > 50 and on_spark.dtype == local.dtype
    assert (on_spark != local).nnz == 0


def _interests(store: GraphStore) -> list[tuple[str, str, str, float]]:
    """Every INTERESTED_IN edge as (user, label, key, score): a Category's key is its path, the others' a name."""
    rows = store.read(
        "MATCH (u:User)-[r:INTERESTED_IN]->(n) RETURN u.id AS user, labels(n)[0] AS label, n.path AS path, "
        "n.name AS name, r.score AS score"
    )
    keys = {"Category": "path", "Brand": "name", "Aspect": "name"}
    return sorted((r["user"], r["label"], str(r[keys[r["label"]]]), float(r["score"])) for r in rows)


def _together(store: GraphStore) -> list[tuple[str, str, int]]:
    """Every BOUGHT_TOGETHER edge as (source, target, count)."""
    rows = store.read(
        "MATCH (p:Product)-[r:BOUGHT_TOGETHER]->(q:Product) RETURN p.id AS source, q.id AS target, r.count AS count"
    )
    return sorted((r["source"], r["target"], int(r["count"])) for r in rows)


def _recommendations(store: GraphStore) -> list[tuple[str, int, str, float, str, str, str]]:
    """Every RECOMMENDED edge as (user, rank, product, score, reason, path, path types)."""
    rows = store.read(
        "MATCH (u:User)-[r:RECOMMENDED]->(p:Product) RETURN u.id AS user, r.rank AS rank, p.id AS product, "
        "r.score AS score, r.reason AS reason, r.path AS path, r.path_types AS types"
    )
    return sorted(
        (r["user"], int(r["rank"]), r["product"], float(r["score"]), str(r["reason"]), str(r["path"]), str(r["types"]))
        for r in rows
    )


@pytest.mark.falkordb_only("the Spark engine reads the ledger's Parquet mirror; the embedded default shows it")
def test_kg_profiles_on_spark_writes_what_the_local_engine_writes(
    spark: SparkSession, tmp_path: Path, settings: Settings, store: GraphStore
) -> None:
    shop = generate_shop(tmp_path / "shop", users=60, products=40, events=2_000, seed=3)
    ingest_file(store, settings, shop.products, kind="products", fmt="csv")
    ingest_file(store, settings, shop.events, kind="events", fmt="csv")
    args = ("profiles", "--no-train", "--k", "5", "--top", "8", "--as-of", "2023-12-01", "--json")

    local = run_cli(settings, *args)
    assert local.exit_code == 0, local.output
    written_locally = _interests(store)
    together_locally, recommended_locally = _together(store), _recommendations(store)

    result = run_cli(settings, *args, "--engine", "spark", "--master", "local[2]")
    assert result.exit_code == 0, result.output
    assert _interests(store) == written_locally and len(written_locally) > 100
    assert _together(store) == together_locally and len(together_locally) > 100
    assert _recommendations(store) == recommended_locally and len(recommended_locally) > 100
    assert any("BOUGHT_TOGETHER" in types for *_, types in recommended_locally)  # reasons cite the counts
    report = json.loads(result.stdout)
    assert report["engine"] == "spark" and report["spark"]["stages"] == ["interests", "co-purchase counts"]
    assert report["spark"]["master"] == "local[2]" and Path(report["spark"]["mirror"]).is_dir()
    assert set(report["spark"]["seconds"]) == {"lake sync", "spark start", "interests", "co-purchase counts"}
    assert report["interests"] == len(written_locally)

    bad = run_cli(settings, "profiles", "--engine", "spark", "--master", "bogus://x")
    assert bad.exit_code == 2 and "'bogus://x' is not a Spark master" in bad.stderr


def test_engine_and_master_options_are_checked(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", pseudonym_key="test-key")
    result = run_cli(settings, "profiles", "--master", "local[2]")
    assert result.exit_code == 2 and "--master needs --engine spark" in result.stderr
    result = run_cli(settings, "profiles", "--engine", "hadoop")
    assert result.exit_code == 2 and "unknown --engine 'hadoop'; choose local or spark" in result.stderr
