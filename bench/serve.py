"""``kg serve`` under load: the real command in a child process, on a synthetic shop with profiles.

On a shop of ``--events`` events (n/20 users, n/50 products; ingested and ``kg profiles``-ed first, as
``bench/profiles.py`` builds it), against one ``kg serve`` over HTTP and then one consuming a Kafka topic:

1. latency of single-event posts at a steady rate (``--rate`` events/s for ``--seconds``; open loop: each
   post leaves on schedule whatever the replies do; ``?wait=updated``, so the reply comes once the user's
   recommendations were rewritten); 90 % existing users, 10 % new ones, on existing products, timed after the
   shop's last event;
2. sustained throughput: 8 clients posting 200-event arrays (``?wait=ingested``) for ``--load-seconds``:
   events/s ingested (the replies) and events/s with profiles updated (the service's counter);
3. reads: ``GET /users/{id}/recommendations?k=10`` by 1 client and by ``--read-clients`` concurrent ones;
4. peak memory (VmHWM) and CPU of the service and of its embedded FalkorDB server;
5. through Kafka (``--kafka``; on by default when ``java`` and ``mvn`` are on PATH): a local broker
   (``tests/kafka_broker``), events produced at ``--rate`` for ``--seconds``, one per message: produce ->
   the user's recommendations updated, per event; the service's own histogram; the time to catch up with a
   backlog of ``--backlog`` events produced at once (until the ledger holds them, and until profiles are
   updated).

After each phase a table of the service's own metrics (batches, events per batch, batch seconds, submission
-> recommendations) says where the time goes.

Usage:
    python bench/serve.py                                      # 10^6 events: building the shop takes minutes
    python bench/serve.py --events 100000 --seconds 15         # a quick run
    python bench/serve.py --home /tmp/kg-serve-1m              # build once into /tmp/kg-serve-1m/1000000, re-use
    python bench/serve.py --events 100000 --no-kafka --json

``--home DIR`` keeps the profiled KG_HOME in ``DIR/<events>`` exactly as ``bench/profiles.py --home`` does
(either bench builds it, both re-use it); each run's events are timed after those of earlier runs.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from kg.foundation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYSTOW_HOME", str(Path(tempfile.gettempdir()) / "kg-pystow"))
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    Report,
    add_json_flag,
    bench_settings,
    embedded_server_usage,
    peak_rss_mb,
    process_usage,
)
from bench.profiles import _build, _shape  # noqa: E402

TOKEN = "kg-bench-serve-token-0123456789"
#: bench_settings' pseudonym key: the service must hash raw ids as the build did
PSEUDONYM_KEY = "bench-key"
TOPIC = "kg-bench-events"
KINDS = ("view", "cart", "purchase")
KIND_WEIGHTS = (0.7, 0.2, 0.1)
#: the sustained-throughput load: this many clients, each posting arrays of this many events
LOAD_CLIENTS, LOAD_EVENTS = 8, 200
#: seconds between two scrapes of /metrics while events flow through Kafka
SAMPLE_S = 0.05
INGESTED = "kg_serve_events_ingested_total"  # counted once a batch's profiles are updated
BATCH_S = "kg_serve_batch_seconds"
TO_RECOMMENDATION_S = "kg_serve_event_to_recommendation_seconds"


# -- events -----------------------------------------------------------------------------------------------
class Events:
    """Synthetic events after the shop's last one, 1 s apart: existing users (``new_share`` of them new) on
    existing products; ``next_ms`` is the time after the last one made."""

    def __init__(self, users: int, products: int, start_ms: int, *, seed: int, new_share: float = 0.1) -> None:
        self.users, self.products, self.new_share = users, products, new_share
        self.rng = random.Random(seed)
        self.start_ms = self.next_ms = start_ms
        self.new = 0

    def one(self) -> dict[str, Any]:
        if self.rng.random() < self.new_share:
            self.new += 1
            user = f"N{self.start_ms // 1000}-{self.new:06d}"
        else:
            user = f"U{self.rng.randrange(self.users):07d}"
        at, self.next_ms = self.next_ms, self.next_ms + 1000
        return {
            "user_id": user,
            "item_id": f"P{self.rng.randrange(self.products):07d}",
            "event_type": self.rng.choices(KINDS, KIND_WEIGHTS)[0],
            "timestamp": at,
        }

    def many(self, n: int) -> list[dict[str, Any]]:
        return [self.one() for _ in range(n)]


# -- the profiled shop --------------------------------------------------------------------------------------
@contextmanager
def profiled_shop(events: int, report: Report, work: Path, home: Path | None) -> Iterator[tuple[Settings, dict]]:
    """Settings of a shop of ``events`` events with profiles (built, or re-used from ``home/<events>`` as
    ``bench/profiles.py --home`` keeps it) and the build's record; its embedded server runs until the end."""
    from kg.store import open_store

    users, products = _shape(events)
    home = home / str(events) if home else None
    record = home / "bench-profiles.json" if home else None
    if home:
        home.mkdir(parents=True, exist_ok=True)
    with bench_settings(home) as settings:
        if record and record.exists():
            built = json.loads(record.read_text())
            built["reused"] = True
            report.log(f"re-using the {events:,}-event shop in {home}")
        else:
            report.log(f"building a {events:,}-event shop with profiles (ingest + kg profiles)")
            with open_store(settings) as store:
                built = _build(store, settings, work, events, users, products, report)
            if record:
                record.write_text(json.dumps(built))
            built["reused"] = False
        yield settings, built
        if record:  # later runs time their events after these
            saved = json.loads(record.read_text())
            record.write_text(json.dumps({**saved, "next_start": built["next_start"]}))


# -- the service --------------------------------------------------------------------------------------------
class Serve:
    """``kg serve`` (the real CLI) as a child process on a free port, on the shop of ``settings``."""

    def __init__(self, settings: Settings, work: Path, *options: str) -> None:
        self.settings, self.work, self.options = settings, work, options
        self.process: subprocess.Popen[bytes] | None = None
        self.base = ""

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def __enter__(self) -> Serve:
        import httpx

        from kg.store.falkordb_server import free_port

        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
        env.update(KG_HOME=str(self.settings.home), KG_SERVE_TOKEN=TOKEN, KG_PSEUDONYM_KEY=PSEUDONYM_KEY)
        self.log = self.work / f"serve-{port}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kg.cli", "serve", "--port", str(port), *self.options],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kg serve exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"kg serve did not answer /health within 180 s: {self.log_tail()}")

    def __exit__(self, *exc: object) -> None:
        """Ctrl-C (what was submitted is written first), then a kill after 120 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def log_tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-5:])[-600:]
        except OSError:
            return "no log"

    def health(self) -> dict[str, Any]:
        import httpx

        return dict(httpx.get(f"{self.base}/health", timeout=10).json())


# -- /metrics -----------------------------------------------------------------------------------------------
Snapshot = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_metrics(text: str) -> Snapshot:
    """Every sample of a Prometheus exposition text by (name, sorted labels)."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, tuple(sorted(s.labels.items()))): float(s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(client: httpx.AsyncClient) -> Snapshot:
    reply = await client.get("/metrics")
    reply.raise_for_status()
    return parse_metrics(reply.text)


def total(snap: Snapshot, name: str) -> float:
    """The sum of a metric's samples over every label set."""
    return sum(v for (n, _), v in snap.items() if n == name)


def buckets(snap: Snapshot, histogram: str) -> list[tuple[float, float]]:
    """A histogram's cumulative (upper bound, count), summed over label sets, by bound."""
    found: dict[float, float] = {}
    for (n, labels), v in snap.items():
        if n == f"{histogram}_bucket":
            le = float(dict(labels)["le"])
            found[le] = found.get(le, 0.0) + v
    return sorted(found.items())


def delta(after: Snapshot, before: Snapshot) -> Snapshot:
    return {key: v - before.get(key, 0.0) for key, v in after.items()}


def bucket_quantile(cumulative: Sequence[tuple[float, float]], q: float) -> float | None:
    """The ``q`` quantile estimated from cumulative buckets, linear within a bucket (as Prometheus'
    ``histogram_quantile``); the highest finite bound when it falls in ``+Inf``; None without observations.

    >>> bucket_quantile([(0.1, 0), (0.5, 10), (1.0, 20), (float("inf"), 20)], 0.75)
    0.75
    """
    if not cumulative or cumulative[-1][1] <= 0:
        return None
    rank = q * cumulative[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * ((rank - below) / max(count - below, 1e-12))
        lower, below = bound, count
    return lower


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def percentiles_ms(values: Sequence[float], qs: Sequence[float] = (50, 95, 99)) -> list[float | None]:
    """Percentiles of seconds, in ms (None for no values)."""
    import numpy as np

    if not values:
        return [None] * len(qs)
    return [_ms(float(v)) for v in np.percentile(np.asarray(values), qs)]


def service_row(phase: str, before: Snapshot, after: Snapshot) -> tuple[Any, ...]:
    """One row of the "where the time goes" table: the service's metrics between two scrapes."""
    d = delta(after, before)
    batches = total(d, "kg_serve_batches_total")
    events = total(d, INGESTED)
    batch_sum, batch_n = total(d, f"{BATCH_S}_sum"), total(d, f"{BATCH_S}_count")
    seconds = buckets(d, BATCH_S)
    latency = buckets(d, TO_RECOMMENDATION_S)
    return (
        phase,
        int(batches),
        int(events),
        round(events / batches, 1) if batches else None,
        _ms(batch_sum / batch_n) if batch_n else None,
        _ms(bucket_quantile(seconds, 0.95)),
        _ms(bucket_quantile(latency, 0.5)),
        _ms(bucket_quantile(latency, 0.95)),
    )


SERVICE_COLUMNS = (
    "phase",
    "batches",
    "events",
    "events/batch",
    "batch ms (mean)",
    "batch ms p95",
    "submit->recs ms p50",
    "submit->recs ms p95",
)


# -- 1. latency at a steady rate ---------------------------------------------------------------------------
def _client(base: str, **kw: Any) -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=httpx.Timeout(120.0),
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=1000),
        **kw,
    )


@asynccontextmanager
async def _clients(base: str, n: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """``n`` clients to spread requests over: one httpx pool's cost per request grows with its open
    connections (a pool of hundreds costs the bench client more CPU than the service spends), so each
    client keeps a few."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(_client(base)) for _ in range(n)]


async def warm_up(client: httpx.AsyncClient, events: Events, n: int = 3) -> None:
    """A few posts waited for to the end: the first batch loads what ``kg update`` keeps."""
    for _ in range(n):
        (await client.post("/events", params={"wait": "updated"}, json=[events.one()])).raise_for_status()


async def steady(base: str, events: Events, rate: float, seconds: float) -> dict[str, Any]:
    """Post one event per request at ``rate``/s for ``seconds`` (open loop), ``?wait=updated``."""
    import httpx

    done: list[tuple[float, float | None, str]] = []  # (sent, seconds to the reply or None, status)
    async with _client(base) as client, _clients(base, max(1, min(128, int(rate // 4)))) as shards:
        await warm_up(client, events)
        before = await scrape(client)

        async def one(sender: httpx.AsyncClient, event: dict[str, Any]) -> None:
            sent = time.perf_counter()
            try:
                reply = await sender.post("/events", params={"wait": "updated"}, json=[event])
                done.append((sent, time.perf_counter() - sent, str(reply.status_code)))
            except httpx.HTTPError as e:
                done.append((sent, None, type(e).__name__))

        n = max(1, int(rate * seconds))
        tasks, late = [], 0.0
        t0 = time.perf_counter()
        for i in range(n):
            due = t0 + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            late = max(late, time.perf_counter() - due)
            tasks.append(asyncio.create_task(one(shards[i % len(shards)], events.one())))
        await asyncio.gather(*tasks)
        after = await scrape(client)
    sends = sorted(s for s, _, _ in done)
    ok = [lat for _, lat, status in done if status == "200" and lat is not None]
    return {
        "requests": n,
        "rate": round((n - 1) / (sends[-1] - sends[0]), 1) if n > 1 else None,
        "ok": len(ok),
        "errors": n - len(ok),
        "statuses": sorted({status for _, _, status in done if status != "200"}),
        "latency": ok,
        "sender_late_ms": _ms(late),
        "service": service_row(f"steady {rate:g}/s, 1 event/post, wait=updated", before, after),
    }


# -- 2. sustained throughput --------------------------------------------------------------------------------
async def until_ingested(
    client: httpx.AsyncClient, base_count: float, target: float, timeout: float, poll: float = 0.1
) -> float | None:
    """perf_counter() once the service's ingested-and-updated counter is ``target`` past ``base_count``."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if total(await scrape(client), INGESTED) - base_count >= target:
            return time.perf_counter()
        await asyncio.sleep(poll)
    return None


async def sustained(base: str, events: Events, seconds: float) -> dict[str, Any]:
    """``LOAD_CLIENTS`` clients posting ``LOAD_EVENTS``-event arrays with ``?wait=ingested`` for ``seconds``."""
    import httpx

    accepted, requests, errors = 0, 0, 0
    async with _client(base) as client, _clients(base, LOAD_CLIENTS) as senders:
        before = await scrape(client)
        t0 = time.perf_counter()
        deadline = t0 + seconds

        async def worker(sender: httpx.AsyncClient) -> None:
            nonlocal accepted, requests, errors
            while time.perf_counter() < deadline:
                requests += 1
                try:
                    reply = await sender.post("/events", params={"wait": "ingested"}, json=events.many(LOAD_EVENTS))
                except httpx.HTTPError:
                    errors += 1
                    continue
                if reply.status_code == 200:
                    accepted += int(reply.json()["accepted"])
                else:
                    errors += 1

        await asyncio.gather(*(worker(sender) for sender in senders))
        posted = time.perf_counter() - t0
        finished = await until_ingested(client, total(before, INGESTED), accepted, timeout=600)
        after = await scrape(client)
    updated = (finished - t0) if finished else None
    return {
        "accepted": accepted,
        "requests": requests,
        "errors": errors,
        "posted_s": round(posted, 2),
        "ingested_per_s": round(accepted / posted),
        "updated_s": round(updated, 2) if updated else None,
        "updated_per_s": round(accepted / updated) if updated else None,
        "service": service_row(
            f"sustained, {LOAD_CLIENTS} clients x {LOAD_EVENTS} events, wait=ingested", before, after
        ),
    }


# -- 3. reads -------------------------------------------------------------------------------------------------
async def reads(base: str, users: int, n: int, clients: int, seed: int, rate: float | None = None) -> dict[str, Any]:
    """``n`` GET /users/{id}/recommendations?k=10 over existing users by ``clients`` concurrent clients: each
    sends its next request when the last answered, or (``rate``: requests/s of all clients together) on its
    own schedule, one every ``clients / rate`` seconds, the clients' schedules staggered."""
    import httpx

    rng = random.Random(seed)
    ids = iter([f"U{rng.randrange(users):07d}" for _ in range(n)])
    latencies: list[float] = []
    errors = empty = 0
    async with _clients(base, clients) as readers:

        async def worker(client: httpx.AsyncClient, slot: int) -> None:
            nonlocal errors, empty
            interval = clients / rate if rate else 0.0
            due = t0 + slot * interval / clients
            for user in ids:
                if interval:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    due += interval
                sent = time.perf_counter()
                try:
                    reply = await client.get(f"/users/{user}/recommendations", params={"k": 10})
                except httpx.HTTPError:
                    errors += 1
                    continue
                if reply.status_code == 200 or reply.status_code == 404:  # 404: a user without profile
                    latencies.append(time.perf_counter() - sent)
                    empty += reply.status_code == 404 or not reply.json()["recommendations"]
                else:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(reader, slot) for slot, reader in enumerate(readers)))
        wall = time.perf_counter() - t0
    return {"requests": n, "errors": errors, "empty": empty, "per_s": round(n / wall), "latency": latencies}


# -- 5. through Kafka ------------------------------------------------------------------------------------------
def _produce(producer: Any, event: dict[str, Any]) -> None:
    while True:
        try:
            producer.produce(TOPIC, json.dumps(event).encode())
            return
        except BufferError:  # the local queue is full: let librdkafka send some
            producer.poll(0.05)


async def kafka_steady(base: str, producer: Any, events: Events, rate: float, seconds: float) -> dict[str, Any]:
    """Produce one event per message at ``rate``/s for ``seconds``; each event's time from ``produce()`` to the
    service's ingested-and-updated counter passing it (scraped every ``SAMPLE_S``; one partition, in order)."""
    async with _client(base) as client:
        count = total(await scrape(client), INGESTED)
        _produce(producer, events.one())  # the consumer joins its group and the first batch loads the state
        producer.flush(30)
        if await until_ingested(client, count, 1, timeout=180) is None:
            raise RuntimeError("kg serve consumed nothing from Kafka within 180 s")
        before = await scrape(client)
        count = total(before, INGESTED)
        samples: list[tuple[float, float]] = []
        stop = asyncio.Event()

        async def sampler() -> None:
            while not stop.is_set():
                snap = await scrape(client)
                samples.append((time.perf_counter(), total(snap, INGESTED) - count))
                await asyncio.sleep(SAMPLE_S)

        sampling = asyncio.create_task(sampler())
        n = max(1, int(rate * seconds))
        produced = []
        t0 = time.perf_counter()
        for i in range(n):
            wait = t0 + i / rate - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            produced.append(time.perf_counter())
            _produce(producer, events.one())
            producer.poll(0)
        sent = time.perf_counter() - t0
        producer.flush(30)
        deadline = time.perf_counter() + 300
        while (not samples or samples[-1][1] < n) and time.perf_counter() < deadline:
            await asyncio.sleep(SAMPLE_S)
        stop.set()
        await sampling
        after = await scrape(client)
    times = [t for t, _ in samples]
    counts = [c for _, c in samples]
    latency = []
    for i, at in enumerate(produced):
        k = bisect.bisect_left(counts, i + 1)
        if k < len(times):
            latency.append(times[k] - at)
    d = delta(after, before)
    histogram = buckets(d, TO_RECOMMENDATION_S)
    return {
        "events": n,
        "rate": round((n - 1) / sent, 1) if n > 1 else None,
        "updated": len(latency),
        "latency": latency,
        "histogram": [_ms(bucket_quantile(histogram, q)) for q in (0.5, 0.95, 0.99)],
        "histogram_count": int(total(d, f"{TO_RECOMMENDATION_S}_count")),
        "service": service_row(f"Kafka {rate:g}/s, 1 event/message", before, after),
    }


async def kafka_backlog(base: str, producer: Any, events: Events, n: int, settings: Settings) -> dict[str, Any]:
    """Produce ``n`` events at once; seconds until the ledger holds them all and until their profiles are
    updated."""
    from kg.ledger import EventLedger

    ledger = EventLedger(settings.ledger_path, readonly=True)
    try:
        async with _client(base) as client:
            before = await scrape(client)
            in_ledger = ledger.counts()["events"]
            t0 = time.perf_counter()
            for i in range(n):
                _produce(producer, events.one())
                if i % 1000 == 0:
                    producer.poll(0)
            producer.flush(60)
            produced = time.perf_counter() - t0
            ingested = None
            deadline = t0 + 900
            while time.perf_counter() < deadline:
                if ledger.counts()["events"] - in_ledger >= n:
                    ingested = time.perf_counter() - t0
                    break
                await asyncio.sleep(0.5)
            finished = await until_ingested(client, total(before, INGESTED), n, timeout=max(1.0, deadline - t0))
            after = await scrape(client)
    finally:
        ledger.close()
    updated = (finished - t0) if finished else None
    return {
        "events": n,
        "produce_s": round(produced, 2),
        "ledger_s": round(ingested, 2) if ingested else None,
        "ledger_per_s": round(n / ingested) if ingested else None,
        "updated_s": round(updated, 2) if updated else None,
        "updated_per_s": round(n / updated) if updated else None,
        "service": service_row(f"Kafka backlog of {n:,} events", before, after),
    }


def run_kafka(
    settings: Settings, work: Path, events: Events, report: Report, args: argparse.Namespace, meter: CpuMeter
) -> list[tuple[Any, ...]]:
    """Phase 5 (its tables); the usage rows of its service."""
    from confluent_kafka import Producer

    from tests.kafka_broker import LocalKafka

    kafka = LocalKafka(work / "kafka")
    report.log("starting a local Kafka broker")
    kafka.start()
    try:
        kafka.create_topic(TOPIC)
        with Serve(settings, work, "--kafka", kafka.bootstrap, "--topic", TOPIC, "--group", "kg-bench") as serve:
            producer = Producer({"bootstrap.servers": kafka.bootstrap, "linger.ms": 5, "acks": 1})
            report.log(f"Kafka: producing {args.rate:g} events/s for {args.seconds:g} s")
            flow = meter.run(
                "Kafka steady", serve.pid, kafka_steady(serve.base, producer, events, args.rate, args.seconds)
            )
            report.log(f"Kafka: a backlog of {args.backlog:,} events")
            backlog = meter.run(
                "Kafka backlog", serve.pid, kafka_backlog(serve.base, producer, events, args.backlog, settings)
            )
            usage = [
                ("kg serve --kafka", *process_usage(serve.pid)),
                ("embedded FalkorDB (after Kafka)", *embedded_server_usage(settings)),
            ]
    finally:
        kafka.stop()
    p50, p95, p99 = percentiles_ms(flow["latency"])
    report.table(
        f"Kafka -> recommendations: one event per message at {args.rate:g}/s for {args.seconds:g} s (produce() -> "
        f"the service's updated-events counter passes the event; /metrics scraped every {SAMPLE_S * 1000:.0f} ms)",
        ["events", "achieved rate/s", "updated", "p50 ms", "p95 ms", "p99 ms", "max ms", "goal"],
        [
            (
                flow["events"],
                flow["rate"],
                flow["updated"],
                p50,
                p95,
                p99,
                _ms(max(flow["latency"], default=None)),
                "p95 <= 1,000 ms",
            )
        ],
    )
    h50, h95, h99 = flow["histogram"]
    report.table(
        f"{TO_RECOMMENDATION_S} over the same Kafka events (quantiles estimated from the histogram's buckets; "
        "from the consumer's hand-over to the intake, so time waiting in the topic is not in it)",
        ["submissions", "p50 ms", "p95 ms", "p99 ms"],
        [(flow["histogram_count"], h50, h95, h99)],
    )
    report.table(
        f"Kafka catch-up: {backlog['events']:,} events produced at once",
        ["events", "produce s", "in ledger s", "events/s ingested", "profiles updated s", "events/s updated"],
        [
            (
                backlog["events"],
                backlog["produce_s"],
                backlog["ledger_s"],
                backlog["ledger_per_s"],
                backlog["updated_s"],
                backlog["updated_per_s"],
            )
        ],
    )
    report.table(
        "Kafka: where the time goes (the service's own metrics)", SERVICE_COLUMNS, [flow["service"], backlog["service"]]
    )
    return usage


# -- the bench ---------------------------------------------------------------------------------------------
class CpuMeter:
    """Runs each phase and keeps the CPU it cost the bench client, ``kg serve`` and the embedded server (%
    of one core over the phase's wall time): a client near 100 % measures itself, not the service."""

    COLUMNS = ("phase", "wall s", "client CPU %", "kg serve CPU %", "FalkorDB CPU %")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rows: list[tuple[Any, ...]] = []

    def _now(self, pid: int | None) -> tuple[float | None, ...]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return own.ru_utime + own.ru_stime, process_usage(pid)[1], embedded_server_usage(self.settings)[1]

    def run(self, phase: str, pid: int | None, work: Any) -> Any:
        """``asyncio.run(work)``, measured."""
        before, t0 = self._now(pid), time.perf_counter()
        result = asyncio.run(work)
        wall, after = time.perf_counter() - t0, self._now(pid)
        shares = [
            round(100 * (a - b) / wall, 1) if a is not None and b is not None else None
            for a, b in zip(after, before, strict=True)
        ]
        self.rows.append((phase, round(wall, 1), *shares))
        return result


def kafka_wanted(choice: bool | None, report: Report) -> bool:
    if choice is False:
        return False
    try:
        import confluent_kafka  # noqa: F401

        from tests.kafka_broker import tools_missing
    except ImportError as e:
        missing = [f"python package ({e.name})"]
    else:
        missing = tools_missing()
    if missing:
        report.note(f"Kafka skipped: {', '.join(missing)} missing")
        return False
    return True


def run(args: argparse.Namespace, report: Report, work: Path) -> None:
    users, products = _shape(args.events)
    with profiled_shop(args.events, report, work, args.home) as (settings, built):
        events = Events(users, products, built["next_start"], seed=args.seed)
        meter = CpuMeter(settings)
        usage: list[tuple[Any, ...]] = []
        with Serve(settings, work) as serve:
            health = serve.health()
            report.table(
                f"shop: {args.events:,} events",
                ["events", "users", "products", "shop", "profiles run"],
                [(args.events, users, products, "re-used" if built["reused"] else "built", health.get("profiles_run"))],
            )
            report.log(f"steady: {args.rate:g} single-event posts/s for {args.seconds:g} s (wait=updated)")
            flow = meter.run("HTTP steady", serve.pid, steady(serve.base, events, args.rate, args.seconds))
            p50, p95, p99 = percentiles_ms(flow["latency"])
            report.table(
                f"POST /events?wait=updated, one event per request at {args.rate:g}/s for {args.seconds:g} s "
                "(open loop; POST sent -> reply, which comes after the user's RECOMMENDED edges were rewritten)",
                ["requests", "achieved rate/s", "ok", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms", "goal"],
                [
                    (
                        flow["requests"],
                        flow["rate"],
                        flow["ok"],
                        flow["errors"],
                        p50,
                        p95,
                        p99,
                        _ms(max(flow["latency"], default=None)),
                        "p95 <= 1,000 ms",
                    )
                ],
                statuses=flow["statuses"],
                sender_late_ms=flow["sender_late_ms"],
            )
            if flow["errors"]:
                report.note(f"steady: error statuses {', '.join(flow['statuses'])}")

            report.log(f"sustained: {LOAD_CLIENTS} clients x {LOAD_EVENTS}-event posts for {args.load_seconds:g} s")
            load = meter.run("HTTP sustained", serve.pid, sustained(serve.base, events, args.load_seconds))
            report.table(
                f"Sustained: {LOAD_CLIENTS} clients posting {LOAD_EVENTS}-event arrays (?wait=ingested) for "
                f"{args.load_seconds:g} s; 'updated' from the service's {INGESTED}",
                [
                    "events accepted",
                    "requests",
                    "errors",
                    "posting s",
                    "events/s ingested",
                    "s until all updated",
                    "events/s updated",
                ],
                [
                    (
                        load["accepted"],
                        load["requests"],
                        load["errors"],
                        load["posted_s"],
                        load["ingested_per_s"],
                        load["updated_s"],
                        load["updated_per_s"],
                    )
                ],
            )
            report.table(
                "HTTP: where the time goes (the service's own metrics; ms p95 estimated from the histogram's buckets)",
                SERVICE_COLUMNS,
                [flow["service"], load["service"]],
            )

            rows = []
            plans = (
                (1, max(50, args.reads // 10), None),
                (args.read_clients, args.reads, None),
                (args.read_clients, args.reads, args.read_rate),
            )
            for clients, n, rate in plans:
                paced = f" at {rate:,.0f}/s in all" if rate else ""
                report.log(f"reads: {n:,} by {clients} client(s){paced}")
                got = meter.run(
                    f"reads, {clients} client(s){paced}",
                    serve.pid,
                    reads(serve.base, users, n, clients, seed=args.seed + clients, rate=rate),
                )
                rows.append(
                    (
                        f"{clients}{paced}",
                        n,
                        got["errors"],
                        got["empty"],
                        got["per_s"],
                        *percentiles_ms(got["latency"]),
                        "p95 <= 20 ms",
                    )
                )
            report.table(
                "GET /users/{id}/recommendations?k=10 over the shop's user ids ('no recommendations': the few ids "
                "without events, hence without a profile: 404 or an empty list)",
                [
                    "clients",
                    "requests",
                    "errors",
                    "no recommendations",
                    "requests/s",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "goal",
                ],
                rows,
            )
            usage += [
                ("kg serve", *process_usage(serve.pid)),
                ("embedded FalkorDB", *embedded_server_usage(settings)),
            ]

        if kafka_wanted(args.kafka, report):
            usage += run_kafka(settings, work, events, report, args, meter)
        built["next_start"] = events.next_ms + 1000
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        usage.append(("bench client (this process)", round(peak_rss_mb(), 1), round(cpu.ru_utime + cpu.ru_stime, 1)))
        report.table(
            "Memory and CPU (peak RSS = VmHWM since the process started; the embedded server's includes "
            + ("loading the shop" if built["reused"] else "building the shop")
            + ")",
            ["process", "peak MiB", "CPU s"],
            usage,
        )
        report.table(
            f"CPU during each phase (% of one core; this machine has {os.cpu_count()})", CpuMeter.COLUMNS, meter.rows
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events of the synthetic shop")
    parser.add_argument("--home", type=Path, help="keep the shop's KG_HOME in HOME/<events> and re-use it")
    parser.add_argument("--rate", type=float, default=200.0, help="events/s of the steady phases (HTTP and Kafka)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the steady phases")
    parser.add_argument("--load-seconds", type=float, default=20.0, help="length of the sustained-throughput phase")
    parser.add_argument("--reads", type=int, default=5000, help="recommendation reads by the concurrent clients")
    parser.add_argument("--read-clients", type=int, default=50, help="concurrent readers")
    parser.add_argument(
        "--read-rate", type=float, default=250.0, help="requests/s of all readers together, in the paced read phase"
    )
    parser.add_argument("--backlog", type=int, default=20_000, help="events produced at once to time Kafka catch-up")
    parser.add_argument(
        "--kafka",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the Kafka phase (default: when java and mvn are on PATH)",
    )
    parser.add_argument("--seed", type=int, default=0)
    add_json_flag(parser)
    args = parser.parse_args()
    report = Report.from_args(
        "serve",
        args,
        "events",
        "rate",
        "seconds",
        "load_seconds",
        "reads",
        "read_clients",
        "read_rate",
        "backlog",
        "seed",
    )
    with tempfile.TemporaryDirectory(prefix="kg-bench-serve-") as tmp:
        run(args, report, Path(tmp))
    report.emit()


if __name__ == "__main__":
    main()
