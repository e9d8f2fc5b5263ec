"""The Neo4j backend against a real Neo4j 5 (runs when KG_NEO4J_URI is set; skipped otherwise)."""

from __future__ import annotations

import pytest

from ingest.event_readers import EVENT_READERS
from ingest.loaders import EventLoader, ProductLoader
from ingest.product_readers import PRODUCT_READERS
from ingest.runner import run_ingest
from ingest.synthetic import generate_shop
from kg.privacy import Pseudonymiser
from kg.settings import Settings
from kg.store import open_store

pytestmark = pytest.mark.neo4j


def test_neo4j_schema_ingest_vectors(neo4j_settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with open_store(neo4j_settings) as store:
        assert store.dialect == "neo4j" and store.version().lower().startswith("neo4j")
        store.clear()
        store.ensure_schema()
        store.ensure_schema()
        shop = generate_shop(tmp_path / "shop", users=20, products=10, events=500, seed=1)
        for kind, path, reader, loader in (
            ("products", shop.products, PRODUCT_READERS["csv"], ProductLoader()),
            ("events", shop.events, EVENT_READERS["csv"], EventLoader(Pseudonymiser.from_settings(neo4j_settings))),
        ):
            run_ingest(store, neo4j_settings, path, kind=kind, fmt="csv", reader=reader, loader=loader, force=True)
        before = store.stats()
        run_ingest(store, neo4j_settings, shop.events, kind="events", fmt="csv", reader=EVENT_READERS["csv"],
                   loader=EventLoader(Pseudonymiser.from_settings(neo4j_settings)), force=True)
        assert store.stats() == before and before["nodes"]["Product"] == 10
        store.ensure_vector_index("Product", 3)
        ids = [r["id"] for r in store.execute("MATCH (p:Product) RETURN p.id AS id ORDER BY id LIMIT 3")]
        store.set_vectors("Product", [{"key": ids[0], "vector": [1, 0, 0]}, {"key": ids[1], "vector": [0, 1, 0]},
                                      {"key": ids[2], "vector": [0, 0, 1]}])
        assert store.vector_search("Product", [0.1, 0.9, 0], 1)[0]["key"] == ids[1]
        store.clear()


def test_neo4j_whole_chain_like_the_demo(neo4j_settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Reviews, export (id-range paging), training, write-back and vector k-NN on Neo4j's dialect files."""
    from kg.demo import run_demo

    settings = neo4j_settings.model_copy(update={"home": tmp_path / "home"})
    report = run_demo(settings, users=30, products=20, events=800, reviews=150, epochs=2, progress=False,
                      say=lambda _m: None)
    assert report["backend"].lower().startswith("neo4j")
    assert report["stats"]["nodes"]["Review"] == 150 and report["stats"]["relationships"]["HAS_ASPECT"] > 0
    emb = report["embeddings"]
    assert emb["written"]["total_nodes"] > 0
    assert emb["similar"] and all(len(n) == 5 for n in emb["similar"].values())
    with open_store(settings) as store:
        store.clear()
