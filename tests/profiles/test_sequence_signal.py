"""The ``sequence`` signal of the ``kg`` blend (what other shoppers went on to next from the user's latest
items): it changes the top item where order says more than co-purchase, its weight is learned on the
validation split, events of one moment never follow one another, ``kg update``'s frozen item side scores it
as the fit does, and its recommendations take the reason path of the next strongest signal."""

from __future__ import annotations

import numpy as np

from kg.profiles.data import Interactions, ShopData
from kg.profiles.reasons import KINDS, Explainer, together_counts
from kg.profiles.recommenders import recommend
from kg.profiles.recommenders.base import seen_items
from kg.profiles.recommenders.blend import KGRecommender
from kg.profiles.recommenders.signals import SignalModel, sequence_follows

N_ITEMS = 24
#: the probe bought p0, p1, p2, p3 in that order: walkers went on to p4, one-day baskets hold p23 with them
PROBE = [("probe", f"p{k}", "purchase", 10_000 + k, None) for k in range(4)]


def _walks(n_users: int = 240, length: int = 5, seed: int = 0) -> list[tuple]:
    """Shoppers buying ``length`` neighbours on a ring of items one after another, up or down; and one-day
    baskets of p23 with p0 to p3 (one moment: co-bought, but nothing follows anything)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    for u in range(n_users):
        start, step, t0 = int(rng.integers(N_ITEMS)), int(rng.choice([-1, 1])), int(rng.integers(1000))
        rows += [(f"u{u}", f"p{(start + step * k) % N_ITEMS}", "purchase", t0 + k, None) for k in range(length)]
    for b in range(12):
        rows += [(f"b{b}", f"p{k}", "purchase", 5000, None) for k in (23, 0, 1, 2, 3)]
    return rows


def _top(model: KGRecommender, train: Interactions, user: str, k: int = 1) -> list[str]:
    ranked = recommend(model, np.array([train.user_index[user]]), seen_items(train), k)[0]
    return [train.items[i] for i in ranked if i >= 0]


def _fit(rows: list[tuple], **options: object) -> tuple[KGRecommender, Interactions]:
    train = Interactions.from_rows(rows)
    return KGRecommender(**options).fit(ShopData(train), train), train  # type: ignore[arg-type]


def test_the_sequence_signal_changes_the_top_item_to_what_came_next() -> None:
    rows = [*_walks(), *PROBE]
    copurchase, train = _fit(rows, weights={"copurchase": 1.0})
    assert _top(copurchase, train, "probe") == ["p23"]  # the baskets tip co-purchase to the ring's other end
    both, train = _fit(rows, weights={"copurchase": 1.0, "sequence": 1.0})
    assert _top(both, train, "probe") == ["p4"]
    assert both.contributions(train.user_index["probe"], np.array([train.item_index["p4"]]))["sequence"][0] > 0


def test_its_weight_is_learned_on_the_validation_split() -> None:
    tuned, train = _fit([*_walks(), *PROBE])
    assert tuned.weights["sequence"] > 0
    assert tuned.validation["single_sequence"] > tuned.validation["single_copurchase"]
    assert _top(tuned, train, "probe") == ["p4"]


def test_a_shop_without_any_order_has_no_sequence_signal() -> None:
    # every shopper's events fall on one day (review dates): the ledger's order within it is no order
    rows = [(f"b{b}", f"p{k}", "purchase", 5000 + b, None) for b in range(20) for k in range(b % 5, b % 5 + 4)]
    tuned, _train = _fit(rows)
    assert "sequence" not in tuned.signals and tuned.weights.get("sequence", 0.0) == 0.0


def test_items_of_one_moment_never_follow_one_another() -> None:
    # a bought p1 and p2 on one day (p1 first in the ledger), p3 the next day
    rows = [("a", "p1", "purchase", 1, None), ("a", "p2", "purchase", 1, None), ("a", "p3", "purchase", 2, None)]
    follows = sequence_follows(Interactions.from_rows(rows), 3).toarray()
    assert follows.tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]


def test_the_frozen_item_side_scores_the_signal_as_the_fit_does() -> None:
    rows = [*_walks(), *PROBE]
    train = Interactions.from_rows(rows)
    model = SignalModel(("copurchase", "sequence"), sequence_shape=(1, 3)).fit(ShopData(train), train)
    frozen = model.without_users()
    assert frozen.latest is None  # no user row is kept
    users = np.arange(train.n_users)
    again = frozen.with_users(ShopData(train), train)
    np.testing.assert_array_equal(again.scaled("sequence", users), model.scaled("sequence", users))
    assert again.scaled("sequence", users).max() == 1.0


def test_a_sequence_led_pair_takes_the_next_signals_path_or_none() -> None:
    rows = [("a", "p1", "purchase", 1, None), ("a", "p2", "view", 2, None), ("b", "p3", "purchase", 3, None)]
    shop = ShopData(Interactions.from_rows(rows))
    positive = shop.interactions.matrix()
    explainer = Explainer(shop=shop, positive=positive, together=together_counts(positive), interests={})
    items = np.array([shop.interactions.item_index["p2"], shop.interactions.item_index["p3"]])
    choices = explainer.choose(np.array([0, 0]), items, np.array([[0.9, 0.1], [0.9, 0.0]]), ["sequence", "viewed"])
    assert KINDS[int(choices.kind[0])] == "viewed" and int(choices.kind[1]) == -1
    reason = explainer.reason(choices, 0)
    assert reason is not None and reason.path_types == ["-[:VIEWED]->"]
