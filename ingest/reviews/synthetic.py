"""Seeded synthetic reviews for demos, tests and benchmarks.

Texts are built from templates (word lists in ``data/synthetic_reviews.json``) whose aspects fit
the product's top category and whose opinions follow the star rating, so the aspect aggregates and
the sentiment classifier have signal.
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

from kg.ingest.reviews.wordlists import load_json

__all__ = ["aspects_by_top", "generate_reviews", "synthetic_reviews"]

logger = logging.getLogger(__name__)


def _templates() -> dict[str, Any]:
    """The template word lists (``data/synthetic_reviews.json``)."""
    return load_json("synthetic_reviews.json")


def aspects_by_top() -> dict[str, list[str]]:
    """Aspects people write about, per top category of the synthetic shop."""
    return {top: list(aspects) for top, aspects in _templates()["aspects_by_top"].items()}


def _opinion(aspect: str, positive: bool, rng: random.Random) -> str:
    words = _templates()
    if aspect in ("delivery", "shipping"):
        return rng.choice(words["delivery_positive" if positive else "delivery_negative"])
    return rng.choice(words["positive" if positive else "negative"])


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
        return f"The {aspect} is not {rng.choice(_templates()['positive'])}."
    closing = _templates()["closing_positive" if positive else "closing_negative"]
    return f"{op.capitalize()} {aspect}, " + rng.choice(closing)


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

    ``leaves``/``brands`` (per product index, from :class:`kg.ingest.synthetic.ShopFiles`) pick aspects
    that fit each product and let some texts name the product's brand. ``pii_rate`` seeds PII
    (e-mails, phones, URLs) into that share of texts, for privacy tests.
    """
    rng = random.Random(seed)
    by_top, common = aspects_by_top(), _templates()["common_aspects"]
    tops = list(by_top)
    for _ in range(n):
        item = rng.randrange(products)
        top = leaves[item].split(" > ")[0] if leaves else tops[item % len(tops)]
        aspects = by_top.get(top, by_top["Home"]) + common
        rating = rng.choices([1, 2, 3, 4, 5], weights=[6, 6, 10, 28, 50])[0]
        p_pos = {1: 0.05, 2: 0.2, 3: 0.5, 4: 0.85, 5: 0.95}[rating]
        parts = [_sentence(a, rng.random() < p_pos, rng) for a in rng.sample(aspects, k=rng.randint(1, 3))]
        if brands and rng.random() < 0.2:
            parts.append(rng.choice([f"My second {brands[item]} purchase.", f"Typical {brands[item]}."]))
        if pii_rate and rng.random() < pii_rate:
            parts.append(rng.choice(_templates()["pii_samples"]))
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

    ``shop`` is the :class:`kg.ingest.synthetic.ShopFiles` of the generated shop: its product count,
    category leaves and brands are used so reviews fit the catalogue. ``users`` should match the
    shop's user count so review authors are the shop's users.
    """
    leaves = list(shop.leaves) if shop is not None else None
    brands = list(shop.brands) if shop is not None else None
    n_products = products or (len(leaves) if leaves else 400)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["review_id", "user_id", "item_id", "rating", "text", "timestamp"])
        writer.writeheader()
        for row in synthetic_reviews(
            n, users=users, products=n_products, leaves=leaves, brands=brands, seed=seed, pii_rate=pii_rate
        ):
            writer.writerow(row)
    logger.info("wrote %d synthetic reviews to %s", n, path)
    return path
