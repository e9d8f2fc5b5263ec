"""``kg profiles --engine spark`` against the local engine: the stages Spark computes (the decayed interests and
the co-purchase counts), on synthetic shops ingested into a private embedded server.

Per size: the local engine's seconds per stage (``compute_interests``, ``together_counts`` on the bought-or-rated
matrix) and the Spark stages as ``kg profiles --engine spark`` runs them (:class:`kg.profiles.spark.SparkStages`:
lake sync of the Parquet mirror, session start, interests, co-purchase counts), the client's peak memory during
each engine's run (this process: the peak is reset before each, where Linux allows it) and the Spark driver JVM's,
and whether the results are equal (the same interests, scores within 1e-9, and the same counts). Each size starts
its own JVM, as a ``kg profiles`` run does (its first sync writes the mirror whole).

Usage:
    python bench/spark.py --scale 100000,1000000
    python bench/spark.py --scale 100000 --master 'local[2]' --json
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scipy import sparse

    from kg.profiles.interests import InterestTable

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYSTOW_HOME", str(Path(tempfile.gettempdir()) / "kg-pystow"))
sys.path.insert(0, str(ROOT))

from bench._common import Report, add_json_flag, bench_settings, peak_rss_mb, print_table, process_usage  # noqa: E402

#: interests kept per user and half-life, as ``kg profiles``' defaults
TOP = 20
HALF_LIFE_DAYS = 30.0

COLUMNS = (
    "engine",
    "lake sync s",
    "session start s",
    "interests s",
    "co-purchase counts s",
    "total s",
    "client peak MiB",
    "JVM peak MiB",
    "equal to local",
)


def _print(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """:func:`~bench._common.print_table` with seconds to two decimals (the local engine's are hundredths)."""
    print_table(title, columns, [[f"{v:.2f}" if isinstance(v, float) else v for v in row] for row in rows])


def _shape(events: int) -> tuple[int, int]:
    """Users and products of a synthetic shop of ``events`` events (about 20 events per user), as
    bench/profiles.py makes them."""
    return max(200, events // 20), max(100, min(20_000, events // 50))


def _reset_peak() -> bool:
    """Reset this process's peak resident memory to its current size (Linux: ``/proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _same_interests(a: InterestTable, b: InterestTable) -> bool:
    """The same users, keys and rows (user, label, key by rank), scores within 1e-9 (relative)."""
    import numpy as np

    return (
        a.users == b.users
        and a.keys == b.keys
        and a.as_of_ms == b.as_of_ms
        and a.user.tolist() == b.user.tolist()
        and a.key.tolist() == b.key.tolist()
        and bool(np.allclose(a.score, b.score, rtol=1e-9, atol=0))
    )


def _same_counts(a: sparse.csr_matrix, b: sparse.csr_matrix) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and (a != b).nnz == 0


def _stop_jvm() -> float | None:
    """Stop the driver JVM that pyspark keeps after a session stops (so the next size starts a fresh one, as a
    ``kg profiles`` run does); its peak resident memory, MiB. Private pyspark attributes: a bench's business."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return None
    proc = gateway.proc
    peak, _ = process_usage(proc.pid)
    gateway.shutdown()
    proc.stdin.close()  # the JVM exits when its stdin closes (PythonGatewayServer)
    proc.wait(timeout=60)
    SparkContext._gateway = None
    SparkContext._jvm = None
    return peak


def run_size(events: int, report: Report, *, master: str, work: Path) -> None:
    from kg.ingest.api import ingest_file
    from kg.ingest.synthetic import generate_shop
    from kg.profiles.interests import compute_interests
    from kg.profiles.load import load_shop
    from kg.profiles.reasons import together_counts
    from kg.profiles.spark import SparkStages
    from kg.store import open_store

    users, products = _shape(events)
    with bench_settings() as settings, open_store(settings) as store:
        files = generate_shop(work / f"shop-{events}", users=users, products=products, events=events, seed=11)
        t0 = time.perf_counter()
        for kind, path in (("products", files.products), ("events", files.events)):
            ingest_file(store, settings, path, kind=kind, fmt="csv")
        report.log(f"{events:,} events ingested in {time.perf_counter() - t0:.1f} s")
        shop = load_shop(store, settings)
        loaded = round(peak_rss_mb())

        report.log("local engine: interests, co-purchase counts")
        reset = _reset_peak()
        t0 = time.perf_counter()
        local = compute_interests(shop, half_life_days=HALF_LIFE_DAYS, top=TOP)
        t1 = time.perf_counter()
        local_counts = together_counts(shop.interactions.matrix())
        t2 = time.perf_counter()
        local_peak = round(peak_rss_mb())
        local_row = ("local", "-", "-", round(t1 - t0, 2), round(t2 - t1, 2), round(t2 - t0, 2), local_peak, "-", "-")

        report.log(f"Spark on {master}: lake sync, session start, interests, co-purchase counts")
        _reset_peak()
        stages = SparkStages(settings, master)
        t0 = time.perf_counter()
        on_spark = stages(shop, as_of_ms=None, half_life_days=HALF_LIFE_DAYS, top=TOP)
        counts = stages.together(shop.interactions.matrix())
        wall = time.perf_counter() - t0
        spark_peak = round(peak_rss_mb())
        jvm_peak = _stop_jvm()
        seconds = stages.seconds
        same_interests, same_counts = _same_interests(on_spark, local), _same_counts(counts, local_counts)
        equal = "yes" if same_interests and same_counts else f"interests {same_interests}, counts {same_counts}"
        spark_row = (
            f"spark {stages.ran_on}",
            *(round(seconds[step], 2) for step in ("lake sync", "spark start", "interests", "co-purchase counts")),
            round(wall, 2),
            spark_peak,
            round(jvm_peak) if jvm_peak is not None else "-",
            equal,
        )
        report.table(
            f"interests and co-purchase counts, {events:,} events ({shop.interactions.n_users:,} users, "
            f"{shop.interactions.n_items:,} products; {len(local):,} interests, {local_counts.nnz:,} pairs)",
            [*COLUMNS],
            [local_row, spark_row],
            loaded_peak_mib=loaded,
            peak_reset=reset,
        )
        if not reset:
            report.note("the client's peak could not be reset: each engine's peak includes what came before")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="100000", help="comma-separated event counts, e.g. 100000,1000000")
    parser.add_argument("--master", default="local[2]", help="the Spark master (default local[2])")
    add_json_flag(parser)
    args = parser.parse_args()
    sizes = [int(s) for s in args.scale.split(",") if s]
    report = Report("spark", as_json=args.json, params={"scale": sizes, "master": args.master}, printer=_print)
    with tempfile.TemporaryDirectory(prefix="kg-bench-spark-") as tmp:
        for events in sizes:
            run_size(events, report, master=args.master, work=Path(tmp))
    report.emit()


if __name__ == "__main__":
    main()
