"""Throughput of `kg embed train` against bare PyKEEN, and the cost of export and write-back.

For each source (a synthetic shop from ``ingest/synthetic.py`` of ``--events`` events, and/or
the shared Amazon Gift Cards data ingested with ``kg ingest events --format amazon`` +
``kg ingest products --format amazon-meta``), in a private KG_HOME with its own embedded
FalkorDB:

1. export the graph's triples (``kg.embeddings.export.export_triples``), timed;
2. train the same split with the same hyper-parameters twice in this process: a bare
   ``pykeen.pipeline`` call, then ``kg.embeddings.train_triples`` (what `kg embed train` runs);
   training triples/s = training triples x epochs / PyKEEN's measured training seconds;
3. write the embeddings back (``kg.embeddings.writeback.write_back``), timed as a whole (batched
   SETs + vector-index build until ready + AOF compaction); properties/s counts the four
   properties SET per node (embedding, embedding_model, embedding_run, embedding_dim) over the
   SET phase; floats/s counts vector components;
4. peak RSS of this process and the FalkorDB server's peak memory.

Goals: ratio >= 0.95; (export + write-back) <= 10% of training time; >= 100k properties/s.

Sweep (``--threads`` / ``--batch-size`` with comma-separated values, or ``--sweep-only``): the same
export trained once per (threads, batch size) with ``kg.embeddings.train_triples``; s/epoch is
PyKEEN's training seconds / epochs. Threads: a number, ``auto`` (``train_threads=0``: what
`kg embed train` does) or ``torch`` (torch's own default thread count, the behaviour before
``train_threads`` existed).

Usage:
    python bench/embed.py --source synthetic --events 100000            # quick
    python bench/embed.py --source both --events 1000000 --epochs 5      # README figures
    python bench/embed.py --events 20000 --sweep-only --threads torch,1,2,auto --batch-size 256,1024 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYSTOW_HOME", str(Path(tempfile.gettempdir()) / "kg-pystow"))
sys.path.insert(0, str(ROOT))

import logging  # noqa: E402

import torch  # noqa: E402

from bench._common import bare_pipeline  # noqa: E402
from kg.embeddings import TrainConfig, resolve_threads, train_triples  # noqa: E402
from kg.embeddings.device import available_cpus, torch_threads  # noqa: E402
from kg.embeddings.export import export_triples  # noqa: E402
from kg.embeddings.train import evaluation_samples, split_triples  # noqa: E402
from kg.embeddings.writeback import write_back  # noqa: E402
from kg.foundation.settings import Settings  # noqa: E402
from kg.store import open_store  # noqa: E402

AMAZON = ROOT.parent / "shared" / "data" / "amazon_gift_cards_5core_2018"
#: torch's thread count before anything set it (the ``torch`` choice of --threads)
TORCH_DEFAULT_THREADS = torch.get_num_threads()


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_synthetic(settings: Settings, events: int, seed: int) -> tuple[str, Settings]:
    """Ingest a synthetic shop with ``kg demo``'s code; returns its label and the demo's settings."""
    from kg.operations.demo import demo_settings, run_demo

    users, products = max(50, events // 20), max(30, events // 50)
    run_demo(
        settings,
        users=users,
        products=products,
        events=events,
        reviews=0,
        epochs=0,
        seed=seed,
        fresh=True,
        progress=False,
        say=say,
    )
    return f"synthetic {events:,} events ({users:,} users, {products:,} products)", demo_settings(settings)


def load_amazon(settings: Settings) -> tuple[str, Settings]:
    env = {**os.environ, "KG_HOME": str(settings.home), "KG_GRAPH": settings.graph, "KG_PSEUDONYM_KEY": "bench-key"}
    kg = [sys.executable, "-m", "kg.cli"]
    for args in (
        ["ingest", "products", str(AMAZON / "meta_Gift_Cards.json"), "--format", "amazon-meta"],
        ["ingest", "events", str(AMAZON / "Gift_Cards_5.json"), "--format", "amazon"],
    ):
        subprocess.run(kg + args + ["--json"], env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return "Amazon Gift Cards 5-core (2,972 reviews, 1,547 products)", settings


def server_peak_mb(store: Any) -> float | None:
    try:
        info = store.client.connection.info("memory")
        return int(info["used_memory_peak"]) / 2**20
    except Exception:  # noqa: BLE001 - informational
        return None


def thread_count(token: str) -> int:
    """--threads value -> TrainConfig.train_threads (0 = auto)."""
    token = token.strip().lower()
    if token == "auto":
        return 0
    if token == "torch":
        return TORCH_DEFAULT_THREADS
    return int(token)


def train_config(args: argparse.Namespace, batch_size: int, threads: str) -> TrainConfig:
    """The command line's hyper-parameters (``kg embed train``'s options of the same names, read by
    ``TrainConfig.from_dict``) with one batch size and one --threads value; no early stopping."""
    options = {**vars(args), "batch_size": batch_size, "train_threads": thread_count(threads)}
    return TrainConfig.from_dict({**options, "early_stopping": False})


def sweep(name: str, label: str, triples: Any, settings: Settings, args: argparse.Namespace) -> list[dict[str, Any]]:
    """s/epoch (and loss, MRR) for every (threads, batch size) of the sweep, same seed and split."""
    rows = []
    for token in args.threads.split(","):
        for batch in args.batch_sizes:
            config = train_config(args, batch, token)
            run = train_triples(triples, config, runs_dir=settings.runs_dir, progress=False)
            m = run.metrics
            rows.append(
                {
                    "source": label,
                    "threads": token,
                    "threads_used": run.config["threads_resolved"],
                    "batch_size": batch,
                    "epochs": m["epochs_trained"],
                    "s_per_epoch": m["train_seconds"] / max(m["epochs_trained"], 1),
                    "final_loss": m["final_loss"],
                    "mrr": m["mrr"],
                    "hits_at_10": m["hits_at_10"],
                    "load_avg": os.getloadavg()[0],
                }
            )
            say(
                f"[{name}] threads {token} ({run.config['threads_resolved']}), batch {batch}: "
                f"{rows[-1]['s_per_epoch']:.2f} s/epoch, loss {m['final_loss']:.4f}, MRR {m['mrr']:.3f}"
            )
    return rows


def bench_source(name: str, args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"kg-bench-{name}-"))
    base = Settings(home=home, graph="bench", pseudonym_key="bench-key", batch_size=5000)
    label, settings = load_synthetic(base, args.events, args.seed) if name == "synthetic" else load_amazon(base)
    store = open_store(settings)
    try:
        say(f"[{name}] loaded: {label}")
        t0 = time.perf_counter()
        triples = export_triples(store)
        export_s = time.perf_counter() - t0
        say(f"[{name}] exported {triples.num_triples:,} triples, {triples.num_entities:,} entities in {export_s:.2f}s")
        out: dict[str, Any] = {"sweep": sweep(name, label, triples, settings, args) if args.sweeping else []}
        if not args.sweep_only:
            out["main"] = compare(name, label, triples, export_s, store, settings, args)
        return out
    finally:
        store.close()
        if store.server is not None and not args.keep:
            store.server.stop()


def compare(
    name: str, label: str, triples: Any, export_s: float, store: Any, settings: Settings, args: argparse.Namespace
) -> dict[str, Any]:
    """Bare PyKEEN vs train_triples on one split, then the write-back (the main table's row)."""
    config = train_config(args, args.batch_sizes[0], args.threads.split(",")[0]).validate()
    training, validation, testing = split_triples(triples.to_factory(), config.ratios, config.seed)
    # the bare pipeline ranks the same --eval-max samples with the same full filter as kg does
    eval_valid, eval_test, filters = evaluation_samples(validation, testing, config)
    eval_batch = config.resolved_eval_batch_size(training.num_entities)
    results = {"bare": [], "ours": []}
    for _ in range(args.repeats):
        with torch_threads(resolve_threads(config.train_threads)):  # bare PyKEEN on the same threads
            result = bare_pipeline(config, training, eval_valid, eval_test, eval_batch=eval_batch, filters=filters)
        results["bare"].append(training.num_triples * config.epochs / result.train_seconds)
        t0 = time.perf_counter()
        run = train_triples(triples, config, runs_dir=settings.runs_dir, backend=store.version(), progress=False)
        ours_wall = time.perf_counter() - t0
        results["ours"].append(run.metrics["train_triples_per_second"])
    train_s = run.metrics["train_seconds"]
    say(f"[{name}] trained: ours {max(results['ours']):,.0f} triples/s, bare {max(results['bare']):,.0f}")

    stats = write_back(store, run)
    nodes = stats.total_nodes
    row = {
        "source": label,
        "triples": triples.num_triples,
        "train_triples": training.num_triples,
        "entities": triples.num_entities,
        "ours_tps": max(results["ours"]),
        "bare_tps": max(results["bare"]),
        "ratio": max(results["ours"]) / max(results["bare"]),
        "train_s": train_s,
        "ours_wall_s": ours_wall,
        "export_s": export_s,
        "write_s": stats.seconds,
        "share": (export_s + stats.seconds) / train_s,
        "set_s": stats.set_seconds,
        "index_s": stats.index_seconds,
        "props_per_s": stats.properties_per_second,
        "nodes_per_s": nodes / stats.set_seconds,
        "floats_per_s": nodes * stats.dim / stats.set_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "server_peak_mb": server_peak_mb(store),
        "mrr": run.metrics["mrr"],
        "hits_at_10": run.metrics["hits_at_10"],
        "eval_s": run.metrics["evaluate_seconds"],
        "evaluated": run.metrics["evaluated_triples"],
    }
    return row


def print_main(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\n{args.model} dim {args.dim}, {args.epochs} epochs, batch {args.batch_sizes[0]}, "
        f"{args.negatives} negative(s), {args.device}, threads {args.threads.split(',')[0]}, "
        f"best of {args.repeats}; train = PyKEEN's training seconds"
    )
    header = [
        "source",
        "triples",
        "entities",
        "kg triples/s",
        "bare triples/s",
        "ratio (>=0.95)",
        "train s",
        "export s",
        "write s (SET + index + compact)",
        "(export+write)/train (<=10%)",
        "SET props/s (>=100k)",
        "SET nodes/s",
        "SET floats/s",
        "peak RSS MB",
        "server peak MB",
        "eval s (test triples)",
        "MRR",
        "H@10",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        server = f"{r['server_peak_mb']:.0f}" if r["server_peak_mb"] is not None else "-"
        print(
            f"| {r['source']} | {r['triples']:,} | {r['entities']:,} | {r['ours_tps']:,.0f} | {r['bare_tps']:,.0f} | "
            f"{r['ratio']:.3f} | {r['train_s']:.1f} | {r['export_s']:.2f} | {r['write_s']:.2f} ({r['set_s']:.2f} + "
            f"{r['index_s']:.2f} + {r['write_s'] - r['set_s'] - r['index_s']:.2f}) | "
            f"{100 * r['share']:.1f}% | {r['props_per_s']:,.0f} | {r['nodes_per_s']:,.0f} | {r['floats_per_s']:,.0f} | "
            f"{r['peak_rss_mb']:.0f} | {server} | {r['eval_s']:.1f} ({r['evaluated']:,}) | {r['mrr']:.3f} | "
            f"{r['hits_at_10']:.3f} |"
        )


def print_sweep(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\n{args.model} dim {args.dim}, {args.epochs} epochs, lr {args.lr}, {args.negatives} negative(s), "
        f"{args.device}, seed {args.seed}; s/epoch = PyKEEN's training seconds / epochs "
        f"(torch default threads here: {TORCH_DEFAULT_THREADS}, CPUs available: {available_cpus()})"
    )
    header = ["source", "threads", "threads used", "batch", "s/epoch", "final loss", "MRR", "H@10", "load avg"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print(
            f"| {r['source']} | {r['threads']} | {r['threads_used']} | {r['batch_size']} | {r['s_per_epoch']:.2f} | "
            f"{r['final_loss']:.4f} | {r['mrr']:.3f} | {r['hits_at_10']:.3f} | {r['load_avg']:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="kg embed train vs bare PyKEEN; export/write-back cost; threads x batch-size sweep"
    )
    parser.add_argument("--source", choices=["synthetic", "amazon", "both"], default="synthetic")
    parser.add_argument("--events", type=int, default=100_000, help="synthetic events (README: 1000000)")
    parser.add_argument("--model", default="TransE")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--batch-size",
        default="1024",
        help="training batch size; comma-separated values sweep (the first one is the main table's)",
    )
    parser.add_argument(
        "--threads",
        default="auto",
        help="torch threads: N, auto (kg's default) or torch (torch's own default); comma-separated values sweep",
    )
    parser.add_argument("--sweep-only", action="store_true", help="only the threads x batch-size sweep table")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the tables on stdout")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--negatives", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-max", type=int, default=5_000, help="test triples ranked (kg embed train --eval-max)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=1, help="best of N for both trainers")
    parser.add_argument("--keep", action="store_true", help="leave the bench servers running")
    args = parser.parse_args()
    args.batch_sizes = [int(b) for b in args.batch_size.split(",")]
    args.sweeping = args.sweep_only or len(args.batch_sizes) > 1 or "," in args.threads
    logging.basicConfig(level=logging.ERROR)
    for name in ("pykeen", "torch_max_mem", "embeddings", "kg", "ingest"):
        logging.getLogger(name).setLevel(logging.ERROR)

    sources = ["synthetic", "amazon"] if args.source == "both" else [args.source]
    results = [bench_source(s, args) for s in sources]
    main_rows = [r["main"] for r in results if "main" in r]
    sweep_rows = [row for r in results for row in r["sweep"]]
    if args.json:
        print(
            json.dumps(
                {
                    "config": {k: v for k, v in vars(args).items() if k != "sweeping"},
                    "torch_default_threads": TORCH_DEFAULT_THREADS,
                    "cpus_available": available_cpus(),
                    "main": main_rows,
                    "sweep": sweep_rows,
                },
                default=str,
            )
        )
        return
    if main_rows:
        print_main(main_rows, args)
    if sweep_rows:
        print_sweep(sweep_rows, args)


if __name__ == "__main__":
    main()
