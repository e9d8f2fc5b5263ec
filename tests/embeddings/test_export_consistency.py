"""The paged export while the graph changes between pages (an ingest running alongside `kg embed train`)."""

from __future__ import annotations

import numpy as np
import pytest

from kg.embeddings.export import (
    export_triples,
    max_node_id,
    read_node_keys,
    read_triple_ids,
    resolve_relation_types,
    to_entities,
)
from kg.foundation.schema import KEYS

LATE = """
UNWIND range(0, 19) AS i
CREATE (u:User {id: 'late-u' + toString(i)})
CREATE (p:Product {id: 'late-p' + toString(i)})
WITH u, p, i
MATCH (old:User {id: 'u' + toString(i)})
CREATE (old)-[:PURCHASED]->(p)
CREATE (u)-[:PURCHASED]->(p)
"""
ALL_TRIPLES = """
MATCH (h)-[r]->(t)
WITH labels(h)[0] AS hl, labels(t)[0] AS tl, h, r, t
RETURN hl + ':' + toString(CASE hl WHEN 'Category' THEN h.path WHEN 'Brand' THEN h.name ELSE h.id END) AS h,
       type(r) AS r,
       tl + ':' + toString(CASE tl WHEN 'Category' THEN t.path WHEN 'Brand' THEN t.name ELSE t.id END) AS t
"""


def graph_triples(store) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(r["h"], r["r"], r["t"]) for r in store.execute(ALL_TRIPLES)}


def test_nodes_created_after_the_export_started_do_not_break_it(graph) -> None:  # type: ignore[no-untyped-def]
    before = graph_triples(graph)
    types = resolve_relation_types(graph)
    max_id = max_node_id(graph)
    graph.execute(LATE)  # the graph grows between reading max_id and reading the pages
    raw = read_triple_ids(graph, types, max_id, page_size=7)
    assert raw[:, 2].max() > max_id  # old users now point at products created since (the crash before)
    used = np.unique(raw[:, [0, 2]])
    names = read_node_keys(graph, used, 7, dict(KEYS))
    entities, mapped, skipped = to_entities(raw, names)
    assert skipped == 0
    exported = {(entities[h], types[r], entities[t]) for h, r, t in mapped.tolist()}
    now = graph_triples(graph)
    assert before <= exported <= now  # everything that existed, nothing that never did
    assert ("User:u3", "PURCHASED", "Product:late-p3") in exported
    if graph.dialect == "falkordb":  # pages by node id: heads are the nodes of the start (Neo4j streams
        assert not any(h.startswith("User:late-") for h, _, _ in exported)  # each type in one read)


@pytest.mark.falkordb_only(
    "reads pages by FalkorDB's internal node ids between which a node is deleted; "
    "Neo4j streams each relationship type in one read, so there are no pages"
)
def test_a_node_deleted_between_pages_drops_its_triples(graph) -> None:  # type: ignore[no-untyped-def]
    types = resolve_relation_types(graph)
    max_id = max_node_id(graph)
    raw = read_triple_ids(graph, types, max_id, page_size=5)
    p0 = graph.execute("MATCH (p:Product {id: 'p0'}) RETURN id(p) AS i")[0]["i"]
    graph.execute("MATCH (p:Product {id: 'p0'}) DETACH DELETE p")
    names = read_node_keys(graph, np.unique(raw[:, [0, 2]]), 5, dict(KEYS))
    entities, mapped, skipped = to_entities(raw, names)
    assert skipped == int(((raw[:, 0] == p0) | (raw[:, 2] == p0)).sum()) > 0
    assert "Product:p0" not in entities
    assert len(mapped) == len(raw) - skipped


def test_export_records_nodes_created_during_it(graph) -> None:  # type: ignore[no-untyped-def]
    triples = export_triples(graph, page_size=4)
    assert triples.stats["created_during_export"] == 0
    assert triples.stats["max_node_id"] == max_node_id(graph)
