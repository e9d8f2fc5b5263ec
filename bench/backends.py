"""FalkorDB against Neo4j: the same work on both graph backends in one run, one table.

Each backend gets its own fresh server, one after the other: embedded FalkorDB (``bench_settings``) and a
local Neo4j 5.26 Community (:class:`kg.store.neo4j_server.LocalNeo4j` in a temporary KG_HOME on free ports, heap
1g, page cache 512m, kg's own ``neo4j.conf`` otherwise); each is stopped at the end. On each, in order:

1. bare ingest: the N synthetic events of the shop below (N/20 users, N/50 products), read from the csv in
   batches of --batch and sent as a plain ``UNWIND $rows AS r MERGE (u:BareUser ...) MERGE (p:BareProduct ...)
   MERGE (u)-[e:BARE_EVENT ...]->(p) SET ...`` (portable Cypher: the same text on both backends), with the
   key schema kg gives its own labels: the only dialect bits of this bench are those schema statements
   (Neo4j: ``CREATE CONSTRAINT ... IF NOT EXISTS ... IS UNIQUE``; FalkorDB: ``CREATE INDEX FOR ... ON`` plus
   ``GRAPH.CONSTRAINT CREATE ... UNIQUE``, as ``FalkorDBStore.ensure_schema`` does). Checked (sum of counts
   = N), then deleted in batches before the shop is built;
2. the shop through the real pipeline (bench/queries.py's ``build_shop``): products, the same N events and
   N/100 reviews (``kg.ingest.reviews.synthetic.generate_reviews``) with ``kg.ingest.api.ingest_file``, random
   64-dim Product vectors with their index, then ``kg profiles`` (``compute_profiles(train=False)``);
3. write-back: ``set_vectors`` of random 64-dim float32 vectors on every Product and User (4 properties a
   node: embedding, embedding_model, embedding_run, embedding_dim), vector indexes dropped first and built
   after (as ``kg.embeddings.writeback.write_back`` does; the build is its own row);
4. vector k-NN: --knn random queries of ``store.vector_search("Product", v, 10)`` (after 10 warm-up ones);
5. every analyst library query: first --check draws of its parameters whose results are kept, then
   bench/queries.py's ``measure`` (p50/p95 over --runs draws; the same draws on both backends).

The table gives both values, which backend is faster and by how much. Same data and same parameters
should give the same answers: ``note`` says in how many checked draws a query's results (rows as a
multiset, floats within 0.2 %, wall-clock columns left out) were the same on both, and flags mean row
counts that differ; the notes under the table show the first differing draw, and whether both graphs hold
the same node and relationship counts. Errors on one backend are reported in the table and its notes, the
other rows still run (similar_products may differ now and then: both vector indexes are approximate,
HNSW). The notes also list the distinct notifications Neo4j sent with its results (deprecations, unknown
names; the driver would log each as a WARNING) and the WARN/ERROR lines of its log. The process is warmed
up first (imports; spaCy pipelines, lemma tables and the sentence encoder on 500 of the reviews) and the
encoder's text cache emptied before each backend, so that running first or second costs neither anything.
Throughputs are wall-clock on whatever machine this runs on: compare the two columns of one run, not runs
on different machines; the JSON (--json) also keeps client and server CPU seconds per phase.
Needs Java 17+ and Maven for Neo4j (jars from Maven Central, cached in ~/.m2); without them: exit 2.

    python bench/backends.py                                 # 10^5 events (~10 min on 2 cores)
    python bench/backends.py --events 1000000                # the README figure
    python bench/backends.py --events 10000 --runs 10 --json # quick; one JSON object on stdout
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    Report,
    add_json_flag,
    bare_query,
    bench_settings,
    peak_rss_mb,
    process_usage,
    send_bare_events,
)
from bench.queries import (  # noqa: E402
    DAYS,
    START_MS,
    add_measure_flags,
    build_shop,
    connected_pairs,
    measure,
    param_drawers,
)

BACKENDS = ("falkordb", "neo4j")
TITLES = {"falkordb": "FalkorDB", "neo4j": "Neo4j"}
NEO4J_PASSWORD = "bench-neo4j-password"
DIM = 64
PROPS_PER_NODE = 4  # embedding, embedding_model, embedding_run, embedding_dim

#: the options a run's JSON keeps (its params, with the CPU count and the load at the start)
PARAMS = (
    "events",
    "batch",
    "runs",
    "shop_runs",
    "warmup",
    "knn",
    "seed",
    "profiles",
    "backends",
    "neo4j_heap",
    "neo4j_pagecache",
)

BARE_LABELS = ("BareUser", "BareProduct")
BARE_QUERY = bare_query("BareUser", "BareProduct", "BARE_EVENT")
BARE_COUNT = "MATCH (:BareUser)-[e:BARE_EVENT]->(:BareProduct) RETURN count(e) AS edges, sum(e.count) AS events"
BARE_DELETE = "MATCH (n:{label}) WITH n LIMIT 2000 DETACH DELETE n RETURN count(*) AS deleted"


class Unavailable(Exception):
    """Neo4j cannot run here (no java/mvn, Maven cannot resolve it, the server does not start)."""


# -- one backend's run ------------------------------------------------------------------------------------
class Run:
    """One backend's measurements: values by metric key, errors by metric key, per-phase timings."""

    def __init__(self, backend: str, pid: Callable[[], int | None], report: Report) -> None:
        self.backend, self.pid, self.report = backend, pid, report
        self.values: dict[str, float] = {}
        self.errors: dict[str, str] = {}
        self.phases: dict[str, dict[str, float | None]] = {}
        self.queries: dict[str, dict[str, Any]] = {}
        self.results: dict[str, list[tuple[dict[str, Any], str]]] = {}  # result_check's, not in the JSON
        self.info: dict[str, Any] = {}

    @contextmanager
    def phase(self, name: str, *keys: str) -> Iterator[dict[str, float]]:
        """Time a phase (wall, client CPU, server CPU); an exception is recorded against ``keys``, not raised."""
        _, server_cpu = process_usage(self.pid())
        started, cpu = time.perf_counter(), time.process_time()
        timing: dict[str, float] = {"start": started}
        try:
            yield timing
        except Exception as e:  # noqa: BLE001 - one backend's failure is a result, the bench goes on
            text = " ".join(f"{type(e).__name__}: {e}".split())[:300]
            for key in keys or (name,):
                self.errors[key] = text
            self.report.log(f"[{self.backend}] {name} FAILED: {text}")
        finally:
            timing["seconds"] = time.perf_counter() - started
            _, server_after = process_usage(self.pid())
            self.phases[name] = {
                "wall_s": round(timing["seconds"], 3),
                "client_cpu_s": round(time.process_time() - cpu, 2),
                "server_cpu_s": None
                if server_cpu is None or server_after is None
                else round(server_after - server_cpu, 2),
            }

    def log(self, text: str) -> None:
        self.report.log(f"[{self.backend}] {text}")


def bare_schema(store: Any) -> None:
    """The key schema kg gives its labels (``ensure_schema``), for the bare labels: the dialect bits."""
    for label in BARE_LABELS:
        if store.dialect == "neo4j":
            store.execute(
                f"CREATE CONSTRAINT {label.lower()}_id_unique IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
            )
        else:
            store.execute(f"CREATE INDEX FOR (n:{label}) ON (n.id)")
            store.client.connection.execute_command(
                "GRAPH.CONSTRAINT", "CREATE", store.graph_name, "UNIQUE", "NODE", label, "PROPERTIES", 1, "id"
            )


def bare_ingest(store: Any, events: Path, n: int, batch: int, run: Run) -> None:
    with run.phase("bare schema", "bare_events_per_s"):
        bare_schema(store)
    if "bare_events_per_s" in run.errors:
        return
    with run.phase("bare ingest", "bare_events_per_s") as timing:
        send_bare_events(store, events, batch, BARE_QUERY)
        store.flush()
        seconds = time.perf_counter() - timing["start"]
    if "bare_events_per_s" in run.errors:
        return
    found = store.execute(BARE_COUNT)[0]
    run.values["bare_events_per_s"] = n / seconds
    run.info["bare_edges"], run.info["bare_event_sum"] = found["edges"], int(found["events"] or 0)
    run.log(f"bare UNWIND ... MERGE: {n:,} events in {seconds:.1f} s ({n / seconds:,.0f}/s), {found['edges']:,} edges")
    with run.phase("bare delete", "bare_delete"):
        for label in BARE_LABELS:
            while store.execute(BARE_DELETE.format(label=label))[0]["deleted"]:
                pass


def shop_and_rest(
    store: Any, settings: Any, work: Path, args: argparse.Namespace, run: Run, report: Report, shared: dict[str, Any]
) -> None:
    """Steps 2-5 of the module docstring on one open store."""
    import numpy as np

    from kg.foundation import schema

    n = args.events
    notes_before = len(report.notes)
    shop: dict[str, Any] | None = None
    with run.phase("build shop", "kg_events_per_s", "products_per_s", "reviews_per_s", "profiles_s"):
        shop = build_shop(store, settings, work, n, profiles=args.profiles, report=report, seed=args.seed)
    if shop is None:
        return
    t = shop["timings"]
    run.info["build_timings"] = {k: round(v, 2) for k, v in t.items()}
    run.info["stats"] = shop["stats"]
    view = store.execute(
        "MATCH (:User)-[r]->(:Product) WHERE r.count IS NOT NULL RETURN count(r) AS edges, sum(r.count) AS events"
    )[0]
    run.info["view_edges"], run.info["view_event_sum"] = view["edges"], int(view["events"] or 0)
    stats = shop["stats"]
    run.values["kg_events_per_s"] = n / t["ingest events"]
    run.values["products_per_s"] = stats["nodes"].get("Product", 0) / t["ingest products"]
    run.values["reviews_per_s"] = max(n // 100, 10) / t["ingest reviews"]
    if "bare_events_per_s" in run.values:
        run.values["kg_over_bare"] = run.values["kg_events_per_s"] / run.values["bare_events_per_s"]
    failed = [note for note in report.notes[notes_before:] if "profiles failed" in note]
    if failed:
        run.errors["profiles_s"] = failed[0]
    elif "profiles" in t:
        run.values["profiles_s"] = t["profiles"]

    # 3. write-back
    rng = np.random.default_rng(args.seed)
    # sorted: the same vector for the same node on both backends
    keys = {
        label: sorted(row["key"] for row in store.execute(f"MATCH (n:{label}) RETURN n.{schema.key_of(label)} AS key"))
        for label in ("Product", "User")
    }
    vectors = {label: rng.standard_normal((len(found), DIM)).astype("float32") for label, found in keys.items()}
    props = {"embedding_model": "bench", "embedding_run": "bench-backends", "embedding_dim": DIM}
    total = sum(len(found) for found in keys.values())
    with run.phase("write-back", "writeback_vectors_per_s", "writeback_props_per_s"):
        for label in keys:
            store.drop_vector_index(label)
        clock = time.perf_counter()
        for label, found in keys.items():
            store.set_vectors(
                label, ({"key": key, "vector": vectors[label][i], "props": props} for i, key in enumerate(found))
            )
            store.flush()
        seconds = time.perf_counter() - clock
        run.values["writeback_vectors_per_s"] = total / seconds
        run.values["writeback_props_per_s"] = total * PROPS_PER_NODE / seconds
        run.log(f"write-back: {total:,} vectors in {seconds:.1f} s ({total / seconds:,.0f}/s)")
    with run.phase("vector index build", "index_build_s") as timing:
        for label in keys:
            if not store.build_vector_index(label, DIM, timeout=600):
                raise RuntimeError(f"the vector index on {label} was not ready after 600 s")
        run.values["index_build_s"] = time.perf_counter() - timing["start"]
    got = store.execute("MATCH (p:Product) WHERE p.embedding_run = 'bench-backends' RETURN count(p) AS n")[0]["n"]
    if got != len(keys["Product"]):
        run.errors["writeback_vectors_per_s"] = f"{got} of {len(keys['Product'])} Products carry the new vectors"

    # 4. k-NN
    with run.phase("k-NN", "knn_p50", "knn_p95"):
        qrng = np.random.default_rng(args.seed + 1)
        times, counts = [], []
        for i in range(10 + args.knn):
            v = qrng.standard_normal(DIM).astype("float32").tolist()
            started = time.perf_counter()
            hits = store.vector_search("Product", v, 10)
            elapsed = (time.perf_counter() - started) * 1000
            if i >= 10:
                times.append(elapsed)
                counts.append(len(hits))
        run.values["knn_p50"], run.values["knn_p95"] = _p50(times), _p95(times)
        run.info["knn_mean_hits"] = statistics.mean(counts)
        if min(counts) < min(10, len(keys["Product"])):
            run.errors["knn_p50"] = f"a k-NN query returned {min(counts)} hits, not 10"
        run.log(f"k-NN: p50 {run.values['knn_p50']:.2f} ms, p95 {run.values['knn_p95']:.2f} ms")

    # 5. analyst queries
    # the same parameter draws on both backends: aspects in one order, and the copurchase_paths pairs the first
    # backend found (connected_pairs picks from unordered rows) reused by the second
    shop["aspects"] = sorted(shop["aspects"])
    with run.phase("pairs", "pairs"):
        if "pairs" not in shared:
            shared["pairs"] = connected_pairs(store, shop, seed=args.seed)
        shop["pairs"] = shared["pairs"]
    names = [name for name in param_drawers(shop) if not args.only or name in args.only]
    with run.phase("result check", "result check"):
        run.results = result_check(store, settings, shop, names, args)
    for name in names:
        with run.phase(f"query {name}", f"q:{name}:p50", f"q:{name}:p95"):
            rows = measure(store, settings, shop, args, only=[name], report=report)
            for row in rows:
                _, subject, runs, p50, p95, worst, mean_rows, _ = row
                run.values[f"q:{name}:p50"], run.values[f"q:{name}:p95"] = p50, p95
                run.queries[name] = {
                    "subject": subject,
                    "runs": runs,
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "max_ms": worst,
                    "mean_rows": mean_rows,
                }


#: result columns that hold when something ran (wall clock), not what the data says
VOLATILE = frozenset({"updated_at", "started_at", "finished_at", "seconds"})


def _canon(value: Any) -> Any:
    """A result value comparable across backends: integral floats as ints, volatile columns dropped."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items() if k not in VOLATILE}
    return value


def _shape(value: Any) -> Any:
    """``value`` with its floats blanked: the sort key that pairs rows whose floats differ a little."""
    if isinstance(value, float):
        return None
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return value


def _close(a: Any, b: Any) -> bool:
    """Equal, floats within 0.2 % or 0.0015 (sums in another order, then rounded to 3 decimals by a query)."""
    if (
        isinstance(a, (int, float))
        and isinstance(b, (int, float))
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return abs(a - b) <= max(1.5e-3, 2e-3 * max(abs(a), abs(b)))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


def same_results(a: str, b: str) -> bool:
    """Whether two of :func:`result_check`'s results agree (rows as a multiset, floats nearly equal)."""
    import json

    if a == b:
        return True
    if a.startswith("error") or b.startswith("error"):
        return False
    ra, rb = json.loads(a), json.loads(b)
    if len(ra) != len(rb):
        return False
    order = lambda row: json.dumps(_shape(row), sort_keys=True, default=str)  # noqa: E731
    return _close(sorted(ra, key=order), sorted(rb, key=order))


def result_check(
    store: Any, settings: Any, shop: dict[str, Any], names: list[str], args: argparse.Namespace
) -> dict[str, list[tuple[dict[str, Any], str]]]:
    """Per query: (parameters, canonical rows as JSON, rows sorted) of a few draws of its parameters, the same
    draws on every backend (--check draws; shop-wide queries at most 3): compared across backends afterwards."""
    import json

    from kg.analyst.library import get_query, run_library_query

    drawers = param_drawers(shop)
    found: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for name in names:
        rng = random.Random(f"check:{args.seed}:{name}")
        draws = args.check if get_query(name).subject in ("user", "product") else min(args.check, 3)
        found[name] = []
        for _ in range(draws):
            params = drawers[name](rng)
            try:
                rows = [_canon(r) for r in run_library_query(store, name, params, settings=settings).rows]
                text = json.dumps(
                    sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str)), sort_keys=True, default=str
                )
            except Exception as e:  # noqa: BLE001 - an error is a result to compare too
                text = f"error: {type(e).__name__}: {' '.join(str(e).split())[:200]}"
            found[name].append((params, text))
    return found


def _p50(times: list[float]) -> float:
    return statistics.median(times)


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def run_backend(
    backend: str,
    store: Any,
    settings: Any,
    pid: Callable[[], int | None],
    work: Path,
    events_file: Path,
    args: argparse.Namespace,
    report: Report,
    shared: dict[str, Any],
) -> Run:
    run = Run(backend, pid, report)
    started = time.perf_counter()
    run.info["version"] = store.version()
    run.log(f"{run.info['version']}, server pid {pid()}")
    store.ensure_schema()
    bare_ingest(store, events_file, args.events, args.batch, run)
    shop_and_rest(store, settings, work, args, run, report, shared)
    peak, cpu = process_usage(pid())
    if peak is not None:
        run.values["server_peak_rss"] = peak
    if cpu is not None:
        run.values["server_cpu_s"] = cpu
    run.values["wall_s"] = time.perf_counter() - started
    run.log(f"done in {run.values['wall_s']:.0f} s; server peak RSS {peak} MiB, CPU {cpu} s")
    return run


def falkordb_run(
    work: Path, events_file: Path, args: argparse.Namespace, report: Report, shared: dict[str, Any]
) -> Run:
    from kg.store import open_store
    from kg.store.falkordb_server import EmbeddedServer

    report.log("[falkordb] starting a fresh embedded server")
    clock = time.perf_counter()
    with bench_settings(batch_size=args.batch) as settings:
        started = time.perf_counter() - clock
        server = EmbeddedServer(settings)
        pid = server.status().get("pid")
        with open_store(settings, start=False) as store:
            run = run_backend("falkordb", store, settings, lambda: pid, work, events_file, args, report, shared)
            run.values["server_start_s"] = started
            return run


def neo4j_settings(home: Path, args: argparse.Namespace) -> Any:
    from kg.foundation.settings import Settings
    from kg.store.falkordb_server import free_port

    return Settings(
        home=home,
        neo4j_uri=None,
        neo4j_password=NEO4J_PASSWORD,
        neo4j_bolt_port=free_port(),
        neo4j_http_port=free_port(),
        explore_port=free_port(),
        neo4j_heap=args.neo4j_heap,
        neo4j_pagecache=args.neo4j_pagecache,
        pseudonym_key="bench-key",
        batch_size=args.batch,
    )


def neo4j_preflight(home: Path, args: argparse.Namespace, report: Report) -> None:
    """Java and Maven present, Neo4j's class path resolved (cached in ``home``): raises :class:`Unavailable`."""
    from kg.foundation.errors import KGError
    from kg.store.neo4j_server import LocalNeo4j

    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise Unavailable(
                f"`{tool}` is not installed: the local Neo4j needs Java 17+ and Maven "
                "(hint: apt-get install openjdk-17-jre-headless maven; or --backends falkordb)"
            )
    started = time.perf_counter()
    try:
        LocalNeo4j(neo4j_settings(home, args)).classpath()
    except KGError as e:
        raise Unavailable(f"{' '.join(str(e).split())}") from e
    report.log(f"[neo4j] class path resolved in {time.perf_counter() - started:.1f} s")


def neo4j_run(
    home: Path, work: Path, events_file: Path, args: argparse.Namespace, report: Report, shared: dict[str, Any]
) -> Run:
    from kg.foundation.errors import KGError
    from kg.foundation.settings import Settings
    from kg.store import open_store
    from kg.store.neo4j_server import LocalNeo4j

    server = LocalNeo4j(neo4j_settings(home, args))
    report.log(
        f"[neo4j] starting a fresh local Neo4j (heap {args.neo4j_heap}, page cache {args.neo4j_pagecache}) "
        f"at {server.uri}"
    )
    try:
        clock = time.perf_counter()
        try:
            server.start(timeout=180)
            started = time.perf_counter() - clock
        except KGError as e:
            raise Unavailable(f"the local Neo4j did not start: {' '.join(str(e).split())[:400]}") from e
        settings = Settings(
            home=home,
            neo4j_uri=server.uri,
            neo4j_password=NEO4J_PASSWORD,
            pseudonym_key="bench-key",
            batch_size=args.batch,
        )
        with open_store(settings) as store:
            run = run_backend("neo4j", store, settings, server.pid, work, events_file, args, report, shared)
            run.values["server_start_s"] = started
            logs = (server.console, server.home / "logs" / "neo4j.log")
            run.info["log_lines"] = [f"{log.name}: {line}" for log in logs for line in log_problems(log)]
            return run
    finally:
        server.stop()


def warm_up(report: Report, texts: list[str]) -> None:
    """Pay the one-off costs of this process before the first backend (imports, the spaCy pipelines and
    lemma tables of every language in ``texts``, the sentence encoder and torch's kernels for their batch
    shapes), so that they are not charged to whichever backend runs first."""
    import importlib

    started = time.perf_counter()
    for module in (
        "kg.ingest.api",
        "kg.ingest.reviews.loader",
        "kg.analyst.library",
        "kg.profiles.workflow",
        "kg.profiles.charts",
        "kg.profiles.interests",
        "kg.profiles.load",
        "kg.profiles.reasons",
        "kg.profiles.recommenders.blend",
        "kg.profiles.segments",
        "kg.profiles.writeback",
    ):
        try:
            importlib.import_module(module)
        except ImportError as e:
            report.log(f"warm-up: cannot import {module}: {e}")
    from kg.ingest.reviews.pipeline import ReviewAnalyser

    ReviewAnalyser(lang="en").analyse(texts)
    from kg.foundation.text_encoder import MiniLMEncoder

    if MiniLMEncoder.available():  # review sentiment loads it on first use
        MiniLMEncoder.shared().encode(texts)
    report.log(f"warm-up (imports, review pipeline, sentence encoder) in {time.perf_counter() - started:.1f} s")


def forget_caches() -> None:
    """Before each backend: drop what the previous one left in this process's caches (the sentence
    encoder's embeddings of the review texts, which would make the second backend's review ingest cheaper)."""
    from kg.foundation.text_encoder import MiniLMEncoder

    shared = MiniLMEncoder._shared
    if shared is not None and shared._cache is not None:
        shared._cache.clear()


def consistency(runs: dict[str, Run], n: int) -> list[str]:
    """Notes where the two backends hold different graphs after the same work (they should not)."""
    notes = []
    for backend, run in runs.items():
        if run.info.get("bare_event_sum") not in (None, n):
            why = (
                (
                    ": FalkorDB does not apply later rows' SET to a relationship MERGE created earlier in the same "
                    "UNWIND (a pair repeated within one batch keeps count 1); kg's ingest sends each pair's absolute "
                    "totals from its ledger (its view's counts sum to N: checked)"
                )
                if backend == "falkordb"
                else ""
            )
            notes.append(
                f"{TITLES[backend]}: the bare UNWIND ... MERGE left a sum of counts of "
                f"{run.info['bare_event_sum']:,}, not {n:,} (its {run.info['bare_edges']:,} edges are "
                f"right){why}"
            )
        if run.info.get("view_event_sum") not in (None, n):
            notes.append(f"{TITLES[backend]}: kg's graph view counts {run.info['view_event_sum']:,} events, not {n:,}")
    if len(runs) == 2:
        a, b = (runs[x].info for x in BACKENDS)
        for key in ("bare_edges", "view_edges"):
            if a.get(key) is not None and b.get(key) is not None and a[key] != b[key]:
                notes.append(f"{key}: FalkorDB {a[key]:,}, Neo4j {b[key]:,}")
        for kind in ("nodes", "relationships"):
            sa, sb = (a.get("stats") or {}).get(kind), (b.get("stats") or {}).get(kind)
            if sa is None or sb is None:
                continue
            diff = {k: (sa.get(k), sb.get(k)) for k in sorted(set(sa) | set(sb)) if sa.get(k) != sb.get(k)}
            if diff:
                notes.append(
                    f"the graphs differ in {kind} (FalkorDB, Neo4j): "
                    + ", ".join(f"{k} {x}/{y}" for k, (x, y) in diff.items())
                )
            else:
                notes.append(f"same {kind} on both: " + ", ".join(f"{k} {v:,}" for k, v in sa.items()))
    return notes


class Notifications(logging.Handler):
    """Collects the Neo4j driver's notification log records: distinct (status, description) with the
    library queries (``// name:``) they came from and how often."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.seen: dict[tuple[str, str], dict[str, Any]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        import re

        text = record.getMessage()
        status = re.search(r"gql_status='([^']*)'", text)
        description = re.search(r"status_description='([^']*)'", text)
        name = re.search(r"// name: (\w+)", text)
        key = (status.group(1) if status else "?", description.group(1) if description else text[:200])
        entry = self.seen.setdefault(key, {"count": 0, "queries": set()})
        entry["count"] += 1
        entry["queries"].add(name.group(1) if name else "(unnamed query)")

    def summary(self) -> list[str]:
        return [
            f"Neo4j notification {status} x{entry['count']} ({', '.join(sorted(entry['queries']))}): {description}"
            for (status, description), entry in self.seen.items()
        ]


def log_problems(path: Path, limit: int = 5) -> list[str]:
    """The first WARN/ERROR lines of a server log (and how many there were)."""
    try:
        lines = [
            line.strip()
            for line in path.read_text(errors="replace").splitlines()
            if " WARN " in line or " ERROR " in line
        ]
    except OSError:
        return []
    return [line[:300] for line in lines[:limit]] + ([f"... {len(lines) - limit} more"] if len(lines) > limit else [])


# -- the table ----------------------------------------------------------------------------------------------
def metrics(n: int, queries: list[str]) -> list[tuple[str, str, str, str | None]]:
    """(key, label, unit, better: "higher" | "lower" | None) of every row, in order."""
    rows = [
        ("bare_events_per_s", f"ingest {n:,} events: bare UNWIND ... MERGE", "events/s", "higher"),
        ("kg_events_per_s", f"ingest {n:,} events: kg ingest_file (ledger + view)", "events/s", "higher"),
        ("kg_over_bare", "  kg / bare, same backend", "ratio", None),
        ("products_per_s", f"ingest {max(n // 50, 10):,} products: kg", "products/s", "higher"),
        ("reviews_per_s", f"ingest {max(n // 100, 10):,} reviews: kg", "reviews/s", "higher"),
        ("profiles_s", "kg profiles (train=False)", "s", "lower"),
        ("writeback_vectors_per_s", f"write-back set_vectors {DIM}-dim, Product + User", "vectors/s", "higher"),
        ("writeback_props_per_s", f"  same, {PROPS_PER_NODE} properties a node", "properties/s", "higher"),
        ("index_build_s", "build_vector_index Product + User", "s", "lower"),
        ("knn_p50", "vector_search Product k=10: p50", "ms", "lower"),
        ("knn_p95", "vector_search Product k=10: p95", "ms", "lower"),
    ]
    for name in queries:
        rows.append((f"q:{name}:p50", f"query {name}: p50", "ms", "lower"))
        rows.append((f"q:{name}:p95", f"query {name}: p95", "ms", "lower"))
    rows += [
        ("server_start_s", "server start (fresh, empty)", "s", "lower"),
        ("server_peak_rss", "server peak RSS", "MiB", "lower"),
        ("server_cpu_s", "server CPU, whole run", "s", "lower"),
        ("wall_s", "wall time, whole run (server start excluded)", "s", "lower"),
    ]
    return rows


def _round(value: float) -> float:
    size = abs(value)
    return round(value) if size >= 100 else round(value, 1) if size >= 10 else round(value, 2)


def _faster(a: float | None, b: float | None, better: str | None) -> str:
    if better is None or a is None or b is None or a <= 0 or b <= 0:
        return "-"
    ratio = max(a, b) / min(a, b)
    if ratio < 1.05:
        return "same"
    first = (a > b) == (better == "higher")
    return f"{TITLES['falkordb'] if first else TITLES['neo4j']} {ratio:.1f}x"


def table_rows(runs: dict[str, Run], n: int) -> list[tuple[Any, ...]]:
    queries: list[str] = []
    for run in runs.values():
        queries += [q for q in run.queries if q not in queries]
        queries += [
            key.split(":")[1] for key in run.errors if key.startswith("q:") and key.split(":")[1] not in queries
        ]
    rows = []
    for key, label, unit, better in metrics(n, queries):
        cells: list[Any] = []
        raw: list[float | None] = []
        for backend in BACKENDS:
            run = runs.get(backend)
            if run is None:
                cells.append("not run")
                raw.append(None)
            elif key in run.values:
                cells.append(_round(run.values[key]))
                raw.append(run.values[key])
            else:
                cells.append("error" if key in run.errors else "-")
                raw.append(None)
        note = ""
        if key.startswith("q:") and key.endswith(":p50"):
            name = key.split(":")[1]
            means = [runs[b].queries.get(name, {}).get("mean_rows") for b in BACKENDS if b in runs]
            if len(means) == 2 and None not in means and abs(means[0] - means[1]) > 0.005 * max(means + [1]):
                note = f"mean rows differ: {means[0]} vs {means[1]}"
        elif key.startswith("q:") and key.endswith(":p95"):
            differ, total = result_differences(runs, key.split(":")[1])
            if total:
                note = (
                    f"same results in {total - len(differ)}/{total} draws"
                    if differ
                    else f"same results ({total} draws)"
                )
        rows.append((label, unit, *cells, _faster(raw[0], raw[1], better), note))
    return rows


def result_differences(runs: dict[str, Run], name: str) -> tuple[list[tuple[dict[str, Any], str, str]], int]:
    """([(params, FalkorDB rows, Neo4j rows)] of the draws whose results differ, draws compared) of one query."""
    if len(runs) != 2:
        return [], 0
    a, b = (runs[x].results.get(name, []) for x in BACKENDS)
    pairs = list(zip(a, b, strict=False))  # a backend may lack draws (query missing there): compare those both have
    return [(pa, ra, rb) for (pa, ra), (_, rb) in pairs if not same_results(ra, rb)], len(pairs)


def _only(a: str, b: str) -> str:
    """The rows of result ``a`` that ``b`` lacks (exact match), as JSON; an error text as it is."""
    import json

    if a.startswith("error") or b.startswith("error"):
        return a
    rows_b = {json.dumps(r, sort_keys=True) for r in json.loads(b)}
    return json.dumps([r for r in json.loads(a) if json.dumps(r, sort_keys=True) not in rows_b])


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def printer(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, title=title, title_justify="left")
    for row in rows:
        table.add_row(*(_format(v) for v in row))
    Console(width=160).print(table)


# -- main -------------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="synthetic events (default 10^5; README: 10^6)")
    parser.add_argument("--batch", type=int, default=5000, help="rows per write batch (bare and kg)")
    add_measure_flags(parser)
    parser.add_argument("--knn", type=int, default=200, help="measured k-NN queries")
    parser.add_argument(
        "--check",
        type=int,
        default=10,
        help="parameter draws per analyst query whose results are compared across the backends",
    )
    parser.add_argument("--no-profiles", dest="profiles", action="store_false", help="skip kg profiles")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated: falkordb,neo4j")
    parser.add_argument("--neo4j-heap", default="1g")
    parser.add_argument("--neo4j-pagecache", default="512m")
    add_json_flag(parser)
    args = parser.parse_args()
    args.only = [q.strip() for q in args.only.split(",") if q.strip()]
    args.backends = backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - set(BACKENDS):
        parser.error(f"--backends: choose from {', '.join(BACKENDS)}")
    # a SIGTERM must still stop the servers (the finally blocks)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = Report.from_args(
        "backends", args, *PARAMS, printer=printer, cpus=os.cpu_count(), load_at_start=os.getloadavg()[0]
    )
    from kg.ingest.synthetic import generate_shop

    # the Neo4j driver logs a multi-line WARNING for every notification (e.g. a query naming a type the graph
    # lacks yet): collected and summarised in the notes instead of drowning the progress lines
    notifications = Notifications()
    logger = logging.getLogger("neo4j.notifications")
    logger.addHandler(notifications)
    logger.propagate = False
    started = time.perf_counter()
    runs: dict[str, Run] = {}
    shared: dict[str, Any] = {}  # what the first backend found for the second (copurchase_paths pairs)
    with tempfile.TemporaryDirectory(prefix="kg-bench-backends-") as tmp:
        tmp_path = Path(tmp)
        neo4j_home = tmp_path / "neo4j-home"
        try:
            if "neo4j" in backends:
                neo4j_preflight(neo4j_home, args, report)
            n = args.events
            clock = time.perf_counter()
            # the file build_shop writes (same arguments, same seed: same rows), for the bare ingests
            work = tmp_path / "shop"
            shop = generate_shop(
                work / "bare",
                users=max(n // 20, 10),
                products=max(n // 50, 10),
                events=n,
                seed=args.seed,
                start_ms=START_MS,
                days=DAYS,
            )
            report.log(f"generated {n:,} events in {time.perf_counter() - clock:.1f} s")
            # a sample of the reviews build_shop will write (same arguments, same seed)
            from kg.ingest.reviews.synthetic import generate_reviews

            reviews = generate_reviews(
                work / "bare" / "reviews.csv", n=max(n // 100, 10), shop=shop, users=max(n // 20, 10), seed=args.seed
            )
            with open(reviews, newline="", encoding="utf-8") as handle:
                texts = [row["text"] for row in csv.DictReader(handle)]
            warm_up(report, random.Random(args.seed).sample(texts, min(len(texts), 500)))
            for backend in backends:
                forget_caches()
                if backend == "falkordb":
                    runs[backend] = falkordb_run(work / backend, shop.events, args, report, shared)
                else:
                    runs[backend] = neo4j_run(neo4j_home, work / backend, shop.events, args, report, shared)
        except Unavailable as e:
            print(f"bench/backends.py: Neo4j unavailable: {e}", file=sys.stderr)
            raise SystemExit(2) from None
    wall = time.perf_counter() - started
    report.table(
        f"FalkorDB (embedded) vs Neo4j 5.26 (local, heap {args.neo4j_heap}, page cache "
        f"{args.neo4j_pagecache}): {args.events:,} synthetic events, batch {args.batch}, "
        f"{os.cpu_count()} CPUs",
        ["metric", "unit", TITLES["falkordb"], TITLES["neo4j"], "faster", "note"],
        table_rows(runs, args.events),
        raw={
            b: {
                "version": r.info.get("version"),
                "values": r.values,
                "errors": r.errors,
                "phases": r.phases,
                "queries": r.queries,
                "info": r.info,
            }
            for b, r in runs.items()
        },
    )
    for text in consistency(runs, args.events):
        report.note(text)
    for text in notifications.summary():
        report.note(text)
    for line in runs["neo4j"].info.get("log_lines", []) if "neo4j" in runs else []:
        report.note(f"Neo4j log: {line}")
    for name in sorted({q for run in runs.values() for q in run.results}):
        differ, total = result_differences(runs, name)
        if differ:
            params, ra, rb = differ[0]
            only_a, only_b = _only(ra, rb), _only(rb, ra)
            report.note(
                f"{name}: results differ in {len(differ)} of {total} draws; first {params}: rows only on "
                f"FalkorDB {only_a[:300]} | only on Neo4j {only_b[:300]}"
            )
    for backend, run in runs.items():
        for key, text in run.errors.items():
            report.note(f"{TITLES[backend]} error ({key}): {text}")
    versions = ", ".join(f"{r.info.get('version')}" for r in runs.values())
    report.note(
        f"servers: {versions}; bench wall {wall:.0f} s; bench process peak RSS {peak_rss_mb():.0f} MiB; "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    report.note(
        "dialect bits: only the bare labels' key schema (Neo4j CREATE CONSTRAINT ... IS UNIQUE; FalkorDB "
        "CREATE INDEX + GRAPH.CONSTRAINT UNIQUE); the bare UNWIND ... MERGE text is the same on both"
    )
    report.emit()


if __name__ == "__main__":
    main()
