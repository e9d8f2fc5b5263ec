"""Seeded synthetic reviews for demos, tests and benchmarks.

Texts are built from templates whose aspects fit the product's top category and whose opinions
follow the star rating, so the aspect aggregates and the sentiment classifier have signal.
Columns match ``kg ingest reviews --format csv``.

Example (what ``kg demo`` does after generating the shop):
    >>> files = generate_shop(shop_dir, users=300, products=200, events=20_000, seed=7)      # doctest: +SKIP
    >>> path = generate_reviews(shop_dir / "reviews.csv", shop=files, n=2000, users=300, seed=7)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import logging
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["generate_reviews", "synthetic_reviews", "ASPECTS_BY_TOP"]

logger = logging.getLogger(__name__)

#: aspects people write about, per top category of the LEAD's synthetic shop
ASPECTS_BY_TOP: dict[str, list[str]] = {
    "Electronics": ["battery life", "screen", "sound quality", "charger", "battery", "build quality"],
    "Home": ["quality", "size", "material", "design", "color"],
    "Sports": ["comfort", "durability", "size", "material", "grip"],
    "Books": ["story", "print", "paper", "cover", "writing"],
    "Beauty": ["smell", "texture", "packaging", "bottle", "scent"],
    "Toys": ["quality", "instructions", "design", "pieces", "colors"],
}
_COMMON = ["delivery", "price", "packaging", "shipping", "seller", "box"]
_POS = ["great", "excellent", "nice", "perfect", "solid", "lovely", "amazing", "good"]
_NEG = ["terrible", "poor", "awful", "bad", "disappointing", "flimsy", "horrible", "cheap"]
_DELIVERY_POS, _DELIVERY_NEG = ["fast", "quick", "prompt"], ["slow", "late", "delayed"]
_PII_SAMPLES = ["Contact me at someone@example.com.", "Call 555-201-3344 if needed.",
                "Details on www.example.org/deal."]


def _opinion(aspect: str, positive: bool, rng: random.Random) -> str:
    if aspect in ("delivery", "shipping"):
        return rng.choice(_DELIVERY_POS if positive else _DELIVERY_NEG)
    return rng.choice(_POS if positive else _NEG)


def _sentence(aspect: str, positive: bool, rng: random.Random) -> str:
    op = _opinion(aspect, positive, rng)
    form = rng.randrange(5)
    if form == 0:
        return f"{op.capitalize()} {aspect}."
    if form == 1:
        return f"The {aspect} is {op}."
    if form == 2:
        return f"The {aspect} was really {op}."
    if form == 3 and positive:
        return f"I love the {aspect}."
    if form == 3:
        return f"The {aspect} is not {rng.choice(_POS)}."
    return f"{op.capitalize()} {aspect}, " + rng.choice(["would buy again.", "as expected.", "no complaints."]
                                                      if positive else ["would not buy again.", "sadly.",
                                                                        "what a shame."])


def synthetic_reviews(
    n: int,
    *,
    users: int = 500,
    products: int = 400,
    leaves: Sequence[str] | None = None,
    brands: Sequence[str] | None = None,
    seed: int = 7,
    start_ms: int = 1_700_000_000_000,
    days: int = 90,
    pii_rate: float = 0.0,
) -> Iterator[dict[str, Any]]:
    """``n`` review rows ``{review_id, user_id, item_id, rating, text, timestamp}`` (same seed, same rows).

    ``leaves``/``brands`` (per product index, from :class:`ingest.synthetic.ShopFiles`) pick aspects
    that fit each product and let some texts name the product's brand. ``pii_rate`` seeds PII
    (e-mails, phones, URLs) into that share of texts, for privacy tests.
    """
    rng = random.Random(seed)
    tops = list(ASPECTS_BY_TOP)
    for _ in range(n):
        item = rng.randrange(products)
        top = leaves[item].split(" > ")[0] if leaves else tops[item % len(tops)]
        aspects = ASPECTS_BY_TOP.get(top, ASPECTS_BY_TOP["Home"]) + _COMMON
        rating = rng.choices([1, 2, 3, 4, 5], weights=[6, 6, 10, 28, 50])[0]
        p_pos = {1: 0.05, 2: 0.2, 3: 0.5, 4: 0.85, 5: 0.95}[rating]
        parts = [_sentence(a, rng.random() < p_pos, rng) for a in rng.sample(aspects, k=rng.randint(1, 3))]
        if brands and rng.random() < 0.2:
            parts.append(rng.choice([f"My second {brands[item]} purchase.", f"Typical {brands[item]}."]))
        if pii_rate and rng.random() < pii_rate:
            parts.append(rng.choice(_PII_SAMPLES))
        yield {
            "review_id": "",
            "user_id": f"U{rng.randrange(users):07d}",
            "item_id": f"P{item:07d}",
            "rating": rating,
            "text": " ".join(parts),
            "timestamp": start_ms + rng.randrange(days * 86_400) * 1000,
        }


def generate_reviews(
    path: Path,
    *,
    n: int = 2000,
    shop: Any = None,
    users: int = 500,
    products: int | None = None,
    seed: int = 7,
    pii_rate: float = 0.0,
) -> Path:
    """Write ``n`` synthetic reviews as CSV to ``path`` (for ``kg ingest reviews --format csv``).

    ``shop`` is the :class:`ingest.synthetic.ShopFiles` of the generated shop: its product count,
    category leaves and brands are used so reviews fit the catalogue. ``users`` should match the
    shop's user count so review authors are the shop's users.
    """
    leaves = list(shop.leaves) if shop is not None else None
    brands = list(shop.brands) if shop is not None else None
    n_products = products or (len(leaves) if leaves else 400)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["review_id", "user_id", "item_id", "rating", "text",
                                                    "timestamp"])
        writer.writeheader()
        for row in synthetic_reviews(n, users=users, products=n_products, leaves=leaves, brands=brands,
                                     seed=seed, pii_rate=pii_rate):
            writer.writerow(row)
    logger.info("wrote %d synthetic reviews to %s", n, path)
    return path
