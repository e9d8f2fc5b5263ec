"""Embeddings against a real embedded FalkorDB: export, write-back, k-NN, SIMILAR_TO, import."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kg.analyst.library import run_library_query
from kg.embeddings.cypher import RUNS_IN_GRAPH
from kg.embeddings.export import export_triples, write_export
from kg.embeddings.external import read_external_run
from kg.embeddings.runs import RunResult, read_id_map
from kg.embeddings.similar import graph_run_id, materialise_similar, similar_items
from kg.embeddings.writeback import write_back
from kg.foundation.errors import ConfigError
from kg.foundation.schema import KEYS
from tests.planted_graph import GRAPH, fake_run


def count(store, text: str) -> int:  # type: ignore[no-untyped-def]
    return int(store.execute(text)[0]["n"])


# -- export ----------------------------------------------------------------------------------
def test_nodes_without_a_key_are_skipped_and_counted(graph) -> None:  # type: ignore[no-untyped-def]
    assert "Gadget" not in KEYS  # a label kg.foundation.schema.KEYS does not know, and a Product missing its key
    graph.execute("MATCH (u:User {id: 'u0'}) CREATE (u)-[:PURCHASED]->(:Gadget {id: 'g1'})")
    graph.execute("MATCH (u:User {id: 'u1'}) CREATE (u)-[:PURCHASED]->(:Product {title: 'no id'})")
    triples = export_triples(graph)
    assert triples.stats["skipped"] == 2
    assert not any(x.startswith("Gadget:") for x in triples.entity_labels)
    purchased = count(graph, "MATCH (:User)-[r:PURCHASED]->(p:Product) WHERE p.id IS NOT NULL RETURN count(r) AS n")
    assert triples.stats["per_type"]["PURCHASED"] == purchased


def test_export_is_deterministic_paged_and_keyed(graph) -> None:  # type: ignore[no-untyped-def]
    a = export_triples(graph)
    b = export_triples(graph, page_size=3)
    assert a.entity_labels == b.entity_labels and np.array_equal(a.mapped, b.mapped)
    assert set(a.relation_labels) == {"PURCHASED", "HAS_BRAND", "IN_CATEGORY"}
    assert "Category:Shop|Dept 0" in a.entity_labels and "Brand:brand1" in a.entity_labels
    assert all(x.split(":", 1)[0] in {"User", "Product", "Brand", "Category"} for x in a.entity_labels)
    purchased = count(graph, "MATCH ()-[r:PURCHASED]->() RETURN count(r) AS n")
    assert a.stats["per_type"]["PURCHASED"] == purchased
    assert a.num_triples == purchased + 24


def test_ids_survive_reexport_after_the_graph_grows(graph) -> None:  # type: ignore[no-untyped-def]
    before = export_triples(graph)
    graph.execute("MERGE (u:User {id: 'zz-new'}) MERGE (p:Product {id: 'p3'}) MERGE (u)-[:PURCHASED]->(p)")
    after = export_triples(graph)
    assert set(before.entity_labels) < set(after.entity_labels)
    old = {tuple(t) for t in before.labeled()}
    assert old < {tuple(t) for t in after.labeled()}


def test_export_selected_relation_types(graph) -> None:  # type: ignore[no-untyped-def]
    only = export_triples(graph, relation_types=["HAS_BRAND"])
    assert only.relation_labels == ["HAS_BRAND"] and only.num_triples == 12


def test_absent_relation_type_and_empty_graph_are_config_errors(store, graph=None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as err:
        export_triples(store)
    assert "\n" not in str(err.value)
    store.execute(GRAPH)
    with pytest.raises(ConfigError, match="absent from the graph: NOPE"):
        export_triples(store, relation_types=["NOPE"])


# -- write-back ------------------------------------------------------------------------------
def test_writeback_counts_dims_and_rewrite_replaces(graph, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    triples = export_triples(graph)
    rng = np.random.default_rng(0)
    rels = {r: rng.normal(size=6) for r in triples.relation_labels}
    first = fake_run(tmp_path, triples.entity_labels, rng.normal(size=(triples.num_entities, 6)), rels)
    stats = write_back(graph, first)
    assert stats.total_nodes == triples.num_entities + len(rels)
    assert stats.nodes["User"] == 30 and stats.nodes["Product"] == 12
    assert count(graph, "MATCH (n) WHERE n.embedding IS NOT NULL RETURN count(n) AS n") == stats.total_nodes
    row = graph.execute(
        "MATCH (p:Product {id: 'p1'}) RETURN p.embedding AS e, p.embedding_dim AS d, "
        "p.embedding_model AS m, p.embedding_run AS r"
    )[0]
    assert len(row["e"]) == 6 and row["d"] == 6 and row["m"] == "Fake" and row["r"] == first.run_id
    i = first.entity_to_id["Product:p1"]
    assert np.allclose(row["e"], first.entity_embeddings[i], atol=1e-6)
    assert count(graph, "MATCH (r:Relation) WHERE r.embedding IS NOT NULL RETURN count(r) AS n") == len(rels)

    second = fake_run(tmp_path, triples.entity_labels, rng.normal(size=(triples.num_entities, 6)), rels)
    write_back(graph, second)
    write_back(graph, second)
    assert count(graph, "MATCH (n) WHERE n.embedding IS NOT NULL RETURN count(n) AS n") == stats.total_nodes
    assert count(graph, "MATCH (r:Relation) RETURN count(r) AS n") == len(rels)
    runs = graph.query(RUNS_IN_GRAPH)
    assert [(r["run"], r["nodes"]) for r in runs] == [(second.run_id, stats.total_nodes)]
    row = graph.execute("MATCH (p:Product {id: 'p1'}) RETURN p.embedding AS e")[0]
    assert np.allclose(row["e"], second.entity_embeddings[i], atol=1e-6)
    assert graph_run_id(graph) == second.run_id


def test_knn_returns_the_planted_neighbour(graph, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    labels = [f"Product:p{i}" for i in range(12)]
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(12, 16))
    vectors[7] = vectors[3] + 0.01 * rng.normal(size=16)  # p7 is p3's planted twin
    run = fake_run(tmp_path, labels, vectors)
    write_back(graph, run)
    hits = similar_items(graph, "p3", k=3)
    assert len(hits) == 3 and hits[0]["id"] == "p7" and hits[0]["title"] == "Product 7"
    assert hits[0]["score"] > 0.99 and all(h["id"] != "p3" for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    cypher_hits = run_library_query(graph, "similar_products", {"product": "p3", "k": "3"}).rows
    assert cypher_hits[0]["product"] == "p7"
    with pytest.raises(ConfigError, match="no product"):
        similar_items(graph, "nope")

    result = materialise_similar(graph, run, k=2)
    assert result["edges"] == 24
    assert count(graph, "MATCH (:Product)-[s:SIMILAR_TO]->(:Product) RETURN count(s) AS n") == 24
    top = graph.execute(
        "MATCH (:Product {id: 'p3'})-[s:SIMILAR_TO]->(q) RETURN q.id AS id, s.score AS score, "
        "s.run AS run ORDER BY score DESC"
    )
    assert top[0]["id"] == "p7" and top[0]["run"] == run.run_id
    again = fake_run(tmp_path, labels, vectors)
    result = materialise_similar(graph, again, k=2)
    assert result["deleted"] == 24
    runs = graph.execute("MATCH ()-[s:SIMILAR_TO]->() RETURN s.run AS run, count(s) AS n")
    assert runs == [{"run": again.run_id, "n": 24}]


# -- files for external trainers ---------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["tsv", "pbg"])
def test_export_files_round_trip_through_import(graph, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    triples = export_triples(graph)
    out = tmp_path / fmt
    manifest = write_export(triples, out, fmt=fmt, seed=3)
    assert (
        json.loads((out / "manifest.json").read_text())["num_triples"] == triples.num_triples == manifest["num_triples"]
    )
    entities = read_id_map(out / "entities.tsv")
    relations = read_id_map(out / "relations.tsv")
    assert entities == triples.entity_to_id and relations == triples.relation_to_id
    names = ["train.tsv", "valid.tsv", "test.tsv"] if fmt == "tsv" else ["edges.tsv"]
    edges = np.concatenate([np.loadtxt(out / n, dtype=np.int64, delimiter="\t", ndmin=2) for n in names])
    assert {tuple(r) for r in edges.tolist()} == {tuple(r) for r in triples.mapped.tolist()}
    if fmt == "pbg":
        assert "get_torchbiggraph_config" in (out / "pbg_config.py").read_text()
        compile((out / "pbg_config.py").read_text(), "pbg_config.py", "exec")

    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(triples.num_entities, 5)).astype(np.float32)
    trained = tmp_path / f"trained-{fmt}"
    trained.mkdir()
    if fmt == "pbg":  # what torchbiggraph_export_to_tsv writes: name (= our id) then the vector
        with open(trained / "entity_embeddings.tsv", "w") as fh:
            for i, vec in enumerate(vectors):
                fh.write(str(i) + "\t" + "\t".join(f"{x:.9g}" for x in vec) + "\n")
    else:  # what DGL-KE saves
        np.save(trained / "kg_TransE_l2_entity.npy", vectors)
        np.save(trained / "kg_TransE_l2_relation.npy", rng.normal(size=(triples.num_relations, 5)))
    run = read_external_run(trained, tmp_path / "runs", maps_dir=out, name=f"ext-{fmt}")
    assert run.model == f"external:ext-{fmt}" and RunResult.load(run.path).status == "trained"
    stats = write_back(graph, run)
    assert stats.total_nodes - stats.relations == triples.num_entities
    row = graph.execute("MATCH (p:Product {id: 'p5'}) RETURN p.embedding AS e, p.embedding_run AS r")[0]
    assert row["r"] == run.run_id
    assert np.allclose(row["e"], vectors[triples.entity_to_id["Product:p5"]], atol=1e-6)
