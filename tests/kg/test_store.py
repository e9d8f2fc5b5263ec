"""The graph store on every configured backend (``any_store``: FalkorDB always, Neo4j when KG_NEO4J_URI is
set): queries, batched writes, schema, vectors, read-only access, plans; durability of the embedded server."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.foundation.errors import ConfigError, QueryError
from kg.foundation.settings import Settings
from kg.ingest.cypher import PRODUCTS_MERGE, RELATIONSHIP_COUNT
from kg.store import GraphStore, open_store, queries
from kg.store.cypher import (
    SCHEMA_CONSTRAINTS,
    SCHEMA_INDEXES,
    SCHEMA_UNIQUE,
    SERVER_VERSION,
    VECTOR_INDEX_CREATE,
    VECTOR_INDEX_DROP,
    VECTOR_INDEX_OPTIONS,
)
from kg.store.falkordb_server import EmbeddedServer


def test_write_batches_and_stats(any_store: GraphStore) -> None:
    store = any_store
    rows = [{"id": f"p{i}", "props": {"title": f"t{i}"}} for i in range(1234)]
    assert store.write(PRODUCTS_MERGE, rows, batch_size=100) == 1234
    assert store.write(PRODUCTS_MERGE, rows, batch_size=1000) == 1234  # idempotent
    assert store.stats() == {"nodes": {"Product": 1234}, "relationships": {}}


def test_schema_is_idempotent_and_enforces_uniqueness(any_store: GraphStore) -> None:
    store = any_store
    store.ensure_schema()
    store.ensure_schema()
    store.execute("CREATE (:User {id: 'u1'})")
    with pytest.raises(QueryError):
        store.execute("CREATE (:User {id: 'u1'})")


def test_identifiers_are_escaped_against_an_allow_list() -> None:
    assert queries.ident("PURCHASED") == "`PURCHASED`"
    with pytest.raises(ConfigError):
        queries.ident("X`]->() DETACH DELETE n //")


def test_every_cypher_file_has_a_header() -> None:
    root = Path(__file__).resolve().parents[2]
    files = sorted(p for folder in ("kg", "ingest", "embeddings", "cypher") for p in (root / folder).rglob("*.cypher"))
    assert len(files) > 40
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"// name: {path.stem}"), path
        assert "// returns:" in text, path


def test_backend_only_queries_resolve_for_their_dialect() -> None:
    for query in (SCHEMA_INDEXES, SCHEMA_CONSTRAINTS, VECTOR_INDEX_CREATE, VECTOR_INDEX_DROP):
        assert queries.load(query, "falkordb").startswith(f"// name: {query.name} (FalkorDB)")
    for query in (SCHEMA_UNIQUE, VECTOR_INDEX_CREATE, VECTOR_INDEX_OPTIONS, SERVER_VERSION):
        assert queries.load(query, "neo4j").startswith(f"// name: {query.name} (Neo4j)")
    with pytest.raises(ConfigError, match="no neo4j version"):
        queries.load(SCHEMA_INDEXES, "neo4j")
    text = queries.render(VECTOR_INDEX_CREATE, "neo4j", index="product_embedding", label="Product", prop="embedding")
    assert "CREATE VECTOR INDEX `product_embedding` IF NOT EXISTS FOR (n:`Product`) ON n.`embedding`" in text
    assert "`vector.dimensions`: $dim" in text
    # the exact renders the Neo4j backend makes (its server cases run on the session's Neo4j)
    assert queries.render(SCHEMA_UNIQUE, "neo4j", constraint="user_id_unique", label="User", key="id").endswith(
        "CREATE CONSTRAINT `user_id_unique` IF NOT EXISTS FOR (n:`User`) REQUIRE n.`id` IS UNIQUE\n"
    )
    assert queries.render(VECTOR_INDEX_DROP, "neo4j", index="product_embedding").endswith(
        "DROP INDEX `product_embedding` IF EXISTS\n"
    )


def test_vectors_nearest_neighbour_and_overwrite(any_store: GraphStore) -> None:
    store = any_store
    store.execute("UNWIND range(1, 4) AS i CREATE (:Product {id: toString(i)})")
    store.ensure_vector_index("Product", 3)
    store.set_vectors(
        "Product",
        [
            {"key": "1", "vector": [1, 0, 0], "props": {"embedding_run": "a"}},
            {"key": "2", "vector": [0, 1, 0]},
            {"key": "3", "vector": [0, 0, 1]},
        ],
    )
    hits = store.vector_search("Product", [0.9, 0.1, 0], 2)
    assert [h["key"] for h in hits] == ["1", "2"]
    assert hits[0]["score"] == pytest.approx(0.994, abs=0.01)
    # overwriting with a same-size vector must take effect (FalkorDB ignores it unless nulled first)
    store.set_vectors("Product", [{"key": "3", "vector": [1, 0.05, 0]}])
    # every vector is now orthogonal to [0, 0, 1] (a tie at cosine 0, won by any node): the old one scored 1
    assert store.vector_search("Product", [0, 0, 1], 1)[0]["score"] == pytest.approx(0.0, abs=0.01)
    assert store.vector_search("Product", [1, 0.05, 0], 1)[0]["key"] == "3"
    store.ensure_vector_index("Product", 3)  # idempotent


def test_server_survives_kill_9(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path / "h", pseudonym_key="k")
    server = EmbeddedServer(settings)
    server.start()
    try:
        with open_store(settings) as store:
            store.write(PRODUCTS_MERGE, [{"id": f"p{i}", "props": {}} for i in range(500)])
        server.kill()
        assert not server.is_running()
        with open_store(settings) as store:  # restarts it
            assert store.stats()["nodes"]["Product"] == 500
        assert server.is_running()
        status = server.status()
        assert status["running"] and status["unix_socket"]
        assert oct((settings.db_dir / "password").stat().st_mode)[-3:] == "600"
    finally:
        server.stop()
    assert not server.is_running()


def test_start_failure_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kg.foundation.errors import ServerError

    settings = Settings(home=tmp_path / "h", falkordb_port=1)  # port 1 needs root? bind may fail or not
    server = EmbeddedServer(settings)
    (settings.db_dir).mkdir(parents=True)
    (settings.db_dir / "appendonlydir").write_text("not a directory")  # corrupt persistence
    with pytest.raises(ServerError, match="exited at start|did not answer"):
        server.start(timeout=5)


def test_pipelined_writes_apply_in_order_and_surface_errors(any_store: GraphStore) -> None:
    """Batched writes may still run when write() returns: reads see them, failures are not lost."""
    store = any_store
    store.ensure_schema()
    rows = [{"id": f"p{i}", "props": {"title": f"t{i}"}} for i in range(50)]
    assert store.write(PRODUCTS_MERGE, rows, batch_size=7) == 50
    later = [{"id": f"p{i}", "props": {"title": "second"}} for i in range(50)]
    store.write(PRODUCTS_MERGE, later, batch_size=7)
    found = store.execute("MATCH (p:Product) RETURN count(p) AS n, collect(DISTINCT p.title) AS titles")[0]
    assert found == {"n": 50, "titles": ["second"]}  # the later batches applied after the earlier ones
    with pytest.raises(QueryError):
        store.write(PRODUCTS_MERGE, [{"id": None, "props": {}}])  # MERGE on a null key fails
        store.flush()
    assert store.execute("MATCH (p:Product) RETURN count(p) AS n")[0]["n"] == 50  # still usable


def test_named_queries_take_identifiers(any_store: GraphStore) -> None:
    any_store.execute("CREATE (:User {id: 'u'})-[:VIEWED {count: 2}]->(:Product {id: 'p'})")
    assert any_store.query(RELATIONSHIP_COUNT, identifiers={"rel": "VIEWED"}) == [{"n": 1}]
    assert any_store.query(RELATIONSHIP_COUNT, identifiers={"rel": "PURCHASED"}) == [{"n": 0}]
    with pytest.raises(ConfigError):
        any_store.query(RELATIONSHIP_COUNT, identifiers={"rel": "X`]->() DETACH DELETE n //"})


def test_read_only_access_refuses_writes(any_store: GraphStore) -> None:
    any_store.execute("CREATE (:Product {id: 'a'})")
    assert any_store.read("MATCH (p:Product) RETURN p.id AS id") == [{"id": "a"}]
    with pytest.raises(QueryError, match="--write"):
        any_store.read("CREATE (:Product {id: 'b'})")
    assert any_store.execute("MATCH (p:Product) RETURN count(p) AS n")[0]["n"] == 1


def test_explain_does_not_run_and_knows_writes(any_store: GraphStore) -> None:
    plan = any_store.explain("CREATE (:Product {id: 'x'})")
    assert plan and any_store.execute("MATCH (p:Product) RETURN count(p) AS n")[0]["n"] == 0
    assert any_store.writes("MERGE (:Product {id: 'x'})")
    assert not any_store.writes("MATCH (p:Product) RETURN p")
    assert any("Scan" in line or "Product" in line for line in any_store.profile("MATCH (p:Product) RETURN p"))
