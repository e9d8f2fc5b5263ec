"""Splits on hand-made histories, metrics computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kg.foundation.errors import ConfigError
from kg.profiles.data import Interactions
from kg.profiles.metrics import coverage_at_k, hit_at_k, ndcg_at_k, recall_at_k
from kg.profiles.split import (
    NO_HISTORY,
    NO_NEW,
    NO_PURCHASE,
    NOTHING_BEFORE,
    TOO_FEW,
    leave_last_out,
    live,
    make_split,
    temporal,
)


def _events(it: Interactions, user: str) -> set[tuple[str, str]]:
    u = it.user_index[user]
    return {
        (it.items[i], ("view", "cart", "purchase", "rating", "favorite")[t])
        for i, t in zip(it.item[it.user == u], it.type[it.user == u], strict=True)
    }


def test_leave_last_out_holds_out_last_first_time_and_breaks_ties_by_item_id() -> None:
    rows = [
        ("a", "p1", "purchase", 1, None),
        ("a", "p2", "purchase", 2, None),
        ("a", "p1", "purchase", 9, None),  # re-buy: p1 still counts at its first time (1)
        ("b", "p9", "purchase", 5, None),
        ("b", "p3", "rating", 5, 4.0),  # tie at 5: p9 > p3 by id
        ("b", "p0", "purchase", 1, None),
    ]
    s = leave_last_out(Interactions.from_rows(rows))
    it = s.train
    assert {it.users[u]: {it.items[i] for i in items} for u, items in s.test.items()} == {"a": {"p2"}, "b": {"p9"}}
    assert s.evaluated.tolist() == [0, 1] and s.n_skipped == 0
    assert _events(it, "a") == {("p1", "purchase")}
    assert _events(it, "b") == {("p3", "rating"), ("p0", "purchase")}
    assert s.cutoff_at == {0: 2, 1: 5}


def test_leave_last_out_removes_every_event_of_the_held_out_pair_and_counts_skipped() -> None:
    rows = [
        ("a", "p3", "view", 1, None),
        ("a", "p1", "purchase", 2, None),
        ("a", "p3", "cart", 3, None),
        ("a", "p3", "purchase", 4, None),
        ("a", "p3", "rating", 5, 5.0),
        ("b", "p3", "view", 1, None),
        ("b", "p3", "purchase", 2, None),  # one item: skipped, events kept
        ("c", "p1", "view", 1, None),  # views only: skipped
    ]
    s = leave_last_out(Interactions.from_rows(rows))
    assert s.test == {0: {0}}  # a -> p3 (code 0: p3 comes first in the rows)
    assert s.skipped.tolist() == [1, 2] and s.skip_reasons == {TOO_FEW: 2}
    assert _events(s.train, "a") == {("p1", "purchase")}
    assert _events(s.train, "b") == {("p3", "view"), ("p3", "purchase")}
    assert s.train.n_events == 4


def test_live_keeps_the_history_before_the_last_new_purchase_and_drops_the_rest() -> None:
    day = 86_400_000
    rows = [
        ("a", "p1", "purchase", 1 * day, None),
        ("a", "p3", "view", 2 * day, None),  # views, cart, favourite of the held-out item before it: kept
        ("a", "p3", "favorite", 2 * day + 5, None),
        ("a", "p2", "view", 3 * day, None),
        ("a", "p3", "cart", 4 * day, None),
        ("a", "p3", "purchase", 5 * day, None),  # a's last new purchase moment: p3 and p4, bought together
        ("a", "p4", "purchase", 5 * day, None),
        ("a", "p4", "rating", 5 * day, 5.0),  # same moment: dropped
        ("a", "p2", "view", 6 * day, None),  # after: dropped
        ("a", "p1", "purchase", 7 * day, None),  # a re-buy is not new: not a moment; after: dropped
        ("b", "p2", "view", 1 * day, None),  # views only before a first purchase: evaluated
        ("b", "p2", "purchase", 2 * day, None),
        ("b", "p5", "view", 3 * day, None),
        ("c", "p1", "purchase", 4 * day, None),  # nothing before the purchase: skipped, events kept
        ("d", "p2", "view", 4 * day, None),  # never bought: skipped, events kept
    ]
    it = Interactions.from_rows(rows)
    s = live(it)
    assert s.name == "live" and make_split(it, "live").test == s.test
    named = {it.users[u]: {it.items[i] for i in items} for u, items in s.test.items()}
    assert named == {"a": {"p3", "p4"}, "b": {"p2"}}
    assert _events(s.train, "a") == {
        ("p1", "purchase"),
        ("p3", "view"),
        ("p3", "favorite"),
        ("p2", "view"),
        ("p3", "cart"),
    }
    assert s.train.at[s.train.user == it.user_index["a"]].max() == 4 * day
    assert _events(s.train, "b") == {("p2", "view")}
    assert _events(s.train, "c") == {("p1", "purchase")} and _events(s.train, "d") == {("p2", "view")}
    assert s.evaluated.tolist() == [0, 1] and s.skipped.tolist() == [2, 3]
    assert s.skip_reasons == {NOTHING_BEFORE: 1, NO_PURCHASE: 1}
    assert s.cutoff_at == {0: 5 * day, 1: 2 * day}


def test_temporal_cut_new_items_only_and_reasons() -> None:
    rows = [
        ("a", "p1", "purchase", 1, None),
        ("a", "p2", "purchase", 2, None),
        ("a", "p1", "purchase", 9, None),
        ("a", "p3", "purchase", 10, None),
        ("b", "p1", "purchase", 3, None),
        ("b", "p1", "rating", 8, 5.0),  # only a repeat after the cut
        ("c", "p2", "view", 4, None),
        ("c", "p2", "purchase", 9, None),  # no bought item before the cut
        ("d", "p2", "purchase", 5, None),
    ]
    # times sorted: 1 2 3 4 5 8 9 9 10 -> 0.5 quantile (lower) = 5: train = at <= 5
    s = temporal(Interactions.from_rows(rows), fraction=0.5)
    assert s.test == {0: {2}}  # a: p3 (p1 was bought before)
    assert s.skip_reasons == {NO_NEW: 2, NO_HISTORY: 1}
    assert s.train.n_events == 5 and s.cutoff_at == {0: 6}


def test_bad_split_arguments() -> None:
    it = Interactions.from_rows([("a", "p1", "purchase", 1, None)])
    with pytest.raises(ConfigError, match="unknown split"):
        make_split(it, "random")
    with pytest.raises(ConfigError):
        temporal(it, fraction=1.5)


def test_metrics_by_hand() -> None:
    ranked = np.array([[5, 2, 7, 1], [3, 4, -1, -1], [9, 8, 0, 6]])
    relevant = [{2, 1, 11}, {4}, {12}]
    # user 0: hits at ranks 2 and 4 of 3 relevant; user 1: hit at rank 2; user 2: none
    assert recall_at_k(ranked, relevant, 4).tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert recall_at_k(ranked, relevant, 1).tolist() == [0.0, 0.0, 0.0]
    ideal0 = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    expected0 = (1 / math.log2(3) + 1 / math.log2(5)) / ideal0
    assert ndcg_at_k(ranked, relevant, 4).tolist() == pytest.approx([expected0, 1 / math.log2(3), 0.0])
    assert hit_at_k(ranked, relevant, 2).tolist() == [1.0, 1.0, 0.0]
    assert coverage_at_k(ranked, 2, n_items=20) == 6 / 20  # {5, 2, 3, 4, 9, 8}
    assert coverage_at_k(ranked, 4, n_items=20) == 10 / 20  # -1 padding not counted


def test_ndcg_ideal_is_capped_at_k() -> None:
    ranked = np.array([[1, 2]])
    assert ndcg_at_k(ranked, [{1, 2, 3, 4}], 2).tolist() == pytest.approx([1.0])
    assert recall_at_k(ranked, [{1, 2, 3, 4}], 2).tolist() == [0.5]  # hits / |relevant|, not / min(k, |rel|)
