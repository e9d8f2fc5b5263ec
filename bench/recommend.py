"""Every recommender side by side (``kg.profiles.evaluate``), on the shared Gift Cards data and a synthetic shop.

Gift Cards: each review is a purchase and a rating event at unixReviewTime x 1000; category path =
" > ".join(category list) with its parents; brand from the metadata; also_buy pairs. Synthetic:
``kg.ingest.synthetic.generate_shop`` with ``--events`` events; ``--source clickstream`` the same generator
with ``clickstream=True`` (views >> purchases, shoppers coming back to the items they consider; ``all``:
the three shops). Per model: Recall/NDCG/hit/coverage@20,
cold-user Recall@20 (<= 2 training items), Recall@20 per slice of ``kg.profiles.evaluate.SLICES`` (users
who had bought 1, 2-4, 5+ items, or only browsed), users, seconds (fit + rank), peak RSS while it ran.
``--split`` picks the split (``live``, the default, ``leave-last-out`` or ``temporal``).

Seeds: every split is deterministic (no seed takes part in it), and so are ``popularity``, ``recent``,
``itemknn`` and ``ease``; a seed changes model fitting only: ``mf``'s and ``gnn``'s initialisation, ``kge``'s
training, ``kg``'s validation sample (beyond its cap) and its learned signals, ``transitions``' validation
sample (beyond its cap). ``--seeds 0,1,2`` fits and scores every model once per seed on the same split and
prints each figure as mean ± standard deviation over the seeds (sample deviation, 0 for one seed); ``--json``
rows carry the mean under the figure's name and the deviation under ``<figure> sd``, each seed's row under
the table's ``per_seed``. The synthetic shops are generated once, with ``--data-seed``. ``--models all``:
every model of ``kg.profiles.recommenders.MODEL_NAMES``.

Usage:
    python bench/recommend.py                              # both sources, 10^5 synthetic events, split live
    python bench/recommend.py --split leave-last-out       # the default split before the live one
    python bench/recommend.py --source gift --models popularity,itemknn,ease
    python bench/recommend.py --source clickstream --models popularity,recent,kg
    python bench/recommend.py --source synthetic --events 100000 --split temporal --json
    python bench/recommend.py --source all --models all --seeds 0,1,2   # mean ± sd over three seeds
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYSTOW_HOME", str(Path(tempfile.gettempdir()) / "kg-pystow"))
sys.path.insert(0, str(ROOT))

from kg.profiles.data import Catalogue, Interactions, ShopData  # noqa: E402

__all__ = ["load_gift_cards", "load_synthetic", "GIFT_CARDS", "spread", "parse_seeds"]

GIFT_CARDS = ROOT.parent / "shared" / "data" / "amazon_gift_cards_5core_2018"


def _category_chain(parts: list[str], parent_of: dict[str, str]) -> str | None:
    parts = [p.strip() for p in parts if p and p.strip()]
    if not parts:
        return None
    paths = [" > ".join(parts[: n + 1]) for n in range(len(parts))]
    for child, parent in zip(paths[1:], paths[:-1], strict=True):
        parent_of.setdefault(child, parent)
    return paths[-1]


def load_gift_cards(folder: Path = GIFT_CARDS) -> ShopData:
    """The Gift Cards reviews as purchase + rating events, with brand, category and also_buy metadata."""
    rows = []
    with open(folder / "Gift_Cards_5.json", encoding="utf-8") as handle:
        for line in handle:
            r = json.loads(line)
            at = int(r["unixReviewTime"]) * 1000
            rows.append((r["reviewerID"], r["asin"], "purchase", at, None))
            rows.append((r["reviewerID"], r["asin"], "rating", at, float(r["overall"])))
    interactions = Interactions.from_rows(rows)
    known = set(interactions.items)
    catalogue = Catalogue()
    with open(folder / "meta_Gift_Cards.json", encoding="utf-8") as handle:
        for line in handle:
            m = json.loads(line)
            asin = m["asin"]
            if asin not in known:
                continue
            if (m.get("brand") or "").strip():
                catalogue.brand_of[asin] = m["brand"].strip()
            leaf = _category_chain(m.get("category") or [], catalogue.parent_of)
            if leaf:
                catalogue.category_of[asin] = leaf
            catalogue.title_of[asin] = (m.get("title") or "").strip()
            catalogue.also_bought += [(asin, b) for b in m.get("also_buy") or [] if b in known]
    return ShopData(interactions, catalogue)


def load_synthetic(folder: Path) -> ShopData:
    """A shop written by ``kg.ingest.synthetic.generate_shop`` (products.csv + events.csv)."""
    catalogue = Catalogue()
    products = []
    with open(folder / "products.csv", encoding="utf-8", newline="") as handle:
        for r in csv.DictReader(handle):
            products.append(r["item_id"])
            catalogue.brand_of[r["item_id"]] = r["brand"]
            catalogue.category_of[r["item_id"]] = _category_chain(r["category"].split(" > "), catalogue.parent_of)
            catalogue.title_of[r["item_id"]] = r["title"]
    with open(folder / "events.csv", encoding="utf-8", newline="") as handle:
        rows = [
            (
                r["user_id"],
                r["item_id"],
                r["event_type"],
                int(r["timestamp"]),
                float(r["rating"]) if r["rating"] else None,
            )
            for r in csv.DictReader(handle)
        ]
    return ShopData(Interactions.from_rows(rows, items=products), catalogue)


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def spread(values: list[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (0 for one value) of the values that are not None; (None, None)
    when there are none.

    >>> spread([0.5, None, 0.7])
    (0.6, 0.141421)
    >>> spread([None])
    (None, None)
    """
    import statistics

    present = [float(v) for v in values if v is not None]
    if not present:
        return None, None
    sd = statistics.stdev(present) if len(present) > 1 else 0.0
    return round(statistics.fmean(present), 6), round(sd, 6)


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]`` (distinct, in the order given).

    >>> parse_seeds("2, 0,2")
    [2, 0]
    """
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"seeds must be integers separated by commas, got {text!r}") from e
    if not seeds:
        raise argparse.ArgumentTypeError("give at least one seed, e.g. --seeds 0,1,2")
    return list(dict.fromkeys(seeds))


def _figures() -> list[tuple[str, str]]:
    """(row key, column title) of every figure averaged over seeds."""
    from kg.profiles.evaluate import SLICES

    return [
        ("recall@20", "recall@20"),
        ("ndcg@20", "ndcg@20"),
        ("hit@20", "hit@20"),
        ("coverage@20", "coverage@20"),
        ("recall@20_cold", "cold recall@20"),
        *((f"recall@20_{name}", f"recall@20 {name}") for name in SLICES),
    ]


def _cells(runs: list[dict[str, Any]], as_json: bool) -> list[Any]:
    """One model's figures over its runs (one per seed): mean and deviation as two numbers (JSON) or one
    ``mean ± sd`` text (the deviation left out for a single seed)."""
    cells: list[Any] = []
    for key, _ in _figures():
        mean, sd = spread([run.get(key) for run in runs])
        if as_json:
            cells += [mean, sd]
        elif mean is None:
            cells.append("-")
        else:
            cells.append(f"{mean:.4f}" if len(runs) == 1 else f"{mean:.4f} ± {sd:.4f}")
    return cells


def bench_shop(label: str, shop: ShopData, models: list[str], args: argparse.Namespace, report: Any) -> None:
    """Every model of ``models`` on ``shop``, once per seed of ``args.seeds``: one table row per model."""
    from bench._common import peak_rss_mb
    from kg.profiles.evaluate import evaluate_recommenders

    rows, per_seed, last = [], {}, None
    for name in models:
        runs, peak = [], 0.0
        for seed in args.seeds:
            _reset_peak()
            last = evaluate_recommenders(
                shop, models=[name], ks=(20,), split=args.split, seed=seed, progress=report.log
            )
            row = last.rows[0]
            runs.append(row)
            peak = max(peak, peak_rss_mb())
            if row.get("error"):
                report.note(f"{label} {name} seed {seed} failed: {row['error']}")
            if row.get("weights"):
                report.note(f"{label} kg seed {seed} weights {row['weights']}; validation {row.get('validation')}")
        per_seed[name] = [
            {"seed": seed, **{key: run.get(key) for key, _ in _figures()}, "seconds": run.get("seconds")}
            for seed, run in zip(args.seeds, runs, strict=True)
        ]
        seconds, _ = spread([run.get("seconds") for run in runs])
        rows.append((name, *_cells(runs, args.json), runs[0].get("users"), seconds, round(peak, 1)))
    titles = [title for _, title in _figures()]
    columns = [c for t in titles for c in ((t, f"{t} sd") if args.json else (t,))]
    it = shop.interactions
    seeds = ",".join(str(s) for s in args.seeds)
    report.table(
        f"{label}: {it.n_users} users, {it.n_items} items, {it.n_events} events, split {args.split}, seeds {seeds}",
        ["model", *columns, "users", "seconds", "peak MB"],
        rows,
        seeds=list(args.seeds),
        per_seed=per_seed,
    )
    if last is not None:
        report.note(last.lines()[-1 - sum(1 for r in last.rows if r.get("error"))])


def main() -> None:
    from bench._common import Report, add_json_flag
    from kg.profiles.recommenders import MODEL_NAMES
    from kg.profiles.split import DEFAULT_SPLIT, SPLITS

    parser = argparse.ArgumentParser(description="recommenders side by side")
    parser.add_argument("--source", choices=("gift", "synthetic", "clickstream", "both", "all"), default="both")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=0, help="synthetic users (0: events / 20)")
    parser.add_argument("--products", type=int, default=0, help="synthetic products (0: events / 50)")
    parser.add_argument("--models", default=",".join(MODEL_NAMES), help="comma-separated, or 'all'")
    parser.add_argument("--split", choices=SPLITS, default=DEFAULT_SPLIT)
    parser.add_argument("--seeds", type=parse_seeds, default=[0], help="model seeds, e.g. 0,1,2 (mean ± sd)")
    parser.add_argument("--seed", type=int, default=None, help="one model seed (the same as --seeds N)")
    parser.add_argument("--data-seed", type=int, default=0, help="the synthetic shops' generator seed")
    add_json_flag(parser)
    args = parser.parse_args()
    if args.seed is not None:
        args.seeds = [args.seed]
    models = list(MODEL_NAMES) if args.models == "all" else [m.strip() for m in args.models.split(",") if m.strip()]
    report = Report("recommend", as_json=args.json, params=vars(args))
    if args.source in ("gift", "both", "all"):
        if (GIFT_CARDS / "Gift_Cards_5.json").is_file():
            bench_shop("Gift Cards", load_gift_cards(), models, args, report)
        else:
            report.note(f"Gift Cards data not found at {GIFT_CARDS}; skipped")
    shapes = [("synthetic", False)] if args.source in ("synthetic", "both", "all") else []
    shapes += [("clickstream", True)] if args.source in ("clickstream", "all") else []
    for label, clickstream in shapes:
        from kg.ingest.synthetic import generate_shop

        with tempfile.TemporaryDirectory(prefix="kg-bench-rec-") as tmp:
            generate_shop(
                Path(tmp),
                users=args.users or max(100, args.events // 20),
                products=args.products or max(50, args.events // 50),
                events=args.events,
                seed=args.data_seed,
                clickstream=clickstream,
            )
            shop = load_synthetic(Path(tmp))
        bench_shop(f"{label} {args.events:,} events", shop, models, args, report)
    report.emit()


if __name__ == "__main__":
    main()
