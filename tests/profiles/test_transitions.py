"""The item-to-next-item transitions baseline on hand-made sequences whose answer is known, its tuning on a
validation split of the kind evaluated, and its row in ``kg eval recommend``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kg.foundation.errors import ConfigError
from kg.profiles.data import Interactions, ShopData
from kg.profiles.evaluate import evaluate_recommenders
from kg.profiles.recommenders import make_model, recommend
from kg.profiles.recommenders.base import seen_items
from kg.profiles.recommenders.transitions import (
    TransitionsRecommender,
    latest_items,
    merge_runs,
    moments,
    transition_matrix,
)

#: a, b and c walk from p1: twice on to p2 (a then to p3), once on to p4; p5 is the best seller
WALKS = [
    ("a", "p1", "view", 1, None),
    ("a", "p2", "view", 2, None),
    ("a", "p3", "purchase", 3, None),
    ("b", "p1", "view", 1, None),
    ("b", "p2", "cart", 2, None),
    ("c", "p1", "view", 1, None),
    ("c", "p4", "purchase", 2, None),
    ("x", "p5", "purchase", 1, None),
    ("y", "p5", "purchase", 1, None),
    ("z", "p5", "purchase", 1, None),
]


def _top(rows: list[tuple], user: str, k: int, **options: object) -> list[str]:
    train = Interactions.from_rows(rows)
    model = TransitionsRecommender(validation=None, **options).fit(ShopData(train), train)  # type: ignore[arg-type]
    ranked = recommend(model, np.array([train.user_index[user]]), seen_items(train), k)[0]
    return [train.items[i] for i in ranked if i >= 0]


def test_what_most_often_follows_the_last_item_comes_first_then_the_best_sellers() -> None:
    rows = [*WALKS, ("d", "p1", "view", 5, None)]
    assert _top(rows, "d", 4, window=1, last=1) == ["p2", "p4", "p5", "p3"]  # p2 2/3, p4 1/3, then popularity
    # two steps ahead count half: a's p1 -> p3 joins, 0.5 / 3.5 of p1's follows, below p4's 1 / 3.5
    assert _top(rows, "d", 4, window=2, last=1) == ["p2", "p4", "p3", "p5"]


def test_the_newest_item_weighs_most_and_older_ones_by_decay() -> None:
    # e looked at p1, then p2: p2's only follower p3 (1) before p1's, weighed half: p2 (0.5 x 3/4; looked at, not
    # bought, so it may come back) and p4 (0.5 x 1/4)
    rows = [*WALKS, ("e", "p1", "view", 5, None), ("e", "p2", "view", 6, None)]
    assert _top(rows, "e", 3, window=1, last=2, decay=0.5) == ["p3", "p2", "p4"]
    assert _top(rows, "e", 2, window=1, last=1) == ["p3", "p5"]  # p1 forgotten: p4 no longer scores


def test_runs_on_one_item_merge_and_self_follows_do_not_count() -> None:
    rows = [("a", "p1", "view", 1, None), ("a", "p1", "cart", 2, None), ("a", "p2", "view", 3, None)]
    rows += [("a", "p1", "view", 4, None)]
    train = Interactions.from_rows(rows)
    user, moment, item = merge_runs(*moments(train))
    assert item.tolist() == [0, 1, 0] and moment.tolist() == [0, 1, 2]  # the cart continues the view's run
    matrix = transition_matrix(user, moment, item, train.n_items, 2).toarray()
    assert matrix.tolist() == [[0.0, 1.0], [1.0, 0.0]]  # p1 -> p1 two moments on is not a follow


def test_items_of_one_moment_do_not_follow_one_another() -> None:
    # a bought p1 and p2 on one day (p1 first in the ledger), p3 the next; p2 is the best seller
    rows = [("a", "p1", "purchase", 1, None), ("a", "p2", "purchase", 1, None), ("a", "p3", "purchase", 2, None)]
    rows += [("b", "p2", "purchase", 1, None), ("c", "p2", "purchase", 1, None), ("d", "p1", "purchase", 5, None)]
    train = Interactions.from_rows(rows)
    user, moment, item = moments(train)
    matrix = transition_matrix(*merge_runs(user, moment, item), train.n_items, 3).toarray()
    assert matrix[0].tolist() == [0.0, 0.0, 1.0] and matrix[1].tolist() == [0.0, 0.0, 1.0]
    assert _top(rows, "d", 2, window=1, last=1) == ["p3", "p2"]
    # a's latest items: p3 (r = 0), then p1 and p2 together (r = 1)
    history = latest_items(user, moment, item, train.n_users, train.n_items, 2, 0.5).toarray()
    assert history[0].tolist() == [0.5, 0.5, 1.0]


def test_only_the_chosen_event_types_make_the_sequences() -> None:
    rows = [*WALKS, ("d", "p1", "view", 5, None)]
    # purchases alone: nobody's p1 is followed by anything bought, so d gets the best sellers
    assert _top(rows, "d", 2, window=1, last=1, types=("purchase", "rating")) == ["p5", "p3"]


def test_bad_options_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="window and last"):
        make_model("transitions", window=0)
    with pytest.raises(ConfigError, match="unknown validation split"):
        make_model("transitions", validation="random")
    with pytest.raises(ConfigError, match="unknown event type"):
        make_model("transitions", types=("click",))


@pytest.fixture(scope="module")
def clickstream(tmp_path_factory: pytest.TempPathFactory) -> ShopData:
    from bench.recommend import load_synthetic
    from kg.ingest.synthetic import generate_shop

    folder: Path = tmp_path_factory.mktemp("shop")
    generate_shop(folder, users=120, products=40, events=5000, seed=3, clickstream=True)
    return load_synthetic(folder)


@pytest.mark.parametrize("split", ["live", "leave-last-out"])
def test_tuned_on_a_validation_split_of_the_kind_evaluated(clickstream: ShopData, split: str) -> None:
    report = evaluate_recommenders(clickstream, models=["popularity", "transitions"], ks=(20,), split=split)
    popularity, transitions = report.rows
    assert "error" not in transitions and 0.0 <= transitions["recall@20"] <= 1.0
    tuning = transitions["validation"]
    assert tuning["split"] == split and tuning["users"] > 0
    tried = {key: value for key, value in tuning.items() if key.startswith("window=")}
    assert len(tried) >= 7 and tried[f"window={tuning['window']} last={tuning['last']}"] == max(tried.values())
    assert transitions["recall@20"] != popularity["recall@20"]  # a model of its own, not the tie rule alone
