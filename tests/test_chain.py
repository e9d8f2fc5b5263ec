"""The whole chain (catalogue, events, reviews, export, training, write-back, vector k-NN) on every
configured backend through the same library call ``kg demo`` makes."""

from __future__ import annotations

import pytest

from kg.foundation.settings import Settings
from kg.operations.demo import demo_settings, run_demo
from kg.store import open_store


@pytest.mark.slow
def test_whole_chain_on_each_backend(backend_settings: Settings) -> None:
    report = run_demo(backend_settings, users=30, products=20, events=800, reviews=150, epochs=2, say=lambda _m: None)
    own = demo_settings(backend_settings)
    try:
        assert report.backend.lower().startswith(("neo4j", "falkordb"))
        assert report.stats["nodes"]["Review"] == 150 and report.stats["relationships"]["HAS_ASPECT"] > 0
        assert report.stats["nodes"]["Product"] == 20
        emb = report.embeddings
        assert emb is not None and emb["written"]["total_nodes"] > 0
        assert emb["similar"] and all(len(n) == 5 for n in emb["similar"].values())
        assert report.profiles is not None and report.profiles["recommendations"] > 0
        assert report.profile is not None and report.profile["found"] and report.profile["summary"]
        with open_store(own) as store:
            assert store.execute("MATCH (u:User)-[:IN_SEGMENT]->(:Segment) RETURN count(u) AS n") == [{"n": 30}]
            embedded = store.execute("MATCH (p:Product) WHERE p.embedding IS NOT NULL RETURN count(p) AS n")
            assert embedded == [{"n": 20}]
    finally:
        with open_store(own) as store:
            store.clear()
        if not (own.neo4j_uri or own.falkordb_url):
            from kg.store.falkordb_server import EmbeddedServer

            EmbeddedServer(own).stop()
