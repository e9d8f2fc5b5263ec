"""Segments that mean something for every user: k chosen top-down (no distinct tastes lumped, users with no
signal apart) and each segment's value measured as the lift of its best sellers on held-out purchases."""

from __future__ import annotations

import numpy as np

from kg.profiles.data import AspectSignals, Catalogue, Interactions, ShopData
from kg.profiles.interests import compute_interests
from kg.profiles.segment_value import measure_segments, segment_lift
from kg.profiles.segments import WEAK_LABEL, build_features, label_segments, segment_users

T0 = 1_700_000_000_000


def test_segment_lift_on_two_tastes_is_exact() -> None:
    # A (u0..u3) buys a1 and a2; B (u4..u9) buys b1 and b2. Buyers: a1 4, a2 2, b1 6, b2 5 -> the shop's
    # top 2 is b1, b2; A's is a1, a2; B's is b1, b2.
    train_rows = [
        ("u0", "a1"), ("u0", "a2"), ("u1", "a1"), ("u1", "a2"), ("u2", "a1"), ("u3", "a1"),
        *[(f"u{i}", "b1") for i in range(4, 10)], *[(f"u{i}", "b2") for i in range(4, 9)],
    ]  # fmt: skip
    train = Interactions.from_rows([(u, p, "purchase", T0, None) for u, p in train_rows], items=["b3"])
    code = train.item_index
    members = np.array([0] * 4 + [1] * 6)
    # held out: u2 and u3 a2 (A's list only), u0 b2 (the shop's only), u9 b2 (both), u8 b3 (neither)
    test = {2: {code["a2"]}, 3: {code["a2"]}, 0: {code["b2"]}, 9: {code["b2"]}, 8: {code["b3"]}}
    value = segment_lift(train, test, members, {u: int(members[u]) for u in test}, top=2)
    # A: 3 measured, 2 hits vs 1 -> lift 2; B: 2 measured, 1 hit vs 1 -> lift 1; all: 3/5 vs 2/5 -> 1.5
    assert value.segments == {
        1: {"users": 3, "hit_rate": 0.6667, "global_hit_rate": 0.3333, "lift": 2.0},
        2: {"users": 2, "hit_rate": 0.5, "global_hit_rate": 0.5, "lift": 1.0},
    }
    assert (value.users, value.hit_rate, value.global_hit_rate, value.lift) == (5, 0.6, 0.4, 1.5)
    assert "lift 1.50x" in value.line() and "5 held-out" in value.line()
    # nobody measured: no lift, said so
    empty = segment_lift(train, {}, members, {}, top=2)
    assert empty.lift is None and "no held-out purchase" in empty.line()


def two_taste_shop() -> ShopData:
    """Six users buy a1 and a2 (half one first, half the other), ten buy b1 and b2 the same way."""
    rows = []
    for i in range(6):
        first, last = ("a1", "a2") if i < 3 else ("a2", "a1")
        rows += [(f"a{i}", first, "purchase", T0, None), (f"a{i}", last, "purchase", T0 + 10**6, None)]
    for i in range(10):
        first, last = ("b1", "b2") if i < 5 else ("b2", "b1")
        rows += [(f"b{i}", first, "purchase", T0, None), (f"b{i}", last, "purchase", T0 + 10**6, None)]
    catalogue = Catalogue(category_of={"a1": "A", "a2": "A", "b1": "B", "b2": "B"})
    return ShopData(Interactions.from_rows(rows), catalogue, AspectSignals())


def test_measure_segments_holds_out_the_last_purchase() -> None:
    shop = two_taste_shop()
    users = shop.interactions.users
    features, columns = build_features(users, compute_interests(shop), None)
    assignment = np.array([0 if u.startswith("a") else 1 for u in users])
    value = measure_segments(shop, features, columns, assignment, top=2)
    # every user's last purchase is held out; before it, A users bought only in A: measured in A, whose
    # training best sellers are a1 (3) and a2 (3): 6 hits; the shop's top 2 is b1, b2 (5 each): A misses,
    # B hits with both lists -> 16/16 vs 10/16
    assert value.users == 16 and not value.sampled
    assert (value.hit_rate, value.global_hit_rate, value.lift) == (1.0, 0.625, 1.6)
    assert value.segments[1] == {"users": 6, "hit_rate": 1.0, "global_hit_rate": 0.0, "lift": None}
    assert value.segments[2]["lift"] == 1.0
    # a sample of the measured users, said so
    assert measure_segments(shop, features, columns, assignment, top=2, sample=4).users == 4
    assert measure_segments(shop, features, columns, assignment, top=2, sample=4).sampled


def many_tastes_shop(seed: int = 0) -> tuple[ShopData, dict[str, int]]:
    """12 categories (two brands each): 20 repeat buyers and 20 one-purchase buyers per category, and 500
    users who only viewed an uncatalogued product (no interest at all). Returns the shop and each user's
    category (-1: none)."""
    rng = np.random.default_rng(seed)
    brand, category, rows, truth = {}, {}, [], {}
    for c in range(12):
        for j in range(6):
            brand[f"c{c}p{j}"], category[f"c{c}p{j}"] = f"B{c}_{j % 2}", f"Cat{c}"
        for u in range(20):
            truth[f"t{c}_{u}"] = c
            for j in rng.choice(6, size=int(rng.integers(2, 4)), replace=False):
                rows.append((f"t{c}_{u}", f"c{c}p{j}", "purchase", T0 + int(rng.integers(0, 10**9)), None))
            truth[f"o{c}_{u}"] = c
            rows.append((f"o{c}_{u}", f"c{c}p{int(rng.integers(0, 6))}", "purchase", T0, None))
    for u in range(500):
        truth[f"w{u}"] = -1
        rows.append((f"w{u}", "misc", "view", T0, None))
    shop = ShopData(Interactions.from_rows(rows), Catalogue(brand_of=brand, category_of=category), AspectSignals())
    return shop, truth


def test_a_dominant_weak_group_neither_lumps_tastes_nor_swallows_anyone() -> None:
    shop, truth = many_tastes_shop()
    users = shop.interactions.users
    interests = compute_interests(shop)
    x, _ = build_features(users, interests, None)
    taste = np.array([truth[u] for u in users])

    def lumped(seg) -> list[int]:
        return [s for s in range(seg.n_segments) if np.unique(taste[seg.assignment == s]).size > 1]

    # k by silhouette over 2..10 alone (the rule before, here k_max=10): 12 tastes in at most 9 segments
    assert lumped(segment_users(x, users=users, standardise=False, k_max=10))
    seg = segment_users(x, users=users, standardise=False)
    assert seg.k_max == 15  # sqrt(480 users with a signal / 2)
    assert seg.splits and lumped(seg) == []
    # the 500 users with no signal are one segment, exactly them, labelled so; the largest, but alone
    assert seg.weak == 0 and seg.sizes[0] == 500
    assert set(np.flatnonzero(seg.assignment == seg.weak)) == set(np.flatnonzero(taste == -1))
    infos = label_segments(seg, interests)
    assert infos[0].label == WEAK_LABEL and infos[0].top_interests == []
    assert all(not i.label.startswith("no clear interest") for i in infos)
    # every other segment is one category, named after it
    for info in infos[1:]:
        (c,) = np.unique(taste[seg.assignment == info.id])
        assert f"Cat{c}" in info.top_interests
    # explicit k is still honoured as asked
    assert segment_users(x, n_segments=4, standardise=False).n_segments == 4


def test_default_k_max_scales_with_the_shop() -> None:
    from kg.profiles.segments import K_CAP, default_k_max

    assert default_k_max(100) == 10 and default_k_max(2_000) == 32 and default_k_max(10**7) == K_CAP
    assert default_k_max(100, k_hi=12) == 12
