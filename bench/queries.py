"""Latency of every analyst library query (``cypher/analyst/``) on a synthetic shop, embedded FalkorDB.

Builds the shop through the real pipeline on a fresh embedded server: ``kg.ingest.synthetic.generate_shop``
(N events, N/20 users, N/50 products) and ``generate_reviews`` (N/100 reviews) ingested with
``kg.ingest.api.ingest_file``; random 64-dim product embeddings with their vector index (the k-NN query needs
one; training them is bench/embed.py's job); then ``kg.profiles.compute_profiles(train=False)`` for interests,
segments, recommendations and co-purchases. Each query then runs --runs times (after --warmup runs) through
``kg.analyst.library.run_library_query``, with parameters drawn at random per run (users, products, brands,
categories, aspects, segments, dates; half the copurchase_paths pairs are 2-3 hops apart); shop-wide queries
run --shop-runs times. The table gives p50/p95/max in ms and mean rows returned. Goal:
p95 < 100 ms for per-user and per-product queries.

    python bench/queries.py                          # 10^6 events (the README table)
    python bench/queries.py --events 100000 --runs 20
    python bench/queries.py --events 100000 --no-profiles --json
    python bench/queries.py --events 100000 --home /tmp/shop   # keep the built shop; a rerun reuses it
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Report, add_json_flag, bench_settings, peak_rss_mb  # noqa: E402

START_MS = 1_700_000_000_000
DAYS = 90
GOAL_MS = 100.0


def _day(offset: int) -> str:
    return (datetime.fromtimestamp(START_MS / 1000, tz=UTC) + timedelta(days=offset)).strftime("%Y-%m-%d")


def build_shop(
    store: Any, settings: Any, work: Path, events: int, *, profiles: bool, report: Report, seed: int = 7
) -> dict[str, Any]:
    """Generate and ingest the shop; returns what the parameter draws need and the build timings."""
    import numpy as np

    from kg.ingest.api import ingest_file
    from kg.ingest.reviews.synthetic import generate_reviews
    from kg.ingest.synthetic import generate_shop

    users, products = max(events // 20, 10), max(events // 50, 10)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    files = generate_shop(work, users=users, products=products, events=events, seed=seed, start_ms=START_MS, days=DAYS)
    reviews = generate_reviews(work / "reviews.csv", n=max(events // 100, 10), shop=files, users=users, seed=seed)
    timings["generate"] = time.perf_counter() - clock
    for kind, path in (("products", files.products), ("events", files.events), ("reviews", reviews)):
        clock = time.perf_counter()
        summary = ingest_file(store, settings, path, kind=kind, fmt="csv", force=True)
        timings[f"ingest {kind}"] = time.perf_counter() - clock
        report.log(f"ingested {kind}: {summary.rows_ok:,} rows in {timings[f'ingest {kind}']:.1f} s")
    clock = time.perf_counter()
    rng = np.random.default_rng(seed)
    ids = [f"P{i:07d}" for i in range(products)]
    store.drop_vector_index("Product")
    store.set_vectors(
        "Product",
        (
            {"key": key, "vector": rng.standard_normal(64).astype("float32"), "props": {"embedding_dim": 64}}
            for key in ids
        ),
    )
    store.build_vector_index("Product", 64, timeout=600)
    timings["vectors"] = time.perf_counter() - clock
    report.log(f"wrote {products:,} product vectors and their index in {timings['vectors']:.1f} s")
    segments = 0
    if profiles:
        from kg.profiles import compute_profiles

        clock = time.perf_counter()
        try:
            computed = compute_profiles(store, settings, train=False, seed=seed)
            segments = len(computed.segments)
            report.log(
                f"profiles: {computed.users:,} users, {segments} segments, {computed.recommendations:,} recommendations"
            )
        except Exception as e:  # noqa: BLE001 - the bench still measures the other queries
            report.note(f"profiles failed ({type(e).__name__}: {e}); derived-edge queries return no rows")
        timings["profiles"] = time.perf_counter() - clock
    aspects = [row["name"] for row in store.execute("MATCH (a:Aspect) RETURN a.name AS name")]
    return {
        "users": users,
        "products": ids,
        "brands": sorted(set(files.brands)),
        "categories": sorted({p for leaf in files.leaves for p in (leaf, leaf.split(" > ")[0])}),
        "aspects": aspects or ["price"],
        "segments": max(segments, 1),
        "timings": timings,
        "stats": store.stats(),
    }


def param_drawers(shop: dict[str, Any]) -> dict[str, Callable[[random.Random], dict[str, str]]]:
    """Per query: a function drawing one run's parameters (raw values, as the CLI passes them)."""

    def user(r: random.Random) -> str:
        return f"U{r.randrange(shop['users']):07d}"

    def product(r: random.Random) -> str:
        return (
            r.choice(shop["products"][: max(1, len(shop["products"]) // 10)])
            if r.random() < 0.5
            else r.choice(shop["products"])
        )

    def since(r: random.Random) -> str:
        return _day(r.randrange(DAYS // 3, DAYS))

    return {
        "user_profile": lambda r: {"user": user(r)},
        "user_interests": lambda r: {"user": user(r)},
        "user_aspects": lambda r: {"user": user(r)},
        "user_recommendations": lambda r: {"user": user(r)},
        "segment_sizes": lambda r: {},
        "segment_top_interests": lambda r: {"segment": str(r.randrange(shop["segments"] + 1)), "limit": "5"},
        "segment_popular_products": lambda r: {"segment": str(r.randrange(1, shop["segments"] + 1))},
        "similar_products": lambda r: {"product": product(r), "k": "10"},
        "product_overview": lambda r: {"product": product(r)},
        "product_aspects": lambda r: {"product": product(r)},
        "brand_aspects": lambda r: {"brand": r.choice(shop["brands"])},
        "aspect_products": lambda r: {"aspect": r.choice(shop["aspects"])},
        "category_complaints": lambda r: {"category": r.choice(shop["categories"])},
        "bought_together": lambda r: {"product": product(r)},
        "copurchase_paths": lambda r: (
            dict(zip(("source", "target"), r.choice(shop["pairs"]), strict=True))
            if shop.get("pairs") and r.random() < 0.5
            else {"source": product(r), "target": product(r)}
        ),
        "trending_categories": lambda r: (lambda s: {"since": s, "until": _day(DAYS)})(since(r)),
        "cold_start_products": lambda r: {"max_events": str(r.choice([0, 2, 5, 10]))},
        "dropped_users": lambda r: {"since": since(r)},
        "brand_loyalty": lambda r: {"min_buyers": str(r.choice([1, 10, 100]))},
        "review_volume": lambda r: {},
        "ingest_runs": lambda r: {"kind": r.choice(["", "events"])},
    }


def connected_pairs(store: Any, shop: dict[str, Any], n: int = 50, seed: int = 7) -> list[list[str]]:
    """(source, target) products two or three BOUGHT_TOGETHER hops apart, so copurchase_paths finds paths."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        source = rng.choice(shop["products"][: max(1, len(shop["products"]) // 10)])
        hops = rng.choice([2, 3])
        rows = store.read(
            f"MATCH (a:Product {{id: $id}})-[:BOUGHT_TOGETHER*{hops}]->(b:Product) WHERE b <> a "
            "RETURN b.id AS id LIMIT 50",
            {"id": source},
        )
        if rows:
            pairs.append([source, rng.choice(rows)["id"]])
    return pairs


def add_measure_flags(parser: argparse.ArgumentParser) -> None:
    """The options :func:`measure` reads (--runs, --shop-runs, --warmup, --seed), and --only to pick queries."""
    parser.add_argument("--runs", type=int, default=30, help="measured runs per analyst query")
    parser.add_argument(
        "--shop-runs",
        type=int,
        default=5,
        help="measured runs of the shop-wide analyst queries (they scan the graph: seconds at 10^6 events)",
    )
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured runs per analyst query first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default="", help="comma-separated analyst query names (default: all)")


def measure(
    store: Any, settings: Any, shop: dict[str, Any], args: argparse.Namespace, *, only: list[str] | None, report: Report
) -> list[tuple[Any, ...]]:
    """p50/p95/max latency (ms) and mean rows of each query over ``args.runs`` draws of its parameters
    (``args.shop_runs`` for queries that are not about one user or product: they scan the whole graph), each
    after ``args.warmup`` unmeasured ones; the draws are seeded by ``args.seed``."""
    from kg.analyst.library import list_queries, run_library_query

    runs, shop_runs, warmup, seed = args.runs, args.shop_runs, args.warmup, args.seed

    drawers = param_drawers(shop)
    rows = []
    for query in list_queries():
        if only and query.name not in only:
            continue
        if query.name not in drawers:
            report.note(f"{query.name}: no parameter drawer in bench/queries.py, skipped")
            continue
        rng = random.Random(f"{seed}:{query.name}")
        times, counts = [], []
        per_key = query.subject in ("user", "product")
        n = runs if per_key else min(runs, shop_runs)
        for i in range(warmup + n):
            params = drawers[query.name](rng)
            started = time.perf_counter()
            result = run_library_query(store, query.name, params, settings=settings)
            elapsed = (time.perf_counter() - started) * 1000
            if i >= warmup:
                times.append(elapsed)
                counts.append(len(result.rows))
        times.sort()
        p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
        goal = ("yes" if p95 < GOAL_MS else "NO") if per_key else "-"
        rows.append(
            (
                query.name,
                query.subject,
                n,
                round(statistics.median(times), 1),
                round(p95, 1),
                round(times[-1], 1),
                round(statistics.mean(counts), 1),
                goal,
            )
        )
        report.log(f"{query.name}: p50 {rows[-1][3]} ms, p95 {rows[-1][4]} ms, rows {rows[-1][6]}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="synthetic events (default 10^6)")
    add_measure_flags(parser)
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="KG_HOME to build the shop in and keep; a rerun with the same --home reuses it",
    )
    parser.add_argument(
        "--no-profiles",
        dest="profiles",
        action="store_false",
        help="skip kg profiles (derived-edge queries then return no rows)",
    )
    add_json_flag(parser)
    args = parser.parse_args()
    only = [n.strip() for n in args.only.split(",") if n.strip()] or None
    report = Report.from_args("queries", args, "events", "runs", "warmup", "seed", "profiles")
    from kg.store import open_store

    if args.home is not None:
        args.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kg-bench-queries-") as tmp, bench_settings(args.home) as settings:
        with open_store(settings, start=False) as store:
            saved = args.home / "bench-shop.json" if args.home is not None else None
            if saved is not None and saved.is_file():
                shop = json.loads(saved.read_text())
                if shop.get("events") != args.events:
                    raise SystemExit(f"{args.home} holds a shop of {shop.get('events')} events, not {args.events}")
                report.note(f"reusing the shop built in {args.home}")
            else:
                shop = build_shop(
                    store, settings, Path(tmp), args.events, profiles=args.profiles, report=report, seed=args.seed
                )
                shop["events"] = args.events
                if saved is not None:
                    saved.write_text(json.dumps(shop))
            report.table(
                "Build (seconds)", ["step", "seconds"], [(step, round(s, 1)) for step, s in shop["timings"].items()]
            )
            stats = shop["stats"]
            report.note(
                "graph: " + ", ".join(f"{k} {v:,}" for k, v in {**stats["nodes"], **stats["relationships"]}.items())
            )
            shop["pairs"] = connected_pairs(store, shop, seed=args.seed)
            rows = measure(store, settings, shop, args, only=only, report=report)
    report.table(
        f"Library query latency, embedded FalkorDB, {args.events:,} synthetic events "
        f"(goal: p95 < {GOAL_MS:.0f} ms for per-user and per-product queries)",
        ["query", "subject", "runs", "p50 ms", "p95 ms", "max ms", "mean rows", "p95 goal"],
        rows,
    )
    report.note(f"peak RSS of the bench process: {peak_rss_mb():.0f} MiB")
    report.emit()


if __name__ == "__main__":
    main()
