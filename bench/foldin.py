"""Fold-in against a full retrain, and text cold-start, on a synthetic shop.

1. ``kg.ingest.synthetic.generate_shop``; users split in id order: the first 80% are known at
   training time, the rest arrive later as new users. Each new user's last purchase (by
   time) is held out: every event of that (user, item) pair is removed.
2. A private KG_HOME and embedded FalkorDB: ingest the products and the known users' events,
   ``train_graph`` (TransE by default), ingest the new users' remaining events, ``fold_in``.
3. Recall@20 on the held-out purchases: the user's vector scored against every product with the
   KGE model's (user, PURCHASED, item) score, products the user already touched excluded;
   fold-in vs a full retrain on the whole graph (same config and seed) vs popularity.
4. Text cold-start: ``text_cold_start(evaluate=True)`` on the graph (R^2, held-out products'
   same-category neighbour rate vs random vs their trained vectors), plus ``--cold`` brand-new
   products with only a title (generated like the shop's), whose ``kg similar`` neighbours
   (the graph's vector index) are checked for their intended category.

Usage:
    python bench/foldin.py                       # 1,500 users, 300 products, 30,000 events
    python bench/foldin.py --events 100000 --users 5000 --products 800 --epochs 40 --json
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYSTOW_HOME", str(Path(tempfile.gettempdir()) / "kg-pystow"))
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench._common import Report, add_json_flag, bench_settings  # noqa: E402
from kg.embeddings import TrainConfig, find_run, load_model, train_graph  # noqa: E402
from kg.embeddings.coldstart import text_cold_start  # noqa: E402
from kg.embeddings.foldin import fold_in  # noqa: E402
from kg.embeddings.similar import similar_items  # noqa: E402
from kg.foundation.privacy import Pseudonymiser  # noqa: E402
from kg.ingest import ingest_file  # noqa: E402
from kg.ingest.synthetic import TOP_CATEGORIES, generate_shop  # noqa: E402
from kg.store import open_store  # noqa: E402

K = 20


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def split_events(
    path: Path, known_share: float
) -> tuple[list[list[str]], list[list[str]], dict[str, str], dict[str, set[str]], list[str]]:
    """(known users' rows, new users' rows minus held-out pairs, {new user: held-out item},
    {user: items touched in the kept rows}, header)."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    users = sorted({r[0] for r in rows})
    known = set(users[: int(len(users) * known_share)])
    last: dict[str, tuple[int, str]] = {}
    for user, item, kind, at, _ in rows:
        if user not in known and kind == "purchase" and (user not in last or int(at) > last[user][0]):
            last[user] = (int(at), item)
    held = {u: item for u, (_, item) in last.items()}
    old = [r for r in rows if r[0] in known]
    new = [r for r in rows if r[0] not in known and held.get(r[0]) != r[1]]
    touched: dict[str, set[str]] = defaultdict(set)
    for r in old + new:
        touched[r[0]].add(r[1])
    held = {u: i for u, i in held.items() if touched.get(u)}  # a user with nothing left cannot be folded in
    return old, new, held, touched, header


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def recall_at_k(
    run_id: str, settings: Any, held: dict[str, str], touched: dict[str, set[str]], pseudonym: Pseudonymiser
) -> tuple[float, int]:
    """Recall@K of the held-out purchases with the run's model: (user, PURCHASED, ?) over every product."""
    import torch

    run = find_run(settings.runs_dir, run_id)
    model = load_model(run).eval()
    rel = run.relation_to_id["PURCHASED"]
    products = [(label.partition(":")[2], i) for label, i in run.entity_to_id.items() if label.startswith("Product:")]
    ids = torch.as_tensor([i for _, i in products])
    names = np.asarray([p for p, _ in products], dtype=object)
    hits = users = 0
    for raw, item in held.items():
        uid = run.entity_to_id.get(f"User:{pseudonym.user_id(raw)}")
        if uid is None:
            continue
        with torch.no_grad():
            scores = model.score_t(torch.tensor([[uid, rel]]))[0, ids].numpy().copy()
        scores[np.isin(names, list(touched.get(raw, ())))] = -np.inf
        top = names[np.argsort(-scores)[:K]]
        hits += int(item in top)
        users += 1
    return hits / max(users, 1), users


def popularity_recall(rows: list[list[str]], held: dict[str, str], touched: dict[str, set[str]]) -> float:
    counts = Counter(r[1] for r in rows if r[2] == "purchase")
    ranked = [p for p, _ in counts.most_common()]
    hits = 0
    for raw, item in held.items():
        top = [p for p in ranked if p not in touched.get(raw, ())][:K]
        hits += int(item in top)
    return hits / max(len(held), 1)


def cold_products(path: Path, n: int, seed: int) -> tuple[Path, dict[str, str]]:
    """``n`` title-only products named like the shop's (brand-stem adjective sub-category index)."""
    rng = np.random.default_rng(seed + 1)
    leaves = [(top, sub) for top, subs in TOP_CATEGORIES.items() for sub in subs]
    rows, intended = [], {}
    for j in range(n):
        top, sub = leaves[int(rng.integers(len(leaves)))]
        pid = f"C{j:06d}"
        title = (
            f"{rng.choice(['Acme', 'Nordic', 'Zen', 'Orbit'])} {rng.choice(['Classic', 'Pro', 'Mini'])} "
            f"{sub.rstrip('s')} {900 + j}"
        )
        rows.append([pid, title])
        intended[pid] = f"{top} > {sub}"
    return write_rows(path, ["item_id", "title"], rows), intended


def cold_similar_rate(store: Any, settings: Any, intended: dict[str, str]) -> tuple[float, float]:
    """(share of kg-similar top-10 neighbours of the cold products in their intended leaf category, random share)."""
    cats = {
        r["id"]: r["path"]
        for r in store.execute("MATCH (p:Product)-[:IN_CATEGORY]->(c:Category) RETURN p.id AS id, c.path AS path")
    }
    share = Counter(cats.values())
    rates, base = [], []
    for pid, cat in intended.items():
        # other cold products have no category: look past them to the first 10 catalogued neighbours
        hits = [h for h in similar_items(store, pid, k=10 + len(intended), settings=settings) if h["id"] in cats][:10]
        if hits:
            rates.append(np.mean([cats[h["id"]] == cat for h in hits]))
        base.append(share[cat] / max(len(cats), 1))
    return float(np.mean(rates)) if rates else float("nan"), float(np.mean(base))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1500)
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--known", type=float, default=0.8, help="share of users known at training time")
    parser.add_argument("--model", default="TransE")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--steps", type=int, default=50, help="fold-in steps")
    parser.add_argument("--foldin-lr", type=float, default=0.05)
    parser.add_argument("--cold", type=int, default=40, help="title-only products for text cold-start")
    parser.add_argument("--seed", type=int, default=7)
    add_json_flag(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in ("pykeen", "torch_max_mem", "ingest", "kg", "embeddings"):
        logging.getLogger(name).setLevel(logging.WARNING)
    report = Report("foldin", as_json=args.json, params=vars(args))

    with (
        tempfile.TemporaryDirectory(prefix="kg-bench-foldin-") as tmp,
        bench_settings(graph="bench", batch_size=5000) as settings,
    ):
        shop = generate_shop(Path(tmp), users=args.users, products=args.products, events=args.events, seed=args.seed)
        old, new, held, touched, header = split_events(shop.events, args.known)
        say(f"{len(old):,} known-user events, {len(new):,} new-user events, {len(held):,} held-out purchases")
        config = dict(
            model=args.model,
            dim=args.dim,
            epochs=args.epochs,
            lr=args.lr,
            seed=args.seed,
            early_stopping=False,
            eval_max=500,
            batch_size=512,
        )
        pseudonym = Pseudonymiser.from_settings(settings)
        with open_store(settings) as store:
            ingest_file(store, settings, shop.products, kind="products", fmt="csv", force=True)
            ingest_file(
                store, settings, write_rows(Path(tmp) / "old.csv", header, old), kind="events", fmt="csv", force=True
            )
            t0 = time.perf_counter()
            base = train_graph(store, settings, TrainConfig(**config))
            base_s = time.perf_counter() - t0
            say(f"trained on known users in {base_s:.1f} s (MRR {base.metrics['mrr']:.3f})")
            ingest_file(
                store, settings, write_rows(Path(tmp) / "new.csv", header, new), kind="events", fmt="csv", force=True
            )
            folded = fold_in(store, settings, steps=args.steps, lr=args.foldin_lr)
            say("\n".join(folded.lines()))
            fold_recall, n_users = recall_at_k(base.run_id, settings, held, touched, pseudonym)

            cold_path, intended = cold_products(Path(tmp) / "cold.csv", args.cold, args.seed)
            ingest_file(store, settings, cold_path, kind="products", fmt="csv", force=True)
            text = text_cold_start(store, settings, evaluate=True)
            say("\n".join(text.lines()))
            cold_rate, cold_random = cold_similar_rate(store, settings, intended)

            t0 = time.perf_counter()
            full = train_graph(store, settings, TrainConfig(**config))
            full_s = time.perf_counter() - t0
            full_recall, _ = recall_at_k(full.run_id, settings, held, touched, pseudonym)
        pop = popularity_recall(old + new, held, touched)

    new_entities = folded.total_entities

    def num(x: float | None, digits: int = 3) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f}%"

    report.table(
        f"Recall@{K} of {n_users:,} new users' held-out last purchase ({args.model}, dim {args.dim}, "
        f"{args.epochs} epochs)",
        ["method", f"recall@{K}", "seconds", "ms per new entity"],
        [
            (
                "fold-in into the base run",
                num(fold_recall),
                num(folded.seconds, 2),
                num(1000 * (folded.seconds_per_entity or 0.0), 1),
            ),
            ("full retrain", num(full_recall), num(full_s, 2), num(1000 * full_s / max(new_entities, 1), 1)),
            ("popularity", num(pop), "-", "-"),
        ],
    )
    report.table(
        "Fold-in",
        ["new entities", "per label", "triples", "steps", "train s", "write s", "total s", "ms per entity"],
        [
            (
                new_entities,
                ", ".join(f"{k} {v}" for k, v in folded.entities.items()),
                folded.triples,
                folded.steps,
                num(folded.train_seconds, 2),
                num(folded.write_seconds, 2),
                num(folded.seconds, 2),
                num(1000 * (folded.seconds_per_entity or 0.0), 1),
            )
        ],
    )
    report.table(
        "Text cold-start (same leaf category among top-10 neighbours)",
        ["set", "products", "R^2", "text vectors", "random", "trained vectors"],
        [
            (
                "held-out trained products",
                text.held_out,
                num(text.r2),
                pct(text.neighbour_rate),
                pct(text.random_rate),
                pct(text.trained_rate),
            ),
            ("title-only new products (kg similar)", text.products, "-", pct(cold_rate), pct(cold_random), "-"),
        ],
    )
    report.emit()


if __name__ == "__main__":
    main()
