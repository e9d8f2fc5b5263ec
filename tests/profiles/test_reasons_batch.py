"""Reasons and recommendations found for every user at once (:meth:`Explainer.choose`,
:func:`recommend_with_reasons`) equal the per-pair definition (:meth:`Explainer.explain`) and the
straightforward per-user loop, on a small random shop with every kind of path."""

from __future__ import annotations

import numpy as np
import pytest

from kg.profiles.data import AspectSignals, Catalogue, Interactions, ShopData
from kg.profiles.reasons import KINDS, Explainer, Reason, together_counts
from kg.profiles.recommenders.base import best_per_row as candidates
from kg.profiles.recommenders.base import exclude_cold, exclude_seen, seen_items
from kg.profiles.steps import recommend_with_reasons

NAMES = ["gnn", "segment", "popularity", "copurchase", "category", "brand", "viewed", "aspect", "kge"]


def _shop(seed: int) -> ShopData:
    rng = np.random.default_rng(seed)
    kinds = ["view", "cart", "purchase", "rating", "favorite"]
    rows = [
        (f"u{rng.integers(30)}", f"p{rng.integers(25)}", str(rng.choice(kinds, p=[0.4, 0.15, 0.25, 0.1, 0.1])), t, None)
        for t in range(400)
    ]
    categories = ["a", "a > b", "a > b > c", "d", "d > e"]
    catalogue = Catalogue(
        brand_of={f"p{i}": f"brand{i % 4}" for i in range(25) if i % 5},
        category_of={f"p{i}": categories[i % 5] for i in range(25) if i % 7},
        parent_of={"a > b": "a", "a > b > c": "a > b", "d > e": "d"},
        title_of={f"p{i}": f"Product {i}" for i in range(0, 25, 2)},
    )
    aspects = AspectSignals(
        product_aspects={
            f"p{i}": {
                a: (3, round(float(rng.uniform(-0.5, 1.0)), 1)) for a in ("fit", "price", "sound") if rng.random() < 0.6
            }
            for i in range(25)
        }
    )
    return ShopData(Interactions.from_rows(rows), catalogue, aspects)


def _explainer(shop: ShopData, seed: int) -> Explainer:
    rng = np.random.default_rng(seed + 1)
    inter = shop.interactions
    keys = [("Category", c) for c in ("a", "a > b", "a > b > c", "d", "d > e", "zz")]
    keys += [("Brand", f"brand{b}") for b in range(5)] + [("Aspect", a) for a in ("fit", "price", "sound", "none")]
    interests = {u: {k for k in keys if rng.random() < 0.2} for u in inter.users if rng.random() < 0.9}
    popular = {s: {f"p{i}" for i in range(30) if rng.random() < 0.3} for s in (1, 2, 3)}
    positive = inter.matrix()
    return Explainer(
        shop=shop,
        positive=positive,
        together=together_counts(positive),
        interests=interests,
        segment_of={u: int(rng.integers(1, 4)) for u in inter.users if rng.random() < 0.8},
        popular=popular,
        segment_label={1: "no clear interest", 2: "likes a"},
    )


def _order(strength: np.ndarray, names: list[str]) -> list[str]:
    return [names[j] for j in np.argsort(-strength, kind="stable") if strength[j] > 0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reasons_for_all_pairs_at_once_equal_the_per_pair_definition(seed: int) -> None:
    shop = _shop(seed)
    explainer = _explainer(shop, seed)
    inter = shop.interactions
    users, items = (a.ravel() for a in np.meshgrid(np.arange(inter.n_users), np.arange(inter.n_items), indexing="ij"))
    rng = np.random.default_rng(seed + 2)
    strength = rng.choice([0.0, 0.0, 0.1, 0.2, 0.5, -0.1], size=(users.size, len(NAMES)))  # ties and gaps
    choices = explainer.choose(users, items, strength, NAMES)
    expected = [
        explainer.explain(int(u), int(i), _order(s, NAMES)) for u, i, s in zip(users, items, strength, strict=True)
    ]
    got = [explainer.reason(choices, p) for p in range(users.size)]
    assert got == expected
    kinds = {("copurchase" if r.together else r.signal) for r in got if isinstance(r, Reason)}
    assert kinds == set(KINDS)  # every kind of path was exercised


class _Parts:
    """A blend stand-in: fixed per-signal scores with ties, some cold items."""

    scores_cold_items = False

    def __init__(self, inter: Interactions, seed: int) -> None:
        rng = np.random.default_rng(seed + 3)
        self.n_items = inter.n_items
        self.active = rng.random(inter.n_items) < 0.9
        self.table = {n: rng.choice([0.0, 0.25, 0.5, 1.0], size=(inter.n_users, inter.n_items)) for n in NAMES[:5]}
        self.tie_order = rng.permutation(inter.n_items)  # ties: first in this order wins

    def parts(self, users: np.ndarray) -> dict[str, np.ndarray]:
        return {n: t[users].astype(np.float32) for n, t in self.table.items()}


def _per_user(model: _Parts, explainer: Explainer, inter: Interactions, k: int) -> list[dict[str, object]]:
    """The straightforward definition: each user's candidates best first, the first k with a reason."""
    seen, rows = seen_items(inter), []
    position = np.argsort(model.tie_order)
    for u in range(inter.n_users):
        parts = model.parts(np.array([u]))
        s = np.asarray(sum(parts.values()), dtype=np.float64)
        exclude_seen(exclude_cold(model, s), seen[[u]])
        s = s[0]
        ranked = [i for i in sorted(range(s.size), key=lambda i: (-s[i], position[i])) if np.isfinite(s[i])]
        ranked = ranked[: 3 * k + 10]
        rank = 0
        for i in ranked:
            reason = explainer.explain(u, i, _order(np.array([parts[n][0, i] for n in parts]), list(parts)))
            if reason is not None and rank < k:
                rank += 1
                rows.append((inter.users[u], inter.items[i], round(float(s[i]), 6), rank, reason.text, reason.path))
    return rows


@pytest.mark.parametrize("seed", [0, 1])
def test_recommendations_for_all_users_at_once_equal_the_per_user_loop(seed: int) -> None:
    shop = _shop(seed)
    explainer = _explainer(shop, seed)
    model = _Parts(shop.interactions, seed)
    rows, counts, together = recommend_with_reasons(model, explainer, shop.interactions, 3, batch=7)  # type: ignore[arg-type]
    got = [(r["user"], r["product"], r["score"], r["rank"], r["reason"], r["path"]) for r in rows]
    assert got == _per_user(model, explainer, shop.interactions, 3)
    assert sum(counts.values()) == len(rows) and len(together) <= len(rows)


@pytest.mark.parametrize("ordered", [False, True])
def test_candidates_are_the_best_finite_items_ties_by_the_order_or_item_code(ordered: bool) -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n, pool = int(rng.integers(1, 60)), int(rng.integers(1, 70))
        scores = rng.choice([0.0, 0.1, 0.2, 0.5, 1.0, -np.inf], size=(int(rng.integers(1, 8)), n))
        order = rng.permutation(n) if ordered else None
        position = np.argsort(order) if order is not None else np.arange(n)
        expected = [
            (r, i)
            for r, row in enumerate(scores)
            for i in sorted(range(n), key=lambda i: (-row[i], position[i]))[:pool]
            if np.isfinite(row[i])
        ]
        rows, items = candidates(scores, pool, order)
        assert list(zip(rows.tolist(), items.tolist(), strict=True)) == expected
