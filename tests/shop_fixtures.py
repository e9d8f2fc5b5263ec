"""The small hand-made shops' shared names: the analyst shop (``tests/fixtures/analyst_shop.cypher``, loaded by
``load_shop``) and the pseudonyms of its shoppers, which the explorer's shop (tests/explore/conftest.py) uses too.
A helper module, not a test module."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kg.store import GraphStore

ANALYST_SHOP = Path(__file__).resolve().parent / "fixtures" / "analyst_shop.cypher"
_VECTOR = re.compile(r"vector\((\[[^\]]*\])\)")

#: raw user ids -> the pseudonyms kg stores under the key "test-key" (the shared settings fixture's);
#: ALICE == Pseudonymiser(b"test-key").user_id("alice"), tests/kg/test_analyst_queries.py checks BOB's
ALICE = "ff7a3cd2cfcd73da2f3d9350cdbdfd2b"
BOB = "1520f16c3e94f0068dfb6a7fee0f21d7"
DAVE = "60b696a66a626e752f6f907533cd04f1"
HEADPHONES = "Electronics > Audio > Headphones"


def alice_profile(*top_interests: str) -> dict[str, Any]:
    """alice's ``user_profile`` row in the analyst shop, with her ``top_interests`` (by score: Category
    HEADPHONES, Brand Sonic, Aspect sound). VIEWED P1 3 + PURCHASED P1 1 + VIEWED P2 2 + PURCHASED P2 1 + CARTED
    P3 1 + RATED P1 1 = 9 events on 3 products, 2 purchases, review R1; first 2024-01-05 (view P1), last
    2024-03-20 (rating)."""
    return {
        "user": ALICE,
        "segment": 1,
        "segment_label": "Audio fans",
        "products": 3,
        "events": 9,
        "purchases": 2,
        "reviews": 1,
        "first_date": "2024-01-05",
        "last_date": "2024-03-20",
        "top_interests": list(top_interests),
    }


def load_shop(store: GraphStore) -> None:
    """Write the analyst shop into an empty graph, with a vector index on the products' embeddings."""
    text = ANALYST_SHOP.read_text(encoding="utf-8")
    text = _VECTOR.sub(r"vecf32(\1)" if store.dialect == "falkordb" else r"\1", text)
    store.execute(text)
    assert store.build_vector_index("Product", 2, timeout=60)
