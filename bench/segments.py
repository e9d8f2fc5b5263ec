"""Segments on the shared Gift Cards data and synthetic shops: how many, the largest share, the users with no
signal, segments with no clear interest, and each segment's value (the lift of its top 10 over the shop's
top 10 on held-out purchases of the live split, :mod:`kg.profiles.segment_value`), with the seconds each
step takes.

Features are the users' interest vectors only (no graph, no KGE training here; ``kg profiles`` joins the
KGE user vectors to them). ``--first-level`` also shows k chosen by silhouette over 2..10 alone (no
top-down split), the rule before it.

Usage:
    python bench/segments.py                        # Gift Cards (when ../shared/data has it) + synthetic 20,000 events
    python bench/segments.py --events 1000000 --source synthetic --json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import Report, add_json_flag  # noqa: E402
from bench.recommend import GIFT_CARDS, load_gift_cards, load_synthetic  # noqa: E402


def bench_shop(name: str, shop: Any, report: Report, *, k_max: int | None = None) -> dict[str, Any]:
    import numpy as np

    from kg.profiles.interests import compute_interests
    from kg.profiles.segment_value import measure_segments
    from kg.profiles.segments import build_features, label_segments, segment_users
    from kg.profiles.threads import limited_threads

    inter = shop.interactions
    t0 = time.perf_counter()
    interests = compute_interests(shop)
    features, columns = build_features(inter.users, interests, None)
    t1 = time.perf_counter()
    with limited_threads():  # as kg profiles does: OpenMP on the free cores only
        seg = segment_users(features, users=inter.users, standardise=False, k_max=k_max)
        infos = label_segments(seg, interests)
        t2 = time.perf_counter()
        value = measure_segments(shop, features, columns, np.asarray(seg.assignment))
    t3 = time.perf_counter()
    sizes = seg.sizes
    unclear = [i for i in infos if i.label.startswith("no clear interest")]
    row = {
        "shop": name + (" (first level only)" if k_max else ""),
        "users": inter.n_users,
        "events": inter.n_events,
        "segments": seg.n_segments,
        "k_max": seg.k_max,
        "splits": len(seg.splits),
        "largest_share": round(max(sizes) / max(1, sum(sizes)), 4),
        "no_signal_users": sizes[seg.weak] if seg.weak is not None else 0,
        "no_clear_interest_users": sum(i.size for i in unclear),
        "measured": value.users,
        "sampled": value.sampled,
        "segment_hit@10": value.hit_rate,
        "global_hit@10": value.global_hit_rate,
        "lift": value.lift,
        "segments_with_lift_gt_1": sum(1 for s in value.segments.values() if (s["lift"] or 0) > 1),
        "features_s": round(t1 - t0, 2),
        "segment_s": round(t2 - t1, 2),
        "value_s": round(t3 - t2, 2),
    }
    for info in infos:
        v = value.segments.get(info.id + 1, {})
        report.note(
            f"{row['shop']} segment {info.id + 1}: {info.label} ({info.size:,} users) "
            f"lift {v.get('lift')} on {v.get('users', 0)} held-out"
        )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", choices=("gift", "synthetic", "both"), default="both")
    parser.add_argument("--events", type=int, default=20_000, help="events of the synthetic shop")
    parser.add_argument("--first-level", action="store_true", help="also k by silhouette over 2..10 alone")
    add_json_flag(parser)
    args = parser.parse_args()
    report = Report.from_args("segments", args, "source", "events", "first_level")
    shops: list[tuple[str, Any]] = []
    if args.source in ("gift", "both"):
        if (GIFT_CARDS / "Gift_Cards_5.json").is_file():
            shops.append(("Gift Cards", load_gift_cards()))
        else:
            report.note(f"Gift Cards data not found at {GIFT_CARDS}; skipped")
    if args.source in ("synthetic", "both"):
        from kg.ingest.synthetic import generate_shop

        users = max(300, args.events // 20)
        products = max(200, min(20_000, args.events // 50))
        with tempfile.TemporaryDirectory() as tmp:
            generate_shop(Path(tmp), users=users, products=products, events=args.events, seed=7)
            shops.append((f"synthetic {args.events:,} events", load_synthetic(Path(tmp))))
    rows = []
    for name, shop in shops:
        rows.append(bench_shop(name, shop, report))
        if args.first_level:
            rows.append(bench_shop(name, shop, report, k_max=10))
    if rows:
        columns = list(rows[0])
        report.table(
            "segments and their lift (interest features only)", columns, [[r[c] for c in columns] for r in rows]
        )
    report.emit()


if __name__ == "__main__":
    main()
