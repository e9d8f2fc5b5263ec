"""Ingest throughput: `kg ingest events` (ledger + graph view) against a bare batched UNWIND ... MERGE.

Three measurements, each method in its own child process (so peak memory is its own) against its
own fresh embedded server, same native client and batch size:

1. scaling: for each size in --scale, N synthetic events (N/20 users, N/50 products) through the
   bare ``UNWIND $rows MERGE ...`` of the raw rows (no validation, pseudonyms, manifest, ledger or
   idempotency) and through kg; seconds, events/s, ratio to the bare run, client and server CPU
   seconds (what the run costs on a machine shared with other work, where wall time is noise),
   client and server peak RSS, disk (ledger + database after compaction).
2. hot pair: --hot events of ONE (user, item, type), then --hot more of the same pair; the second
   half must cost about what the first did (the ledger's per-event cost ignores a pair's history).

    python bench/ingest.py --scale 100000,1000000          # the README tables
    python bench/ingest.py --scale 100000 --hot 20000      # quick
    python bench/ingest.py --scale 100000 --json           # one JSON object on stdout
    python bench/ingest.py --scale 1000000 --repeat 3      # alternating runs, medians: steadier ratio
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    Report,
    add_json_flag,
    bare_query,
    bench_settings,
    dir_bytes,
    embedded_server_usage,
    peak_rss_mb,
    send_bare_events,
)

BARE_QUERY = bare_query()


def bare(settings_json: str, events: Path, batch: int) -> dict:
    """Plain csv reading + UNWIND/MERGE batches: no validation, pseudonyms, manifest or idempotency."""
    from kg.foundation.settings import Settings
    from kg.store import open_store

    settings = Settings.model_validate_json(settings_json)
    with open_store(settings, start=False) as store:
        store.ensure_schema()
        started, cpu = time.perf_counter(), time.process_time()
        send_bare_events(store, events, batch, BARE_QUERY)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_seconds": time.process_time() - cpu}


def kg_ingest(settings_json: str, files: list[Path]) -> dict:
    """`kg ingest events --format csv` of each file in turn (the library call the CLI makes); seconds per file."""
    from kg.foundation.settings import Settings
    from kg.ingest.api import ingest_file
    from kg.ledger import EventLedger
    from kg.store import open_store

    settings = Settings.model_validate_json(settings_json)
    result: dict = {"seconds_per_file": [], "rows_ok": 0}
    cpu = time.process_time()
    with open_store(settings, start=False) as store:
        for path in files:
            started = time.perf_counter()
            report = ingest_file(store, settings, path, kind="events", fmt="csv")
            result["seconds_per_file"].append(time.perf_counter() - started)
            result["rows_ok"] += report.rows_ok
        result["cpu_seconds"] = time.process_time() - cpu  # every thread of this process: parse, ledger, encode
        edges = store.execute("MATCH (:User)-[r]->(:Product) RETURN count(r) AS edges, sum(r.count) AS events")[0]
    with EventLedger.from_settings(settings, readonly=True) as ledger:
        result.update(
            edges=edges["edges"], edge_events=edges["events"], ledger=ledger.counts(), ledger_bytes=ledger.disk_bytes()
        )
    result["seconds"] = sum(result["seconds_per_file"])
    return result


def child(mode: str, settings_json: str, files: str, batch: int) -> None:
    paths = [Path(p) for p in files.split(os.pathsep)]
    result = bare(settings_json, paths[0], batch) if mode == "bare" else kg_ingest(settings_json, paths)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def run_method(mode: str, files: list[Path], batch: int, report: Report) -> dict:
    """One method on a fresh server in a child process; adds server peak RSS and disk."""
    with bench_settings(batch_size=batch) as settings:
        settings = settings.model_copy(update={"graph": f"bench_{mode}"})
        payload = json.dumps({**json.loads(settings.model_dump_json()), "pseudonym_key": "bench-key"})
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--batch",
                str(batch),
                "--child",
                mode,
                payload,
                os.pathsep.join(map(str, files)),
            ],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{mode} failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["server_peak_rss_mb"], result["server_cpu_seconds"] = embedded_server_usage(settings)
        result["db_bytes"] = dir_bytes(settings.db_dir)
        result["disk_mb"] = round((result["db_bytes"] + result.get("ledger_bytes", 0)) / 2**20, 1)
    report.log(f"{mode} {[f.name for f in files]}: {result}")
    return result


def _median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (its other figures come with it); all walls kept."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    return {**ordered[(len(ordered) - 1) // 2], "all_seconds": [round(r["seconds"], 2) for r in runs]}


def scaling(sizes: list[int], batch: int, work: Path, report: Report, repeat: int = 1) -> None:
    """Bare and kg on the same file, alternating ``repeat`` times (a shared machine's drift hits both
    alike); each method's median run goes in the table and the ratio is of the medians."""
    from kg.ingest.synthetic import generate_shop

    rows = []
    raw = []
    for n in sizes:
        started = time.perf_counter()
        shop = generate_shop(work / f"shop_{n}", users=max(n // 20, 10), products=max(n // 50, 10), events=n)
        report.log(
            f"generated {n:,} events in {time.perf_counter() - started:.1f} s "
            f"({shop.events.stat().st_size / 2**20:.0f} MiB)"
        )
        runs: dict[str, list[dict]] = {"bare": [], "kg": []}
        for _ in range(repeat):
            for mode in ("bare", "kg"):
                runs[mode].append(run_method(mode, [shop.events], batch, report))
        results = {mode: _median_run(found) for mode, found in runs.items()}
        base = n / results["bare"]["seconds"]
        for mode, label in (("bare", "bare UNWIND ... MERGE"), ("kg", "kg ingest events (ledger + view)")):
            r = results[mode]
            rate = n / r["seconds"]
            server_cpu = r.get("server_cpu_seconds")
            rows.append(
                (
                    label,
                    n,
                    round(r["seconds"], 1),
                    round(rate),
                    round(rate / base, 2),
                    round(r["cpu_seconds"], 1),
                    None if server_cpu is None else round(server_cpu, 1),
                    round(r["peak_rss_mb"], 1),
                    r["server_peak_rss_mb"],
                    r["disk_mb"],
                )
            )
        raw.append(
            {
                "events": n,
                **results,
                "ratios": [
                    round(b["seconds"] / k["seconds"], 2) for b, k in zip(runs["bare"], runs["kg"], strict=True)
                ],
            }
        )
        shop.events.unlink()
    title = f"Ingest scaling, synthetic events (N/20 users, N/50 products), batch {batch}, fresh server each" + (
        f", median of {repeat} alternating runs" if repeat > 1 else ""
    )
    report.table(
        title,
        [
            "method",
            "events",
            "seconds",
            "events/s",
            "ratio",
            "client CPU s",
            "server CPU s",
            "client peak RSS MiB",
            "server peak RSS MiB",
            "disk MiB",
        ],
        rows,
        raw=raw,
    )


def _hot_file(path: Path, n: int, start_ms: int) -> Path:
    with open(path, "w", newline="") as handle:
        handle.write("user_id,item_id,event_type,timestamp\n")
        handle.writelines(f"U0000001,P0000001,view,{start_ms + i * 1000}\n" for i in range(n))
    return path


def hot_pair(n: int, batch: int, work: Path, report: Report) -> None:
    start = 1_700_000_000_000
    first = _hot_file(work / "hot_first.csv", n, start)
    second = _hot_file(work / "hot_second.csv", n, start + n * 1000)
    r = run_method("kg", [first, second], batch, report)
    s1, s2 = r["seconds_per_file"]
    ok = r["edges"] == 1 and r["edge_events"] == 2 * n == r["ledger"]["events"]
    report.table(
        f"Hot pair: {n:,} events of one (user, item, view), then {n:,} more (kg, batch {batch})",
        ["half", "events", "seconds", "µs/event", "edge count after"],
        [
            ("first", n, round(s1, 2), round(s1 / n * 1e6, 1), n),
            ("second", n, round(s2, 2), round(s2 / n * 1e6, 1), r["edge_events"]),
        ],
        second_over_first=round(s2 / s1, 2),
        edge_ok=ok,
        raw=r,
    )
    if not ok:
        raise SystemExit(f"hot pair: expected one edge counting {2 * n} events, got {r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="1000000", help="comma-separated event counts, e.g. 100000,1000000,10000000")
    parser.add_argument("--events", type=int, default=None, help="one size (same as --scale N)")
    parser.add_argument("--hot", type=int, default=100_000, help="hot-pair events per half (0: skip)")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=1, help="alternating bare/kg runs per size; medians reported")
    parser.add_argument("--work", type=Path, default=None, help="folder for generated files (default: a temp dir)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    add_json_flag(parser)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.child[2], args.batch)
        return
    sizes = [args.events] if args.events else [int(s) for s in args.scale.split(",") if s.strip()]
    report = Report(
        "ingest",
        as_json=args.json,
        params={"scale": sizes, "hot": args.hot, "batch": args.batch, "repeat": args.repeat},
    )
    with tempfile.TemporaryDirectory(prefix="kg-bench-files-", dir=args.work) as tmp:
        work = Path(tmp)
        if args.hot:
            hot_pair(args.hot, args.batch, work, report)
        if sizes:
            scaling(sizes, args.batch, work, report, max(args.repeat, 1))
    report.emit()


if __name__ == "__main__":
    main()
