"""Repeat and re-engagement: the ``viewed`` signal knows recency and intensity, the blend learns its weight
on a live validation split, the recent-first baseline, and reasons that name the shopper's own event."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from kg.ingest.synthetic import generate_shop
from kg.profiles.data import Catalogue, Interactions, ShopData
from kg.profiles.interests import DAY_MS
from kg.profiles.reasons import Explainer, together_counts
from kg.profiles.recommenders import KGRecommender, make_model, recommend
from kg.profiles.recommenders.base import positive_matrix
from kg.profiles.recommenders.signals import looked_scores
from kg.profiles.steps import recommend_with_reasons

#: 14 Jun 2024, 00:00 UTC
JUNE_14 = 1_718_323_200_000


def _clickstream() -> ShopData:
    """Six shoppers buy k1 and k2; ``shopper`` bought k1, viewed t1 long ago, viewed t2 twice on 14 Jun and
    put t3 in the cart the day before; ``other`` looked at nothing."""
    rows = []
    for u in range(6):
        rows += [(f"h{u}", "k1", "purchase", JUNE_14 - 30 * DAY_MS, None)]
        rows += [(f"h{u}", "k2", "purchase", JUNE_14 - 29 * DAY_MS, None)]
    rows += [
        ("shopper", "k1", "purchase", JUNE_14 - 40 * DAY_MS, None),
        ("shopper", "t1", "view", JUNE_14 - 200 * DAY_MS, None),
        ("shopper", "t2", "view", JUNE_14 - DAY_MS // 2, None),
        ("shopper", "t2", "view", JUNE_14 + 3_600_000, None),
        ("shopper", "t3", "cart", JUNE_14 - DAY_MS, None),
        ("other", "k1", "purchase", JUNE_14, None),
    ]
    catalogue = Catalogue(title_of={p: p.upper() for p in ("k1", "k2", "t1", "t2", "t3")})
    return ShopData(Interactions.from_rows(rows), catalogue)


def test_viewed_signal_decays_with_age_and_grows_with_intensity() -> None:
    inter = _clickstream().interactions
    s = looked_scores(inter, half_life_days=1).toarray()[inter.user_index["shopper"]]
    t1, t2, t3 = (inter.item_index[p] for p in ("t1", "t2", "t3"))
    assert s[t2] > s[t3] > s[t1] > 0  # two recent views > one cart a day older > one view 200 days old
    assert s[inter.item_index["k2"]] == 0  # never looked at
    # the interests' 30 days: the cart (weight 3) outweighs the two views (1 each) a day later
    long = looked_scores(inter, half_life_days=30).toarray()[inter.user_index["shopper"]]
    assert long[t3] > long[t2] > long[t1] > 0


def test_recently_looked_at_items_come_back_with_a_reason_naming_the_event() -> None:
    shop = _clickstream()
    inter = shop.interactions
    model = KGRecommender(weights={"copurchase": 1.0}, view_half_life=1.0).fit(shop, inter, 0)
    assert model.weights["copurchase"] == 1.0 and "viewed" in model.signals  # viewed: always on, as a prior
    top = [
        inter.items[i] for i in recommend(model, np.array([inter.user_index["shopper"]]), positive_matrix(inter), 4)[0]
    ]
    assert top[0] == "k2"  # bought together with k1
    assert top[1:] == ["t2", "t3", "t1"]  # then what the shopper looked at, the most recent and intense first
    positive = positive_matrix(inter)
    explainer = Explainer(shop=shop, positive=positive, together=together_counts(positive), interests={})
    rows, reasons, _ = recommend_with_reasons(model, explainer, inter, 4)
    mine = {r["product"]: r for r in rows if r["user"] == "shopper"}
    assert mine["t2"]["reason"] == "you viewed it on 14 Jun 2024"  # the latest view
    assert mine["t2"]["path"] == ["User:shopper", "Product:t2"] and mine["t2"]["path_types"] == ["-[:VIEWED]->"]
    assert mine["t3"]["reason"] == "you put it in the cart on 13 Jun 2024"
    assert mine["t3"]["path_types"] == ["-[:CARTED]->"]
    assert "k1" not in mine  # bought items never come back (no repeat purchases by default)
    assert reasons["viewed"] == 3
    # the frozen item side (kg update) rebuilds the same viewed rows from the users' history
    again = model.without_users().with_users(shop, inter)
    users = np.arange(inter.n_users)
    assert np.allclose(again.scores(users), model.scores(users))


def test_the_blend_learns_the_weight_of_recent_views_on_a_clickstream_shop() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = generate_shop(Path(tmp), users=300, products=80, events=12_000, seed=2, clickstream=True)
        import csv

        with open(files.events, encoding="utf-8", newline="") as handle:
            rows = [
                (r["user_id"], r["item_id"], r["event_type"], int(r["timestamp"]), None) for r in csv.DictReader(handle)
            ]
    kinds = [r[2] for r in rows]
    assert kinds.count("view") > 0.85 * len(rows) and "rating" not in kinds
    shop = ShopData(Interactions.from_rows(rows))
    model = KGRecommender().fit(shop, shop.interactions, 0)
    assert model.validation["split"] == "live"
    assert model.weights["viewed"] > 0 and model.validation["best_signal"] == "viewed"


def test_recent_first_ranks_the_latest_look_first_then_popularity() -> None:
    rows = [
        ("a", "p1", "view", 10, None),
        ("a", "p2", "favorite", 30, None),
        ("a", "p3", "cart", 5, None),
        ("a", "p1", "view", 20, None),
        ("a", "p4", "purchase", 40, None),  # bought: never recommended
        ("a", "p2", "purchase", 1, None),  # bought before it was favourited: still bought
        ("b", "p5", "purchase", 1, None),
        ("c", "p5", "purchase", 2, None),
        ("c", "p6", "purchase", 3, None),
    ]
    shop = ShopData(Interactions.from_rows(rows))
    inter = shop.interactions
    model = make_model("recent").fit(shop, inter, 0)
    ranked = recommend(model, np.array([inter.user_index["a"]]), positive_matrix(inter), 5)[0]
    # p1 (latest look at 20) > p3 (at 5); then by buyers: p5 (2) > p6 (1); p2 and p4 were bought
    assert [inter.items[i] for i in ranked if i >= 0] == ["p1", "p3", "p5", "p6"] and ranked[4] == -1
