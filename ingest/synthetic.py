"""A seeded synthetic shop for demos and benchmarks: products, brands, a category tree and events.

Popularity is Zipf-like inside each category, every user prefers a few top categories, and the
behaviour funnel is view > cart > purchase > rating. Files are written in chunks, so 10^6+ events
take constant memory.

``clickstream=True`` shapes the events like a marketplace's click log instead: shoppers come back to
the items they are considering (a trail of about five events per shopper over up to a week, on one to
three items of one top category: views, now and then a favourite or a cart), and about one trail in eight
ends in a purchase: half of them of an item the trail looked at, half of another item of that category
(found elsewhere: a search, a shop window). Views are over 90% of the events, purchases about 2.5%, no
ratings.

>>> import tempfile
>>> files = generate_shop(Path(tempfile.mkdtemp()), users=100, products=50, events=1000, seed=1)
>>> files.events.name
'events.csv'
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["generate_shop", "ShopFiles", "TOP_CATEGORIES"]

logger = logging.getLogger(__name__)

TOP_CATEGORIES: dict[str, list[str]] = {
    "Electronics": ["Phones", "Headphones", "Cameras", "Chargers"],
    "Home": ["Kitchen", "Bedding", "Lighting", "Storage"],
    "Sports": ["Running", "Cycling", "Yoga", "Camping"],
    "Books": ["Fiction", "Cooking", "Travel", "Science"],
    "Beauty": ["Skincare", "Hair", "Fragrance", "Makeup"],
    "Toys": ["Puzzles", "Building", "Dolls", "Outdoor Play"],
}
_BRAND_STEMS = [
    "Acme",
    "Nordic",
    "Zen",
    "Orbit",
    "Pioneer",
    "Lumen",
    "Terra",
    "Vivid",
    "Atlas",
    "Nimbus",
    "Cobalt",
    "Summit",
    "Echo",
    "Maple",
    "Quartz",
    "Juniper",
    "Helix",
    "Rivet",
]
_ADJECTIVES = ["Classic", "Pro", "Mini", "Ultra", "Eco", "Smart", "Deluxe", "Compact", "Everyday", "Premium"]
_FUNNEL = (("view", 0.80), ("cart", 0.12), ("purchase", 0.06), ("rating", 0.02))
_DAY_MS = 86_400_000
#: clickstream shape: a trail's length is 1 + geometric(TRAIL_P) events (mean 1 + 1/TRAIL_P), spread over
#: up to TRAIL_DAYS days; it ends in a purchase with probability TRAIL_BUY; its other events are views,
#: favourites or carts with these probabilities
_TRAIL_P, _TRAIL_DAYS, _TRAIL_BUY = 0.25, 7, 0.12
#: a trail looks at up to this many items; a purchase is of another item of the category with this probability
_TRAIL_ITEMS, _TRAIL_ELSEWHERE = 3, 0.5
_TRAIL_KINDS = (("view", 0.93), ("favorite", 0.03), ("cart", 0.04))


@dataclass(frozen=True)
class ShopFiles:
    """Paths of a generated shop, in kg's generic CSV formats."""

    products: Path
    events: Path
    leaves: list[str]  # category path of every product, by product index
    brands: list[str]  # brand of every product, by product index


def _zipf_weights(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    rng.shuffle(weights)
    return weights / weights.sum()


def _pick_tops(rng: np.random.Generator, user_idx: np.ndarray, preferences: np.ndarray, n_tops: int) -> np.ndarray:
    """A top category per user in ``user_idx``, by the user's preferences."""
    cum = preferences[user_idx].cumsum(axis=1)
    return (rng.random(user_idx.size)[:, None] > cum).sum(axis=1).clip(max=n_tops - 1)


def _pick_in(rng: np.random.Generator, top_idx: np.ndarray, pools: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """An item per entry of ``top_idx``: Zipf within that top category's pool."""
    item_idx = np.empty(top_idx.size, dtype=np.int64)
    for t in range(len(pools)):
        mask = top_idx == t
        if mask.any():
            members, weights = pools[t]
            item_idx[mask] = rng.choice(members, size=int(mask.sum()), p=weights)
    return item_idx


def _pick_items(
    rng: np.random.Generator,
    user_idx: np.ndarray,
    preferences: np.ndarray,
    pools: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """An item per user in ``user_idx``: a top category by the user's preferences, then Zipf within it."""
    return _pick_in(rng, _pick_tops(rng, user_idx, preferences, len(pools)), pools)


def _trails(
    rng: np.random.Generator,
    size: int,
    users: int,
    activity: np.ndarray,
    preferences: np.ndarray,
    pools: list[tuple[np.ndarray, np.ndarray]],
    start_ms: int,
    days: int,
) -> list[tuple[str, str, str, int, str]]:
    """At most ``size`` clickstream rows: trails of one shopper on one item (see the module docstring)."""
    n = max(1, int(size / (1 + 1 / _TRAIL_P)))
    user_idx = rng.choice(users, size=n, p=activity)
    top_idx = _pick_tops(rng, user_idx, preferences, len(pools))
    considered = np.column_stack([_pick_in(rng, top_idx, pools) for _ in range(_TRAIL_ITEMS)])
    elsewhere = _pick_in(rng, top_idx, pools)
    width = rng.integers(1, _TRAIL_ITEMS + 1, size=n)  # how many items the trail looks at
    length = 1 + rng.geometric(_TRAIL_P, size=n)
    start = start_ms + rng.integers(0, max(1, days - _TRAIL_DAYS) * _DAY_MS // 1000, size=n) * 1000
    trail = np.repeat(np.arange(n), length)[:size]
    offset = rng.integers(0, _TRAIL_DAYS * _DAY_MS // 1000, size=trail.size) * 1000
    order = np.lexsort((offset, trail))
    trail, offset = trail[order], offset[order]
    kinds = np.array([k for k, _ in _TRAIL_KINDS])
    kind = rng.choice(kinds, size=trail.size, p=[p for _, p in _TRAIL_KINDS]).astype(object)
    item_idx = considered[trail, rng.integers(0, width[trail])]
    last = np.append(trail[1:] != trail[:-1], True)
    bought = last & (rng.random(n)[trail] < _TRAIL_BUY)
    kind[bought] = "purchase"
    other = bought & (rng.random(trail.size) < _TRAIL_ELSEWHERE)
    item_idx[other] = elsewhere[trail[other]]
    at = start[trail] + offset
    return [
        (f"U{u:07d}", f"P{i:07d}", str(k), int(t), "")
        for u, i, k, t in zip(user_idx[trail].tolist(), item_idx.tolist(), kind.tolist(), at.tolist(), strict=True)
    ]


def generate_shop(
    out_dir: Path,
    *,
    users: int = 500,
    products: int = 400,
    events: int = 20_000,
    seed: int = 7,
    start_ms: int = 1_700_000_000_000,
    days: int = 90,
    chunk: int = 200_000,
    clickstream: bool = False,
) -> ShopFiles:
    """Write ``products.csv`` and ``events.csv`` under ``out_dir``; same seed, same files. ``clickstream``:
    trails of repeated views ending now and then in a purchase (see the module docstring)."""
    if min(users, products, events) < 1:
        raise ValueError("users, products and events must be >= 1")
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    tops = list(TOP_CATEGORIES)
    leaves = [(top, sub) for top in tops for sub in TOP_CATEGORIES[top]]
    brand_names = [f"{stem} {suffix}" for stem in _BRAND_STEMS for suffix in ("Labs", "Co")]
    brands_of_top = {top: rng.choice(brand_names, size=4, replace=False).tolist() for top in tops}

    product_leaf = rng.integers(0, len(leaves), size=products)
    product_brand: list[str] = []
    product_rows = []
    for index in range(products):
        top, sub = leaves[product_leaf[index]]
        brand = str(rng.choice(brands_of_top[top]))
        product_brand.append(brand)
        title = f"{brand.split()[0]} {rng.choice(_ADJECTIVES)} {sub.rstrip('s')} {index}"
        price = round(float(rng.lognormal(3.2, 0.7)), 2)
        product_rows.append((f"P{index:07d}", title, brand, f"{top} > {sub}", f"{price:.2f}"))
    products_path = out_dir / "products.csv"
    with open(products_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "title", "brand", "category", "price"])
        writer.writerows(product_rows)

    # per-top-category product pools with Zipf popularity
    pools: list[tuple[np.ndarray, np.ndarray]] = []
    for top_index in range(len(tops)):
        members = np.flatnonzero(np.array([leaves[leaf][0] == tops[top_index] for leaf in product_leaf]))
        if members.size == 0:
            members = np.arange(products)
        pools.append((members, _zipf_weights(members.size, 1.1, rng)))
    preferences = rng.dirichlet(np.full(len(tops), 0.3), size=users)
    activity = _zipf_weights(users, 0.8, rng)
    kinds = np.array([k for k, _ in _FUNNEL])
    kind_p = np.array([p for _, p in _FUNNEL])

    events_path = out_dir / "events.csv"
    with open(events_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "event_type", "timestamp", "rating"])
        written = 0
        while clickstream and written < events:
            trails = _trails(rng, min(chunk, events - written), users, activity, preferences, pools, start_ms, days)
            writer.writerows(trails)
            written += len(trails)
        while written < events:
            size = min(chunk, events - written)
            user_idx = rng.choice(users, size=size, p=activity)
            item_idx = _pick_items(rng, user_idx, preferences, pools)
            kind = rng.choice(kinds, size=size, p=kind_p)
            at = start_ms + rng.integers(0, days * _DAY_MS // 1000, size=size) * 1000
            stars = rng.choice([1, 2, 3, 4, 5], size=size, p=[0.05, 0.07, 0.13, 0.3, 0.45])
            for u, i, k, t_ms, s in zip(
                user_idx.tolist(), item_idx.tolist(), kind.tolist(), at.tolist(), stars.tolist(), strict=False
            ):
                writer.writerow((f"U{u:07d}", f"P{i:07d}", k, t_ms, s if k == "rating" else ""))
            written += size
    logger.info("synthetic shop: %d users, %d products, %d events in %s", users, products, events, out_dir)
    return ShopFiles(
        products=products_path,
        events=events_path,
        leaves=[f"{leaves[leaf][0]} > {leaves[leaf][1]}" for leaf in product_leaf],
        brands=product_brand,
    )
