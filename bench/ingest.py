"""Ingest throughput: `kg ingest events` against a bare batched UNWIND ... MERGE of the same rows.

Both run in child processes (so peak memory is per method) against the same fresh embedded server,
each on its own graph, with the same native client and batch size.

    python bench/ingest.py --events 1000000          # the README figure
    python bench/ingest.py --events 100000           # quick
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import bench_settings, peak_rss_mb, print_table  # noqa: E402

BARE_QUERY = """
UNWIND $rows AS row
MERGE (u:User {id: row.user})
MERGE (p:Product {id: row.item})
MERGE (u)-[r:EVENT {type: row.type}]->(p)
SET r.count = coalesce(r.count, 0) + 1, r.last_at = row.at
"""


def bare(settings_json: str, events: Path, batch: int) -> dict:
    """Plain csv reading + UNWIND/MERGE batches: no validation, pseudonyms, manifest or idempotency."""
    from kg.settings import Settings
    from kg.store import open_store

    settings = Settings.model_validate_json(settings_json)
    with open_store(settings) as store:
        store.ensure_schema()
        started = time.perf_counter()
        rows = []
        with open(events, newline="") as handle:
            for record in csv.DictReader(handle):
                rows.append({"user": record["user_id"], "item": record["item_id"], "type": record["event_type"],
                             "at": int(record["timestamp"])})
                if len(rows) == batch:
                    store.execute(BARE_QUERY, {"rows": rows})
                    rows = []
        if rows:
            store.execute(BARE_QUERY, {"rows": rows})
        seconds = time.perf_counter() - started
    return {"seconds": seconds}


def child(mode: str, settings_json: str, events: str, batch: int) -> None:
    if mode == "bare":
        result = bare(settings_json, Path(events), batch)
    else:
        from ingest.event_readers import EVENT_READERS
        from ingest.loaders import EventLoader
        from ingest.runner import run_ingest
        from kg.privacy import Pseudonymiser
        from kg.settings import Settings
        from kg.store import open_store

        settings = Settings.model_validate_json(settings_json)
        with open_store(settings) as store:
            started = time.perf_counter()
            summary = run_ingest(store, settings, Path(events), kind="events", fmt="csv",
                                 reader=EVENT_READERS["csv"], loader=EventLoader(Pseudonymiser.from_settings(settings)))
            result = {"seconds": time.perf_counter() - started, "rows_ok": summary.rows_ok}
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.child[2], args.batch)
        return
    from ingest.synthetic import generate_shop
    from kg.server import EmbeddedServer

    with bench_settings(batch_size=args.batch) as settings:
        started = time.perf_counter()
        files = generate_shop(settings.home / "shop", users=args.users, products=args.products, events=args.events)
        print(f"generated {args.events:,} events in {time.perf_counter() - started:.1f} s "
              f"({files.events.stat().st_size / 2**20:.0f} MiB)", file=sys.stderr)
        results = {}
        for mode in ("bare", "kg"):
            mode_settings = settings.model_copy(update={"graph": f"bench_{mode}"})
            out = subprocess.run([sys.executable, __file__, "--batch", str(args.batch), "--child", mode,
                                  mode_settings.model_dump_json(), str(files.events)],
                                 check=True, capture_output=True, text=True, env={**os.environ})
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{mode}: {results[mode]}", file=sys.stderr)
        server_mb = EmbeddedServer(settings).status().get("used_memory_mb")
    base = args.events / results["bare"]["seconds"]
    rows = []
    for mode, label in (("bare", "bare UNWIND ... MERGE (baseline)"), ("kg", "kg ingest events (idempotent)")):
        rate = args.events / results[mode]["seconds"]
        rows.append((label, args.events, round(results[mode]["seconds"], 1), round(rate), f"{rate / base:.2f}",
                     round(results[mode]["peak_rss_mb"], 1)))
    print_table(f"Ingest of {args.events:,} synthetic events, batch {args.batch} (FalkorDB server memory after "
                f"both graphs: {server_mb} MiB)",
                ["method", "events", "seconds", "events/s", "ratio", "client peak RSS MiB"], rows)


if __name__ == "__main__":
    main()
