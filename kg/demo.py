"""``kg demo``: the whole chain on a synthetic shop, on whatever backend is configured."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ingest.event_readers import EVENT_READERS
from ingest.loaders import EventLoader, ProductLoader
from ingest.product_readers import PRODUCT_READERS
from ingest.reviews.loader import ReviewLoader
from ingest.reviews.readers import REVIEW_READERS
from ingest.reviews.synthetic import generate_reviews
from ingest.runner import run_ingest
from ingest.synthetic import generate_shop
from kg.privacy import Pseudonymiser
from kg.settings import Settings
from kg.store import open_store

__all__ = ["run_demo"]

logger = logging.getLogger(__name__)


def run_demo(settings: Settings, *, users: int, products: int, events: int, reviews: int = 2000, epochs: int = 20,
             seed: int = 7, fresh: bool = True, progress: bool = True,
             say: Callable[[str], Any] = print) -> dict[str, Any]:
    """Generate a synthetic shop, ingest catalogue, events and reviews, train embeddings, show results.

    ``reviews=0`` skips the review step and ``epochs=0`` the embedding step. Returns a JSON-ready report.
    """
    from embeddings.api import demo_embeddings  # imports torch: only when the demo runs

    shop_dir = settings.home / "demo"
    files = generate_shop(shop_dir, users=users, products=products, events=events, seed=seed)
    say(f"generated a synthetic shop in {shop_dir}: {users} users, {products} products, {events} events, "
        f"{reviews} reviews")
    pseudonymiser = Pseudonymiser.from_settings(settings)
    steps: list[tuple[str, Any, str, Any, Any]] = [
        ("products", files.products, "csv", PRODUCT_READERS["csv"], ProductLoader()),
        ("events", files.events, "csv", EVENT_READERS["csv"], EventLoader(pseudonymiser)),
    ]
    if reviews:
        reviews_path = generate_reviews(shop_dir / "reviews.csv", n=reviews, shop=files, users=users, seed=seed)
        steps.append(("reviews", reviews_path, "csv", REVIEW_READERS["csv"],
                      ReviewLoader(settings, pseudonymiser=pseudonymiser)))
    report: dict[str, Any] = {"shop_dir": str(shop_dir), "ingest": []}
    with open_store(settings) as store:
        if fresh:
            store.clear()
        report["backend"] = store.version()
        for kind, path, fmt, reader, loader in steps:
            summary = run_ingest(store, settings, path, kind=kind, fmt=fmt, reader=reader, loader=loader,
                                 force=True)
            say(f"ingested {kind}: {summary.rows_ok} rows in {summary.seconds:.1f} s")
            report["ingest"].append(summary.as_dict())
        report["stats"] = store.stats()
        top = store.query("top_products", limit=5)
        report["top_products"] = top
        say(f"graph: {report['stats']}")
        for row in top:
            say(f"  top product {row['id']} {row['title']!r}: {row['buyers']} buyers")
        if reviews and top:
            aspects = store.query("reviews_top_aspects", id=top[0]["id"], limit=5)
            report["top_aspects"] = {top[0]["id"]: aspects}
            say(f"  aspects of {top[0]['id']}: " + ", ".join(
                f"{a['aspect']} ({a['mentions']}x, score {a['score']:+.2f})" for a in aspects))
        if epochs:
            report["embeddings"] = demo_embeddings(store, settings, epochs=epochs, dim=32, seed=seed, k=5,
                                                   progress=progress, say=say)
    return report
