"""Throughput of `kg embed train` against bare PyKEEN, and the cost of export and write-back.

For each source (a synthetic shop from ``ingest/synthetic.py`` of ``--events`` events, and/or
the shared Amazon Gift Cards data ingested with ``kg ingest events --format amazon`` +
``kg ingest products --format amazon-meta``), in a private KG_HOME with its own embedded
FalkorDB:

1. export the graph's triples (``embeddings.export.export_triples``), timed;
2. train the same split with the same hyper-parameters twice in this process: a bare
   ``pykeen.pipeline`` call, then ``embeddings.train_triples`` (what `kg embed train` runs);
   training triples/s = training triples x epochs / PyKEEN's measured training seconds;
3. write the embeddings back (``embeddings.writeback.write_back``), timed as a whole (batched
   SETs + vector-index build until ready + AOF compaction); properties/s counts the four
   properties SET per node (embedding, embedding_model, embedding_run, embedding_dim) over the
   SET phase; floats/s counts vector components;
4. peak RSS of this process and the FalkorDB server's peak memory.

Goals: ratio >= 0.95; (export + write-back) <= 10% of training time; >= 100k properties/s.

Usage:
    python bench/embed.py --source synthetic --events 100000            # quick
    python bench/embed.py --source both --events 1000000 --epochs 5      # README figures
"""

from __future__ import annotations

import argparse
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

from embeddings import TrainConfig, train_triples  # noqa: E402
from embeddings.export import export_triples  # noqa: E402
from embeddings.train import evaluation_samples, split_triples  # noqa: E402
from embeddings.writeback import write_back  # noqa: E402
from kg.settings import Settings  # noqa: E402
from kg.store import open_store  # noqa: E402

AMAZON = ROOT.parent / "shared" / "data" / "amazon_gift_cards_5core_2018"


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_synthetic(settings: Settings, events: int, seed: int) -> str:
    from kg.demo import run_demo

    users, products = max(50, events // 20), max(30, events // 50)
    run_demo(settings, users=users, products=products, events=events, reviews=0, epochs=0, seed=seed, fresh=True, progress=False,
             say=say)
    return f"synthetic {events:,} events ({users:,} users, {products:,} products)"


def load_amazon(settings: Settings) -> str:
    env = {**os.environ, "KG_HOME": str(settings.home), "KG_GRAPH": settings.graph,
           "KG_PSEUDONYM_KEY": "bench-key"}
    kg = [sys.executable, "-m", "kg.cli"]
    for args in (["ingest", "products", str(AMAZON / "meta_Gift_Cards.json"), "--format", "amazon-meta"],
                 ["ingest", "events", str(AMAZON / "Gift_Cards_5.json"), "--format", "amazon"]):
        subprocess.run(kg + args + ["--json"], env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return "Amazon Gift Cards 5-core (2,972 reviews, 1,547 products)"


def server_peak_mb(store: Any) -> float | None:
    try:
        info = store.client.connection.info("memory")
        return int(info["used_memory_peak"]) / 2**20
    except Exception:  # noqa: BLE001 - informational
        return None


def bench_source(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from pykeen.pipeline import pipeline

    home = Path(tempfile.mkdtemp(prefix=f"kg-bench-{name}-"))
    settings = Settings(home=home, graph="bench", pseudonym_key="bench-key", batch_size=5000)
    store = open_store(settings)
    try:
        label = load_synthetic(settings, args.events, args.seed) if name == "synthetic" else load_amazon(settings)
        say(f"[{name}] loaded: {label}")
        t0 = time.perf_counter()
        triples = export_triples(store)
        export_s = time.perf_counter() - t0
        say(f"[{name}] exported {triples.num_triples:,} triples, {triples.num_entities:,} entities in {export_s:.2f}s")

        config = TrainConfig(model=args.model, dim=args.dim, epochs=args.epochs, batch_size=args.batch_size,
                             lr=args.lr, negatives=args.negatives, seed=args.seed, device=args.device,
                             early_stopping=False, eval_max=args.eval_max).validate()
        training, validation, testing = split_triples(triples.to_factory(), config.ratios, config.seed)
        # the bare pipeline ranks the same --eval-max samples with the same full filter as kg does
        eval_valid, eval_test, filters = evaluation_samples(validation, testing, config)
        eval_batch = config.resolved_eval_batch_size(training.num_entities)
        results = {"bare": [], "ours": []}
        for _ in range(args.repeats):
            result = pipeline(
                training=training, validation=eval_valid, testing=eval_test, model=config.model,
                model_kwargs={"embedding_dim": config.dim}, optimizer="adam", optimizer_kwargs={"lr": config.lr},
                negative_sampler="basic", negative_sampler_kwargs={"num_negs_per_pos": config.negatives},
                training_kwargs={"batch_size": config.batch_size, "use_tqdm_batch": False}, epochs=config.epochs,
                evaluator_kwargs={"batch_size": eval_batch},
                evaluation_kwargs={"batch_size": eval_batch, "additional_filter_triples": filters},
                random_seed=config.seed,
                device=args.device if args.device != "auto" else None, use_tqdm=False,
            )
            results["bare"].append(training.num_triples * config.epochs / result.train_seconds)
            t0 = time.perf_counter()
            run = train_triples(triples, config, runs_dir=settings.runs_dir, backend=store.version(),
                                progress=False)
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
    finally:
        store.close()
        if store.server is not None and not args.keep:
            store.server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="kg embed train vs bare PyKEEN; export/write-back cost")
    parser.add_argument("--source", choices=["synthetic", "amazon", "both"], default="synthetic")
    parser.add_argument("--events", type=int, default=100_000, help="synthetic events (README: 1000000)")
    parser.add_argument("--model", default="TransE")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--negatives", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-max", type=int, default=5_000, help="test triples ranked (kg embed train --eval-max)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=1, help="best of N for both trainers")
    parser.add_argument("--keep", action="store_true", help="leave the bench servers running")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    for name in ("pykeen", "torch_max_mem", "embeddings", "kg", "ingest"):
        logging.getLogger(name).setLevel(logging.ERROR)

    sources = ["synthetic", "amazon"] if args.source == "both" else [args.source]
    rows = [bench_source(s, args) for s in sources]
    print(f"\n{args.model} dim {args.dim}, {args.epochs} epochs, batch {args.batch_size}, {args.negatives} negative(s), "
          f"{args.device}, best of {args.repeats}; train = PyKEEN's training seconds")
    header = ["source", "triples", "entities", "kg triples/s", "bare triples/s", "ratio (>=0.95)", "train s",
              "export s", "write s (SET + index + compact)", "(export+write)/train (<=10%)", "SET props/s (>=100k)",
              "SET nodes/s", "SET floats/s",
              "peak RSS MB", "server peak MB", "eval s (test triples)", "MRR", "H@10"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        server = f"{r['server_peak_mb']:.0f}" if r["server_peak_mb"] is not None else "-"
        print(f"| {r['source']} | {r['triples']:,} | {r['entities']:,} | {r['ours_tps']:,.0f} | {r['bare_tps']:,.0f} | "
              f"{r['ratio']:.3f} | {r['train_s']:.1f} | {r['export_s']:.2f} | {r['write_s']:.2f} ({r['set_s']:.2f} + "
              f"{r['index_s']:.2f} + {r['write_s'] - r['set_s'] - r['index_s']:.2f}) | "
              f"{100 * r['share']:.1f}% | {r['props_per_s']:,.0f} | {r['nodes_per_s']:,.0f} | {r['floats_per_s']:,.0f} | "
              f"{r['peak_rss_mb']:.0f} | {server} | {r['eval_s']:.1f} ({r['evaluated']:,}) | {r['mrr']:.3f} | "
              f"{r['hits_at_10']:.3f} |")


if __name__ == "__main__":
    main()
