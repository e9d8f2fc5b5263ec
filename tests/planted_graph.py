"""The small planted graph the embeddings and CLI tests share (the ``graph`` fixture in tests/conftest.py), and
``fake_run``: a saved embedding run with given vectors. A helper module, not a test module."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from kg.embeddings.runs import RunResult

#: 30 users, each PURCHASED 3 (or fewer, when they coincide) of 12 products
GRAPH = """
UNWIND range(0, 29) AS u
MERGE (user:User {id: 'u' + toString(u)})
WITH user, u
UNWIND [u % 12, (u + 1) % 12, (u * 7) % 12] AS p
MERGE (prod:Product {id: 'p' + toString(p)})
ON CREATE SET prod.title = 'Product ' + toString(p)
MERGE (user)-[:PURCHASED {count: 1}]->(prod)
"""
#: every product's brand (3) and category (2)
CATALOGUE = """
MATCH (p:Product)
WITH p, toInteger(substring(p.id, 1)) AS n
MERGE (b:Brand {name: 'brand' + toString(n % 3)})
MERGE (c:Category {path: 'Shop|Dept ' + toString(n % 2), name: 'Dept ' + toString(n % 2)})
MERGE (p)-[:HAS_BRAND]->(b)
MERGE (p)-[:IN_CATEGORY]->(c)
"""


def fake_run(
    tmp_path: Path,
    labels: list[str],
    vectors: np.ndarray,
    relations: dict[str, np.ndarray] | None = None,
    model: str = "Fake",
) -> RunResult:
    """A succeeded run saved under ``tmp_path/runs`` whose embeddings are ``vectors`` (rows in ``labels`` order)."""
    # imported here: kg.embeddings is slow to import, and tests/conftest.py imports this module in every session
    from kg.embeddings.runs import RunResult, new_run_id

    run_id = new_run_id()
    rel = relations or {}
    run = RunResult(
        run_id=run_id,
        path=tmp_path / "runs" / run_id,
        config={"model": model},
        status="succeeded",
        entity_to_id={x: i for i, x in enumerate(labels)},
        entity_embeddings=vectors.astype(np.float32),
        relation_to_id={r: i for i, r in enumerate(rel)},
        relation_embeddings=np.stack(list(rel.values())).astype(np.float32) if rel else None,
    )
    run.save()
    return run
