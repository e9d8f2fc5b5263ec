"""``kg profiles``, ``kg eval recommend`` and ``kg update`` on synthetic shops, through the library calls
the commands make, on a private embedded server.

Per size: seconds per stage of ``kg profiles`` (load, interests, embeddings, segments, recommend,
write), rows written per second, peak memory of the client and the server, disk; ``kg eval recommend``
(every model, seconds each); then ``kg update`` after 1, 100 and 10,000 new events against the full
``kg profiles`` on the same graph.

Usage:
    python bench/profiles.py --scale 100000,1000000
    python bench/profiles.py --scale 100000 --no-eval --updates 1,100,10000 --json
    python bench/profiles.py --scale 1000000 --no-eval --home /tmp/kg-bench-1m   # build once, then re-use

``--home DIR`` keeps each size's KG_HOME in ``DIR/<events>``: the first run builds it (ingest and
``kg profiles``), later runs re-use the graph and the recorded ``kg profiles`` timings and only run
``kg update`` (new events are timed after those of earlier runs, so each run adds new events).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kg.foundation.settings import Settings
    from kg.store import GraphStore

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYSTOW_HOME", str(Path(tempfile.gettempdir()) / "kg-pystow"))
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    Report,
    add_json_flag,
    bench_settings,
    dir_bytes,
    embedded_server_usage,
    peak_rss_mb,
)

DAY_MS = 86_400_000


def _shape(events: int) -> tuple[int, int]:
    """Users and products of a synthetic shop of ``events`` events (about 20 events per user)."""
    users = max(200, events // 20)
    products = max(100, min(20_000, events // 50))
    return users, products


def _new_events(path: Path, n: int, users: int, products: int, start_ms: int, seed: int) -> Path:
    import numpy as np

    rng = np.random.default_rng(seed)
    kinds = rng.choice(["view", "cart", "purchase"], size=n, p=[0.7, 0.2, 0.1])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "event_type", "timestamp", "rating"])
        for i in range(n):
            writer.writerow(
                (
                    f"U{int(rng.integers(users)):07d}",
                    f"P{int(rng.integers(products)):07d}",
                    kinds[i],
                    start_ms + i * 1000,
                    "",
                )
            )
    return path


#: the "kg profiles output" table: peak MiB is this process's (the client's), server MiB the embedded
#: server's; disk is everything under KG_HOME (graph, ledger, run folders) after the run
OUTPUT_COLUMNS = (
    "users",
    "interests",
    "recommendations",
    "segments",
    "coverage",
    "rows written/s",
    "peak MiB",
    "server peak MiB",
    "disk MiB",
)


def _profiles_table(report: Report, events: int, users: int, products: int, built: dict[str, Any]) -> None:
    stages, wall, out = built["stages"], built["wall"], built["output"]
    report.table(
        f"kg profiles, {events:,} events ({users:,} users, {products:,} products)",
        ["stage", "seconds"],
        [*[(k, v) for k, v in stages.items()], ("total", round(wall, 2))],
    )
    report.table(
        f"kg profiles output, {events:,} events",
        [*OUTPUT_COLUMNS],
        [(*out, *[None] * (len(OUTPUT_COLUMNS) - len(out)))],  # records of an older bench lack the last
    )
    if built.get("peaks"):  # records of an older bench have none
        report.table(
            f"kg profiles memory, {events:,} events: the client's peak by the end of each step",
            ["step", "peak MiB"],
            built["peaks"],
        )


def _build(
    store: GraphStore, settings: Settings, work: Path, events: int, users: int, products: int, report: Report
) -> dict[str, Any]:
    """Generate and ingest a shop, run ``kg profiles``; its timings and output row."""
    from kg.ingest.api import ingest_file
    from kg.ingest.synthetic import generate_shop
    from kg.profiles import compute_profiles

    files = generate_shop(work / f"shop-{events}", users=users, products=products, events=events, seed=11)
    t0 = time.perf_counter()
    for kind, path in (("products", files.products), ("events", files.events)):
        ingest_file(store, settings, path, kind=kind, fmt="csv")
    report.log(f"{events:,} events ingested in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    marks: list[tuple[str, float]] = []  # (the step begun, the process's peak memory so far)
    profiled = compute_profiles(
        store, settings, train=False, seed=0, progress=lambda step: marks.append((step, round(peak_rss_mb())))
    )
    wall = time.perf_counter() - t0
    # the peak reached within each step: the peak when the next began (the last: at the end)
    ends = [after for _, after in marks[1:]] + [round(peak_rss_mb())]
    peaks = [(step, after) for (step, _), after in zip(marks, ends, strict=True)]
    written = profiled.interests + profiled.recommendations + profiled.users
    stages = profiled.seconds
    output = (
        profiled.users,
        profiled.interests,
        profiled.recommendations,
        len(profiled.segments),
        f"{profiled.catalogue_coverage:.1%}",
        round(written / max(stages.get("write", 0.0), 1e-9)),
        round(peak_rss_mb()),
        embedded_server_usage(settings)[0],
        round(dir_bytes(settings.home) / 2**20, 1),
    )
    return {
        "stages": stages,
        "wall": wall,
        "output": output,
        "peaks": peaks,
        "next_start": 1_700_000_000_000 + 200 * DAY_MS,
    }


def run_size(
    events: int, report: Report, *, evaluate: bool, updates: list[int], work: Path, home: Path | None = None
) -> None:
    from kg.ingest.api import ingest_file
    from kg.profiles import evaluate_recommendations, update_profiles
    from kg.store import open_store

    users, products = _shape(events)
    home = home / str(events) if home else None
    record = home / "bench-profiles.json" if home else None
    if home:
        home.mkdir(parents=True, exist_ok=True)
    with bench_settings(home) as settings, open_store(settings) as store:
        if record and record.exists():
            built = json.loads(record.read_text())
            report.log(f"re-using the {events:,}-event graph in {home}")
        else:
            built = _build(store, settings, work, events, users, products, report)
            if record:
                record.write_text(json.dumps(built))
        wall = built["wall"]
        _profiles_table(report, events, users, products, built)
        if evaluate:
            t0 = time.perf_counter()
            result = evaluate_recommendations(store, settings, ks=(20,), seed=0)
            report.table(
                f"kg eval recommend, {events:,} events ({result.users_evaluated:,} users evaluated, "
                f"{result.users_skipped:,} skipped)",
                ["model", "recall@20", "ndcg@20", "coverage@20", "recall@20 cold", "seconds"],
                [
                    (
                        r["model"],
                        *(
                            f"{float(r.get(key) or 0):.4f}"
                            for key in ("recall@20", "ndcg@20", "coverage@20", "recall@20_cold")
                        ),
                        round(float(r.get("seconds", 0)), 1),
                    )
                    for r in result.rows
                ],
            )
            report.log(f"evaluation in {time.perf_counter() - t0:.1f} s")
        rows = []
        start = built["next_start"]
        for n in updates:
            path = _new_events(work / f"new-{events}-{n}.csv", n, users, products, start, seed=n)
            start += (n + 1) * 1000
            ingest_file(store, settings, path, kind="events", fmt="csv")
            t0 = time.perf_counter()
            updated = update_profiles(store, settings)
            rows.append((n, updated.users_updated, round(time.perf_counter() - t0, 2), round(wall, 2)))
            report.log(f"kg update after {n:,} new events: {updated.seconds}")
        if record and updates:
            record.write_text(json.dumps({**built, "next_start": start}))
        if rows:
            report.table(
                f"kg update after new events, {events:,}-event graph",
                ["new events", "users updated", "kg update s", "full kg profiles s"],
                rows,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="100000", help="comma-separated event counts, e.g. 100000,1000000")
    parser.add_argument("--no-eval", action="store_true", help="skip kg eval recommend")
    parser.add_argument("--updates", default="1,100,10000", help="new-event counts for kg update ('' to skip)")
    parser.add_argument("--home", type=Path, help="keep each size's KG_HOME in HOME/<events> and re-use it")
    add_json_flag(parser)
    args = parser.parse_args()
    sizes = [int(s) for s in args.scale.split(",") if s]
    updates = [int(s) for s in args.updates.split(",") if s]
    report = Report("profiles", as_json=args.json, params={"scale": sizes, "updates": updates})
    with tempfile.TemporaryDirectory(prefix="kg-bench-profiles-") as tmp:
        for events in sizes:
            run_size(events, report, evaluate=not args.no_eval, updates=updates, work=Path(tmp), home=args.home)
    report.emit()


if __name__ == "__main__":
    main()
