"""``kg demo``: the whole chain on a synthetic shop, on whatever backend is configured."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ingest.event_readers import EVENT_READERS
from ingest.loaders import EventLoader, ProductLoader
from ingest.product_readers import PRODUCT_READERS
from ingest.runner import run_ingest
from ingest.synthetic import generate_shop
from kg.privacy import Pseudonymiser
from kg.settings import Settings
from kg.store import open_store

__all__ = ["run_demo"]

logger = logging.getLogger(__name__)


def run_demo(settings: Settings, *, users: int, products: int, events: int, seed: int = 7, fresh: bool = True,
             progress: bool = True, say: Callable[[str], Any] = print) -> dict[str, Any]:
    """Generate, ingest and summarise a synthetic shop; returns a JSON-ready report."""
    shop_dir = settings.home / "demo"
    files = generate_shop(shop_dir, users=users, products=products, events=events, seed=seed)
    say(f"generated a synthetic shop in {shop_dir}: {users} users, {products} products, {events} events")
    report: dict[str, Any] = {"shop_dir": str(shop_dir), "ingest": []}
    with open_store(settings) as store:
        if fresh:
            store.clear()
        report["backend"] = store.version()
        for kind, path, fmt, reader, loader in (
            ("products", files.products, "csv", PRODUCT_READERS["csv"], ProductLoader()),
            ("events", files.events, "csv", EVENT_READERS["csv"], EventLoader(Pseudonymiser.from_settings(settings))),
        ):
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
    return report
