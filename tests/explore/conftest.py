"""A small hand-made shop for the explorer tests, and the query library."""

from __future__ import annotations

from types import ModuleType

import pytest

from kg.store import GraphStore
from tests.shop_fixtures import ALICE, BOB  # the pseudonyms of alice and bob under "test-key"

SHOP = """
CREATE (p1:Product {id: 'P1', title: 'Red Mug', price: 9.5, embedding: [0.1, 0.2, 0.3]}),
       (p2:Product {id: 'P2', title: 'Blue Mug', price: 8.0}),
       (p3:Product {id: 'P3', title: 'Tea Pot', price: 20.0}),
       (acme:Brand {name: 'Acme'}), (brew:Brand {name: 'Brewco'}),
       (cat:Category {path: 'Home > Kitchen', name: 'Kitchen', depth: 2}),
       (handle:Aspect {name: 'handle'}),
       (seg:Segment {id: 1, size: 1, label: 'mug lovers'}),
       (a:User {id: $alice}), (b:User {id: $bob}),
       (p1)-[:HAS_BRAND]->(acme), (p2)-[:HAS_BRAND]->(acme), (p3)-[:HAS_BRAND]->(brew),
       (p1)-[:IN_CATEGORY]->(cat), (p1)-[:HAS_ASPECT {mentions: 3, score: 0.5}]->(handle),
       (a)-[:VIEWED {count: 2}]->(p1), (a)-[:PURCHASED {count: 1}]->(p1), (a)-[:VIEWED {count: 1}]->(p2),
       (b)-[:VIEWED {count: 4}]->(p1), (b)-[:PURCHASED {count: 1}]->(p3),
       (a)-[:IN_SEGMENT {run: 'r1'}]->(seg),
       (a)-[:INTERESTED_IN {score: 0.8, updated_at: 1700000000000, run: 'r1'}]->(cat)
"""


@pytest.fixture
def shop(store: GraphStore) -> GraphStore:
    """The session server's fresh graph holding the small shop above."""
    store.execute(SHOP, {"alice": ALICE, "bob": BOB})
    return store


@pytest.fixture
def library() -> ModuleType:
    """The query library the explorer serves."""
    from kg.analyst import library as analyst

    return analyst
