"""Interest scores on hand-made shops; every expected number is worked out in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from kg.foundation.errors import ConfigError
from kg.profiles.data import AspectSignals, Catalogue, Interactions, ShopData
from kg.profiles.interests import DAY_MS, InterestWeights, compute_interests, signed_rating

T0 = 1_700_000_000_000  # an arbitrary "now" in epoch ms
CAT = Catalogue(
    brand_of={"phone": "Acme", "case": "Acme", "novel": "Penguin"},
    category_of={"phone": "Electronics > Phones > Smart", "case": "Electronics > Phones", "novel": "Books"},
    parent_of={"Electronics > Phones > Smart": "Electronics > Phones", "Electronics > Phones": "Electronics"},
)


def shop(rows, mentions=(), catalogue: Catalogue = CAT) -> ShopData:
    return ShopData(Interactions.from_rows(rows), catalogue, AspectSignals(user_mentions=list(mentions)))


def test_purchase_one_half_life_old_counts_half() -> None:
    # purchase weight 5, 30 days old with a 30-day half-life: 5 * 0.5 ** (30/30) = 2.5 on the leaf and brand
    table = compute_interests(shop([("u", "novel", "purchase", T0 - 30 * DAY_MS, None)]), as_of_ms=T0)
    assert table.by_user("u") == pytest.approx({("Brand", "Penguin"): 2.5, ("Category", "Books"): 2.5})
    # 15 days with a 15-day half-life is the same; 60 days at 30 is a quarter: 5 * 0.25 = 1.25
    assert compute_interests(
        shop([("u", "novel", "purchase", T0 - 15 * DAY_MS, None)]), as_of_ms=T0, half_life_days=15
    ).by_user("u")[("Category", "Books")] == pytest.approx(2.5)
    assert compute_interests(shop([("u", "novel", "purchase", T0 - 60 * DAY_MS, None)]), as_of_ms=T0).by_user("u")[
        ("Brand", "Penguin")
    ] == pytest.approx(1.25)


def test_category_propagates_up_the_tree() -> None:
    # purchase (5) on a leaf two levels deep: leaf 5, parent 5 * 0.5 = 2.5, grandparent 5 * 0.25 = 1.25
    table = compute_interests(shop([("u", "phone", "purchase", T0, None)]))
    got = table.by_user("u")
    assert got[("Category", "Electronics > Phones > Smart")] == pytest.approx(5.0)
    assert got[("Category", "Electronics > Phones")] == pytest.approx(2.5)
    assert got[("Category", "Electronics")] == pytest.approx(1.25)
    # a category_decay of 0.2 and category_share 2: leaf 10, parent 10 * 0.2 = 2, grandparent 10 * 0.04 = 0.4
    w = InterestWeights(category_decay=0.2, category_share=2.0)
    got = compute_interests(shop([("u", "phone", "purchase", T0, None)]), weights=w).by_user("u")
    assert [
        got[("Category", c)] for c in ("Electronics > Phones > Smart", "Electronics > Phones", "Electronics")
    ] == pytest.approx([10.0, 2.0, 0.4])


def test_brand_sums_over_products_and_events() -> None:
    # view phone (1) + cart case (3) + purchase case (5), all Acme, all at as_of: 1 + 3 + 5 = 9
    rows = [("u", "phone", "view", T0, None), ("u", "case", "cart", T0, None), ("u", "case", "purchase", T0, None)]
    got = compute_interests(shop(rows)).by_user("u")
    assert got[("Brand", "Acme")] == pytest.approx(9.0)
    # "Electronics > Phones" gets the case's 3 + 5 as a leaf and the phone's 1 * 0.5 as its parent: 8.5
    assert got[("Category", "Electronics > Phones")] == pytest.approx(8.5)
    # brand_share 0.5 halves the brand only: 4.5
    half = compute_interests(shop(rows), weights=InterestWeights(brand_share=0.5)).by_user("u")
    assert half[("Brand", "Acme")] == pytest.approx(4.5)
    assert half[("Category", "Electronics > Phones")] == pytest.approx(8.5)


def test_ratings_are_signed() -> None:
    assert signed_rating(np.array([1.0, 2.0, 3.0, 4.0, 5.0])).tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    # a 1-star rating alone: 4 * (1 - 3) / 2 = -4 everywhere -> nothing positive, nothing kept
    table = compute_interests(shop([("u", "novel", "rating", T0, 1.0)]))
    assert table.by_user("u") == {}
    assert len(table) == 0
    # a purchase (5) plus a 1-star rating (-4): 1 left
    got = compute_interests(shop([("u", "novel", "purchase", T0, None), ("u", "novel", "rating", T0, 1.0)])).by_user(
        "u"
    )
    assert got[("Brand", "Penguin")] == pytest.approx(1.0)
    # 4 stars: 4 * 0.5 = 2; 10 "stars" (another scale) is clamped to 5: 4 * 1 = 4; no stars: 0, not kept
    assert compute_interests(shop([("u", "novel", "rating", T0, 4.0)])).by_user("u")[("Brand", "Penguin")] == 2.0
    assert compute_interests(shop([("u", "novel", "rating", T0, 10.0)])).by_user("u")[("Brand", "Penguin")] == 4.0
    assert compute_interests(shop([("u", "novel", "rating", T0, None)])).by_user("u") == {}


def test_aspect_sentiment_is_signed_and_decayed() -> None:
    mentions = [
        ("u", "battery", 0.8, T0),  # 2 * 0.8 * 1 = 1.6
        ("u", "battery", -0.3, T0 - 30 * DAY_MS),  # 2 * -0.3 * 0.5 = -0.3  -> battery 1.3
        ("u", "screen", -0.5, None),  # 2 * -0.5 * 1 (no time: no decay) = -1 -> dropped
        ("w", "price", 0.25, None),  # a user with reviews but no events: 2 * 0.25 = 0.5
    ]
    table = compute_interests(shop([("u", "novel", "view", T0, None)], mentions))
    assert table.by_user("u") == pytest.approx(
        {("Brand", "Penguin"): 1.0, ("Category", "Books"): 1.0, ("Aspect", "battery"): 1.3}
    )
    assert table.by_user("w") == pytest.approx({("Aspect", "price"): 0.5})
    assert "w" in table.users


def test_top_n_cut_and_ties() -> None:
    cat = Catalogue(brand_of={"p1": "Zeta", "p2": "Alpha", "p3": "Mid"})
    rows = [("u", "p1", "view", T0, None), ("u", "p2", "view", T0, None), ("u", "p3", "cart", T0, None)]
    # Brand scores Mid 3, Alpha 1, Zeta 1; aspect zoom 2 * 0.5 = 1 ties the two views
    mentions = [("u", "zoom", 0.5, T0)]
    full = compute_interests(shop(rows, mentions, cat))
    # best first; ties of 1.0 by label (Aspect < Brand) then key (Alpha < Zeta)
    assert list(full.by_user("u")) == [("Brand", "Mid"), ("Aspect", "zoom"), ("Brand", "Alpha"), ("Brand", "Zeta")]
    top2 = compute_interests(shop(rows, mentions, cat), top=2)
    assert top2.by_user("u") == {("Brand", "Mid"): 3.0, ("Aspect", "zoom"): 1.0}
    top3 = compute_interests(shop(rows, mentions, cat), top=3)
    assert list(top3.by_user("u")) == [("Brand", "Mid"), ("Aspect", "zoom"), ("Brand", "Alpha")]


def test_as_of_defaults_to_the_newest_event() -> None:
    # newest event at T0 + 30 days; the purchase at T0 is then one half-life old: 5 * 0.5 = 2.5
    rows = [("u", "novel", "purchase", T0, None), ("v", "phone", "view", T0 + 30 * DAY_MS, None)]
    table = compute_interests(shop(rows))
    assert table.as_of_ms == T0 + 30 * DAY_MS
    assert table.by_user("u")[("Brand", "Penguin")] == pytest.approx(2.5)
    assert table.by_user("v")[("Brand", "Acme")] == pytest.approx(1.0)


def test_events_after_as_of_are_ignored() -> None:
    rows = [
        ("u", "novel", "view", T0, None),
        ("u", "novel", "purchase", T0 + DAY_MS, None),
        ("v", "phone", "purchase", T0 + DAY_MS, None),
    ]
    mentions = [("u", "plot", 1.0, T0 + DAY_MS)]
    table = compute_interests(shop(rows, mentions), as_of_ms=T0)
    # only the view counts: 1; the purchase, v's purchase and the later review are in the future
    assert table.by_user("u") == {("Brand", "Penguin"): 1.0, ("Category", "Books"): 1.0}
    assert table.by_user("v") == {}
    assert table.as_of_ms == T0


def test_rows_and_vectors() -> None:
    rows = [("u", "novel", "purchase", T0, None), ("v", "novel", "view", T0, None)]
    table = compute_interests(shop(rows))
    assert table.rows == [
        ("u", "Brand", "Penguin", 5.0),
        ("u", "Category", "Books", 5.0),
        ("v", "Brand", "Penguin", 1.0),
        ("v", "Category", "Books", 1.0),
    ]
    assert table.records()[0] == {"user": "u", "label": "Brand", "key": "Penguin", "score": 5.0}
    users, keys, m = table.vectors()
    assert users == ["u", "v"] and keys == [("Brand", "Penguin"), ("Category", "Books")]
    assert m.toarray().tolist() == [[5.0, 5.0], [1.0, 1.0]]
    assert table.by_user("nobody") == {}


def test_empty_shop() -> None:
    table = compute_interests(shop([]))
    assert len(table) == 0 and table.as_of_ms == 0 and table.vectors()[2].shape == (0, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"half_life_days": 0},
        {"top": 0},
        {"weights": InterestWeights(view=-1)},
        {"weights": InterestWeights(category_decay=1.5)},
    ],
)
def test_bad_arguments(kwargs) -> None:
    with pytest.raises(ConfigError):
        compute_interests(shop([("u", "novel", "view", T0, None)]), **kwargs)
