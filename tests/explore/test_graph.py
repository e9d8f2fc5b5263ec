"""The explorer's reads on a real graph (the session's embedded FalkorDB) and results as graphs."""

from __future__ import annotations

import pytest

from kg.analyst.explore import graph
from kg.foundation.errors import ConfigError
from kg.foundation.privacy import Pseudonymiser
from kg.store import GraphStore
from tests.shop_fixtures import ALICE, BOB


def test_search_by_name_is_case_insensitive_and_by_key_exact_first(shop: GraphStore) -> None:
    mugs = graph.search(shop, "MUG", label="Product")
    assert [n["id"] for n in mugs] == ["Product:P2", "Product:P1"]  # ordered by name: Blue, Red
    assert [n["name"] for n in mugs] == ["Blue Mug", "Red Mug"]
    exact = graph.search(shop, "P3")
    assert exact[0]["id"] == "Product:P3" and exact[0]["name"] == "Tea Pot"


def test_search_every_label_and_users_by_raw_id(shop: GraphStore) -> None:
    assert [n["id"] for n in graph.search(shop, "acme")] == ["Brand:Acme"]
    assert [n["id"] for n in graph.search(shop, "kitchen")] == ["Category:Home > Kitchen"]
    assert [n["id"] for n in graph.search(shop, "handle", label="Aspect")] == ["Aspect:handle"]
    assert [n["id"] for n in graph.search(shop, "1", label="Segment")] == ["Segment:1"]
    pseudo = Pseudonymiser(b"test-key").user_id
    assert [n["id"] for n in graph.search(shop, "alice", label="User", pseudonymise=pseudo)] == [f"User:{ALICE}"]
    assert graph.search(shop, "alice", label="User") == []  # raw ids are never stored
    assert graph.search(shop, "   ") == []
    with pytest.raises(ConfigError, match="cannot search 'Review'"):
        graph.search(shop, "x", label="Review")


def test_neighbourhood_of_a_product(shop: GraphStore) -> None:
    found = graph.neighbourhood(shop, "Product", "P1")
    assert found["center"] == "Product:P1"
    ids = {n["id"] for n in found["nodes"]}
    assert ids == {
        "Product:P1",
        "Brand:Acme",
        "Category:Home > Kitchen",
        "Aspect:handle",
        f"User:{ALICE}",
        f"User:{BOB}",
    }
    edges = {(e["source"], e["type"], e["target"]) for e in found["edges"]}
    assert edges == {
        ("Product:P1", "HAS_BRAND", "Brand:Acme"),
        ("Product:P1", "IN_CATEGORY", "Category:Home > Kitchen"),
        ("Product:P1", "HAS_ASPECT", "Aspect:handle"),
        (f"User:{ALICE}", "VIEWED", "Product:P1"),
        (f"User:{ALICE}", "PURCHASED", "Product:P1"),
        (f"User:{BOB}", "VIEWED", "Product:P1"),
    }
    center = next(n for n in found["nodes"] if n["id"] == "Product:P1")
    assert "embedding" not in center["props"] and center["props"]["title"] == "Red Mug"
    assert found["truncated"] == {}


def test_neighbourhood_keeps_per_type_and_says_what_it_cut(shop: GraphStore) -> None:
    found = graph.neighbourhood(shop, "Product", "P1", per_type=1)
    viewed = [e for e in found["edges"] if e["type"] == "VIEWED"]
    assert len(viewed) == 1
    assert found["truncated"] == {"<-[:VIEWED]-": 2}


def test_neighbourhood_of_an_integer_key_and_of_nothing(shop: GraphStore) -> None:
    found = graph.neighbourhood(shop, "Segment", "1")
    assert {e["source"] for e in found["edges"]} == {f"User:{ALICE}"}
    with pytest.raises(ConfigError, match="no Product with key 'nope'"):
        graph.neighbourhood(shop, "Product", "nope")
    with pytest.raises(ConfigError, match="integers"):
        graph.neighbourhood(shop, "Segment", "one")


def test_node_names_round_trip() -> None:
    assert graph.split_node_id("Product:a:b") == ("Product", "a:b")
    with pytest.raises(ConfigError):
        graph.split_node_id("Nope:1")
    with pytest.raises(ConfigError):
        graph.split_node_id("no colon")


def test_column_labels() -> None:
    assert [
        graph.column_label(c)
        for c in ("user", "product_id", "product_a", "other_product", "brand", "category", "aspect", "segment")
    ] == ["User", "Product", "Product", "Product", "Brand", "Category", "Aspect", "Segment"]
    assert [graph.column_label(c) for c in ("title", "product_title", "score", "users", "n")] == [None] * 5


def test_rows_with_id_columns_become_a_star_per_row() -> None:
    found = graph.graph_from_rows(
        ["user", "product", "score"],
        [
            {"user": "u1", "product": "P1", "score": 0.5},
            {"user": "u1", "product": "P2", "score": 0.2},
            {"user": "u2", "product": None, "score": 0.1},
        ],
    )
    assert {n["id"] for n in found["nodes"]} == {"User:u1", "User:u2", "Product:P1", "Product:P2"}
    assert {(e["source"], e["type"], e["target"]) for e in found["edges"]} == {
        ("User:u1", "product", "Product:P1"),
        ("User:u1", "product", "Product:P2"),
    }


def test_recommendation_paths_become_typed_chains() -> None:
    found = graph.graph_from_rows(
        ["product", "path", "path_types"],
        [
            {
                "product": "P9",
                "path": ["User:u1", "Product:P1", "Product:P9"],
                "path_types": ["-[:PURCHASED]->", "-[:ALSO_BOUGHT]->"],
            },
            {
                "product": "P8",
                "path": ["User:u1", "Brand:Acme", "Product:P8"],
                "path_types": ["-[:INTERESTED_IN]->", "<-[:HAS_BRAND]-"],
            },
        ],
    )
    edges = {(e["source"], e["type"], e["target"]) for e in found["edges"]}
    assert ("User:u1", "PURCHASED", "Product:P1") in edges
    assert ("Product:P1", "ALSO_BOUGHT", "Product:P9") in edges
    assert ("Product:P8", "HAS_BRAND", "Brand:Acme") in edges  # reversed step
    assert len(edges) == 4


def test_scalar_rows_give_no_graph() -> None:
    assert graph.graph_from_rows(["month", "reviews"], [{"month": "2024-01", "reviews": 3}]) is None


def test_falkordb_nodes_relationships_and_paths(shop: GraphStore) -> None:
    rows = shop.read("MATCH p = (u:User {id: $u})-[:PURCHASED]->(x:Product) RETURN p", {"u": BOB})
    found = graph.graph_from_rows(["p"], rows)
    assert {n["id"] for n in found["nodes"]} == {f"User:{BOB}", "Product:P3"}
    assert [(e["source"], e["type"], e["target"]) for e in found["edges"]] == [
        (f"User:{BOB}", "PURCHASED", "Product:P3")
    ]
