"""Similar items measured: which item-item similarity finds the products bought together, on the shared Gift
Cards data and a synthetic shop.

Split: every user with at least 2 distinct bought items (``kg.profiles.data.POSITIVE_TYPES``) has the item
bought last held out (the one whose first purchase is the newest); everything else is training. The truth
of an item i is the set of items j such that some user bought i in training and j held out, or the other way
round. Every item with a truth set is scored: its 10 most similar other products by

- ``popular``: the reference, the most bought products whatever the item;
- ``cooccur``: cosine of the items' columns of the training user x item purchase matrix;
- ``kge``: cosine of the product vectors of a PyKEEN model (``--kge-model``, TransE as ``kg embed train``)
  trained in-process on the training triples, built as ``kg.profiles.recommenders.kge.build_triples`` does
  (PURCHASED, RATED, HAS_BRAND, IN_CATEGORY, SUBCATEGORY_OF, ALSO_BOUGHT), through
  ``kg.embeddings.train.train_triples``; at most ``--kge-passes`` triples are processed (the time box);
- ``text``: cosine of MiniLM vectors (``kg.foundation.text_encoder.MiniLMEncoder``) of
  "title. brand. leaf category";
- ``cooccur+text`` and ``blend`` (all three): the mean of each method's percentile ranks per item (over the
  candidates, ties averaged); a method with no vector for the item (no training purchase, no KGE entity)
  is left out of its mean, so ``cooccur`` falls back to the others.

Per method: hit@10 (share of scored items whose top 10 holds a truth item), recall@10 (truth items found /
min(10, truth size), averaged), category@10 (share of the top 10 in the item's leaf category, over items with
one), answered (share of scored items given any neighbour), catalogue@10 (share of all products that appear
in some top 10), seconds (fit + rank). Gift Cards also prints the Starbucks card's (``--example``) top 5.

Usage:
    python bench/similar.py                                  # Gift Cards and a 10^5-event synthetic shop
    python bench/similar.py --source gift --example B00AR51Y5I
    python bench/similar.py --source synthetic --events 100000 --json
    python bench/similar.py --methods cooccur,text,cooccur+text  # skip the KGE training
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYSTOW_HOME", str(Path(tempfile.gettempdir()) / "kg-pystow"))
sys.path.insert(0, str(ROOT))

from bench.recommend import GIFT_CARDS, load_gift_cards, load_synthetic  # noqa: E402
from kg.profiles.data import POSITIVE_TYPES, Interactions, ShopData  # noqa: E402

__all__ = [
    "METHODS",
    "Split",
    "split_last_item",
    "popularity_similarity",
    "cooccurrence_similarity",
    "kge_similarity",
    "text_similarity",
    "blend",
    "top_k",
    "score_lists",
    "main",
]

logger = logging.getLogger(__name__)

#: every method, in table order
METHODS: tuple[str, ...] = ("popular", "cooccur", "kge", "text", "cooccur+text", "blend")
#: the neighbours scored per item
K = 10


@dataclass
class Split:
    """Training events and, per item index, the items co-purchased with it across the held-out pairs."""

    train: Interactions
    truth: dict[int, set[int]] = field(default_factory=dict)
    held_out: int = 0


def split_last_item(events: Interactions) -> Split:
    """Hold out each user's last newly bought item (users with >= 2 distinct bought items).

    >>> ev = Interactions.from_rows([("u", "a", "purchase", 1, None), ("u", "b", "purchase", 2, None)])
    >>> s = split_last_item(ev)
    >>> s.train.n_events, {ev.items[i]: sorted(ev.items[j] for j in t) for i, t in s.truth.items()}
    (1, {'a': ['b'], 'b': ['a']})
    """
    bought = events.type_mask(POSITIVE_TYPES)
    first: dict[tuple[int, int], int] = {}
    for u, i, at in zip(
        events.user[bought].tolist(), events.item[bought].tolist(), events.at[bought].tolist(), strict=True
    ):
        first[(u, i)] = min(at, first.get((u, i), at))
    per_user: dict[int, list[tuple[int, int]]] = {}
    for (u, i), at in first.items():
        per_user.setdefault(u, []).append((at, i))
    held: dict[int, int] = {}
    truth: dict[int, set[int]] = {}
    for u, seen in per_user.items():
        if len(seen) < 2:
            continue
        seen.sort()
        last = seen[-1][1]
        held[u] = last
        for _, i in seen[:-1]:
            truth.setdefault(i, set()).add(last)
            truth.setdefault(last, set()).add(i)
    keys = np.asarray([u * events.n_items + i for u, i in held.items()], dtype=np.int64)
    pair = events.user.astype(np.int64) * events.n_items + events.item
    return Split(events.subset(~np.isin(pair, keys)), truth, len(held))


def _normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _cosine(vectors: np.ndarray, present: np.ndarray) -> np.ndarray:
    """items x items cosine of ``vectors``; rows and columns of items not ``present`` are NaN."""
    x = _normalise(np.asarray(vectors, dtype=np.float32))
    sims = x @ x.T
    sims[~present, :] = np.nan
    sims[:, ~present] = np.nan
    return sims


def popularity_similarity(shop: ShopData, train: Interactions) -> np.ndarray:
    """The reference: every item's neighbours are the most bought products (training buyers), whatever it is."""
    buyers = np.asarray(train.matrix(POSITIVE_TYPES).sum(axis=0), dtype=np.float32).ravel()
    return np.tile(buyers, (train.n_items, 1))


def cooccurrence_similarity(shop: ShopData, train: Interactions) -> np.ndarray:
    """Cosine of the item columns of the training user x item purchase matrix (NaN: never bought)."""
    matrix = train.matrix(POSITIVE_TYPES).T.tocsr().astype(np.float32)
    present = np.asarray(matrix.getnnz(axis=1) > 0)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scaled = matrix.multiply(1.0 / np.maximum(norms, 1e-12)[:, None]).tocsr()
    sims = np.asarray((scaled @ scaled.T).todense(), dtype=np.float32)
    sims[~present, :] = np.nan
    sims[:, ~present] = np.nan
    return sims


def kge_similarity(
    shop: ShopData, train: Interactions, *, model: str = "TransE", passes: int = 1_000_000, seed: int = 0
) -> np.ndarray:
    """Cosine of product vectors of a PyKEEN ``model`` trained on the training triples, as kg trains them
    (``kg.embeddings.train.train_triples``, 64 dimensions, no early stopping, at most ``passes`` triples)."""
    import torch

    from kg.embeddings.config import TrainConfig
    from kg.embeddings.train import make_factory, train_triples
    from kg.profiles.recommenders.kge import build_triples

    triples = build_triples(shop, train)
    factory = make_factory(triples)
    order = torch.randperm(factory.num_triples, generator=torch.Generator().manual_seed(seed))[:64]
    sample = factory.clone_and_exchange_triples(mapped_triples=factory.mapped_triples[order])
    epochs = max(1, min(100, passes // max(factory.num_triples, 1)))
    config = TrainConfig(
        model=model, dim=64, epochs=epochs, batch_size=256, lr=0.01, seed=seed, device="cpu", early_stopping=False
    )
    config.eval_max = 64
    with tempfile.TemporaryDirectory(prefix="kg-bench-similar-") as tmp:
        run = train_triples(triples, config, runs_dir=Path(tmp), presplit=(factory, sample, sample))
    logger.info("kge: %s, %d triples, %d epochs", config.model, factory.num_triples, epochs)
    ids = run.entity_to_id
    vectors = np.zeros((train.n_items, run.entity_embeddings.shape[1]), dtype=np.float32)
    present = np.zeros(train.n_items, dtype=bool)
    for i, item in enumerate(train.items):
        row = ids.get(f"Product:{item}")
        if row is not None:
            vectors[i], present[i] = run.entity_embeddings[row], True
    return _cosine(vectors, present)


def item_text(shop: ShopData, item: str) -> str:
    """What the text encoder reads for a product: "title. brand. leaf category" (empty parts left out)."""
    cat = shop.catalogue
    leaf = (cat.category_of.get(item) or "").split(" > ")[-1]
    return ". ".join(p for p in (cat.title_of.get(item), cat.brand_of.get(item), leaf) if p)


def text_similarity(shop: ShopData, train: Interactions) -> np.ndarray:
    """Cosine of the MiniLM vectors of every product's text (NaN: a product with no text)."""
    from kg.foundation.text_encoder import MiniLMEncoder

    texts = [item_text(shop, item) for item in train.items]
    present = np.asarray([bool(t) for t in texts])
    vectors = MiniLMEncoder(cache=False).encode([t or "-" for t in texts])
    return _cosine(vectors, present)


def _percentiles(sims: np.ndarray) -> np.ndarray:
    """Each row's scores as percentile ranks over its candidates (1: best, ties averaged, the diagonal left
    out); NaN where the row or candidate has no score."""
    from scipy.stats import rankdata

    s = sims.astype(np.float64, copy=True)
    np.fill_diagonal(s, np.nan)
    ranks = rankdata(s, axis=1, method="average", nan_policy="omit")
    counts = np.sum(~np.isnan(s), axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isnan(s), np.nan, ranks / np.maximum(counts, 1))


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's "mean of empty slice" warnings (rows with no scores)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def blend(*similarities: np.ndarray) -> np.ndarray:
    """The mean of the similarities' percentile ranks per row; a method with no score for an item drops out of
    that item's mean (NaN where no method has one)."""
    stacked = np.stack([_percentiles(s) for s in similarities])
    with _quiet():
        return np.nanmean(stacked, axis=0)


def top_k(sims: np.ndarray, row: int, k: int = K) -> list[int]:
    """The ``k`` best-scored other items of ``row`` (NaN scores never; fewer when fewer have a score)."""
    scores = sims[row].astype(np.float64, copy=True)
    scores[row] = np.nan
    valid = np.flatnonzero(~np.isnan(scores))
    if not valid.size:
        return []
    best = valid[np.argsort(-scores[valid], kind="stable")[:k]]
    return best.tolist()


def score_lists(shop: ShopData, split: Split, sims: np.ndarray, k: int = K) -> dict[str, float]:
    """hit@k, recall@k, category@k, answered and catalogue@k of the top ``k`` of every item with a truth."""
    items = split.train.items
    category = shop.catalogue.category_of
    hits, recalls, agree, answered, shown = [], [], [], 0, set()
    for row, truth in split.truth.items():
        top = top_k(sims, row, k)
        answered += bool(top)
        shown.update(top)
        found = len(truth.intersection(top))
        hits.append(found > 0)
        recalls.append(found / min(k, len(truth)))
        leaf = category.get(items[row])
        if leaf and top:
            agree.append(sum(category.get(items[j]) == leaf for j in top) / len(top))
    n = max(len(split.truth), 1)
    return {
        "hit@10": float(np.mean(hits)) if hits else 0.0,
        "recall@10": float(np.mean(recalls)) if recalls else 0.0,
        "category@10": float(np.mean(agree)) if agree else 0.0,
        "answered": answered / n,
        "catalogue@10": len(shown) / max(len(items), 1),
    }


def _similarities(
    shop: ShopData, train: Interactions, methods: list[str], args: argparse.Namespace, report: Any
) -> dict[str, tuple[np.ndarray, float]]:
    """(items x items similarity, seconds) of each method asked for (and of the ones a blend needs)."""
    base: dict[str, Callable[[], np.ndarray]] = {
        "popular": lambda: popularity_similarity(shop, train),
        "cooccur": lambda: cooccurrence_similarity(shop, train),
        "kge": lambda: kge_similarity(shop, train, model=args.kge_model, passes=args.kge_passes, seed=args.seed),
        "text": lambda: text_similarity(shop, train),
    }
    parts = {"cooccur+text": ("cooccur", "text"), "blend": ("cooccur", "kge", "text")}
    needed = list(dict.fromkeys(m for name in methods for m in parts.get(name, (name,))))
    out: dict[str, tuple[np.ndarray, float]] = {}
    for name in needed:
        report.log(f"  {name} ...")
        started = time.perf_counter()
        try:
            out[name] = (base[name](), time.perf_counter() - started)
        except Exception as e:  # a method that cannot run (missing model, diverged training) is reported
            report.note(f"{name} skipped: {type(e).__name__}: {e}")
    for name, members in parts.items():
        if name in methods and all(m in out for m in members):
            started = time.perf_counter()
            sims = blend(*(out[m][0] for m in members))
            out[name] = (sims, time.perf_counter() - started + sum(out[m][1] for m in members))
    return {name: out[name] for name in methods if name in out}


def _examples(label: str, shop: ShopData, sims: dict[str, tuple[np.ndarray, float]], item: str, report: Any) -> None:
    """The top 5 of ``item`` by every method, with titles, as a table."""
    row = shop.interactions.item_index.get(item)
    if row is None:
        return
    title = shop.catalogue.title_of
    rows = []
    for name, (matrix, _) in sims.items():
        for rank, j in enumerate(top_k(matrix, row, 5), start=1):
            other = shop.interactions.items[j]
            rows.append((name, rank, other, (title.get(other) or "")[:60], round(float(matrix[row, j]), 3)))
    report.table(
        f"{label}: top 5 similar to {item} ({title.get(item, '')[:50]})", ["method", "#", "id", "title", "score"], rows
    )


def bench_shop(label: str, shop: ShopData, methods: list[str], args: argparse.Namespace, report: Any) -> None:
    """Every method of ``methods`` on ``shop``: one table row per method."""
    split = split_last_item(shop.interactions)
    report.log(f"{label}: {split.held_out} held-out purchases, {len(split.truth)} items with a truth set")
    sims = _similarities(shop, split.train, methods, args, report)
    rows = []
    for name, (matrix, seconds) in sims.items():
        figures = score_lists(shop, split, matrix)
        rows.append((name, *(round(v, 4) for v in figures.values()), round(seconds, 2)))
    it = shop.interactions
    columns = ["method", "hit@10", "recall@10", "category@10", "answered", "catalogue@10", "seconds"]
    title = (
        f"{label}: {it.n_users} users, {it.n_items} items, {split.held_out} held out, {len(split.truth)} items scored"
    )
    report.table(title, columns, rows)
    if rows:
        best = max(rows, key=lambda r: (r[1], r[2]))
        report.note(f"{label}: best hit@10 {best[0]} ({best[1]:.4f})")
    if args.example:
        _examples(label, shop, sims, args.example, report)


def _print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """``bench._common.print_table`` with fractions to 4 decimals (its default keeps 1)."""
    from bench._common import print_table

    print_table(title, columns, [[f"{v:.4f}" if isinstance(v, float) else v for v in row] for row in rows])


def _parser() -> argparse.ArgumentParser:
    from bench._common import add_json_flag

    parser = argparse.ArgumentParser(description="item-item similarity measured against held-out co-purchases")
    parser.add_argument("--source", choices=("gift", "synthetic", "both"), default="both")
    parser.add_argument("--events", type=int, default=100_000, help="synthetic events")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated of {', '.join(METHODS)}")
    parser.add_argument("--kge-model", default="TransE", help="PyKEEN model (kg embed train's default: TransE)")
    parser.add_argument("--kge-passes", type=int, default=1_000_000, help="KGE time box: triples processed")
    parser.add_argument("--seed", type=int, default=0, help="KGE seed and synthetic generator seed")
    parser.add_argument("--example", default="B00AR51Y5I", help="product whose top 5 is shown ('' for none)")
    add_json_flag(parser)
    return parser


def main() -> None:
    from bench._common import Report

    args = _parser().parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise SystemExit(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    params = {k: v for k, v in vars(args).items() if k != "json"}
    report = Report("similar", as_json=args.json, params=params, printer=_print_table)
    if args.source in ("gift", "both"):
        if (GIFT_CARDS / "Gift_Cards_5.json").is_file():
            bench_shop("Gift Cards", load_gift_cards(), methods, args, report)
        else:
            report.note(f"Gift Cards data not found at {GIFT_CARDS}; skipped")
    if args.source in ("synthetic", "both"):
        from kg.ingest.synthetic import generate_shop

        with tempfile.TemporaryDirectory(prefix="kg-bench-similar-") as tmp:
            generate_shop(
                Path(tmp),
                users=max(100, args.events // 20),
                products=max(50, args.events // 50),
                events=args.events,
                seed=args.seed,
            )
            shop = load_synthetic(Path(tmp))
        bench_shop(f"synthetic {args.events:,} events", shop, methods, args, report)
    report.emit()


if __name__ == "__main__":
    main()
