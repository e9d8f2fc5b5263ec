"""Each recommender on a toy case whose answer is known; seen items never come back; the kg blend."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from kg.foundation.errors import ConfigError
from kg.profiles.data import AspectSignals, Catalogue, Interactions, ShopData
from kg.profiles.recommenders import MODEL_NAMES, KGRecommender, make_model, recommend, registry, top_k
from kg.profiles.recommenders.base import positive_matrix


def _shop(rows, catalogue: Catalogue | None = None, items=()) -> ShopData:
    return ShopData(Interactions.from_rows(rows, items=items), catalogue or Catalogue())


def _buys(pairs) -> list[tuple]:
    return [(u, p, "purchase", t, None) for t, (u, p) in enumerate(pairs)]


def _top(model, shop: ShopData, user: str, k: int = 1) -> list[str]:
    it = shop.interactions
    ranked = recommend(model, np.array([it.user_index[user]]), positive_matrix(it), k)[0]
    return [it.items[i] for i in ranked if i >= 0]


def test_registry_names_and_config_error() -> None:
    assert MODEL_NAMES == ("popularity", "recent", "itemknn", "transitions", "ease", "mf", "kge", "gnn", "kg")
    assert set(registry) == set(MODEL_NAMES)
    with pytest.raises(ConfigError, match="choose one of: popularity, recent, itemknn"):
        make_model("svd")
    with pytest.raises(ConfigError, match="rejects its options"):
        make_model("ease", nonsense=1)


def test_top_k_excludes_seen_and_unranked_and_breaks_ties_by_code() -> None:
    scores = np.array([[0.5, 0.9, 0.5, -np.inf, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0]], dtype=np.float32)
    seen = sparse.csr_matrix(np.array([[0, 1, 0, 0, 0], [1, 0, 0, 0, 1]]))
    assert top_k(scores, seen, 2).tolist() == [[0, 2], [1, 2]]
    assert top_k(scores, seen, 5).tolist() == [[0, 2, 4, -1, -1], [1, 2, 3, -1, -1]]


def test_top_k_breaks_ties_by_the_order_given() -> None:
    scores = np.array([[0.5, 0.9, 0.5, -np.inf, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0]], dtype=np.float32)
    seen = sparse.csr_matrix(np.array([[0, 1, 0, 0, 0], [1, 0, 0, 0, 1]]))
    order = np.array([4, 3, 2, 1, 0])
    assert top_k(scores, seen, 2, order).tolist() == [[4, 2], [3, 2]]
    assert top_k(scores, seen, 5, order).tolist() == [[4, 2, 0, -1, -1], [3, 2, 1, -1, -1]]
    assert top_k(scores, None, 3, order).tolist() == [[1, 4, 2], [4, 3, 2]]


#: a shop where the two tie rules disagree: "a" bought only p0, which nobody else bought, so an item model
#: scores every other item 0 for "a"; p3 is the best seller (3 buyers), p2 has 1 buyer and 2 viewers, p1 1
#: buyer; by item code p1 would come first, by popularity p3, then p2 (more users with any event), then p1
TIED = [
    ("a", "p0", "purchase", 1, None),
    ("b", "p1", "purchase", 2, None),
    ("c", "p2", "purchase", 3, None),
    ("d", "p2", "view", 4, None),
    ("e", "p2", "view", 5, None),
    ("f", "p3", "purchase", 6, None),
    ("g", "p3", "purchase", 7, None),
    ("h", "p3", "purchase", 8, None),
]


@pytest.mark.parametrize("name", ["itemknn", "ease", "popularity"])
def test_ties_go_to_the_more_popular_item_in_training_not_the_lower_code(name: str) -> None:
    shop = _shop(TIED)
    model = make_model(name).fit(shop, shop.interactions, 0)
    scores = model.scores(np.array([0]))[0]
    if name != "popularity":  # the item models' scores for "a" all tie: the tie rule alone decides
        assert scores[1] == scores[2] == scores[3]
    assert model.tie_order.tolist() == [3, 2, 0, 1]  # p0 and p1: 1 buyer, 1 user each: by code
    assert _top(model, shop, "a", 3) == ["p3", "p2", "p1"]
    model.tie_order = None  # what a model saved before kg had a tie order ranks by: the item code
    if name != "popularity":
        assert _top(model, shop, "a", 3) == ["p1", "p2", "p3"]


def test_a_state_saved_without_a_tie_order_loads_and_ranks_ties_by_code(tmp_path) -> None:
    from kg.profiles.state import ProfileState, load_state, save_state

    shop = _shop(TIED)
    model = KGRecommender(tune=False).fit(shop, shop.interactions, 0)
    state = ProfileState(
        run="r1",
        items=list(shop.interactions.items),
        model=model.without_users(),
        together=sparse.csr_matrix((4, 4), dtype=np.float32),
        columns=[],
        centroids=np.zeros((0, 0)),
        segment_label={},
        popular={},
        as_of_ms=8,
        as_of_fixed=False,
        half_life_days=30.0,
        top=20,
        k=3,
        bookmark=0,
    )
    save_state(tmp_path, state)
    assert load_state(tmp_path).model.tie_order.tolist() == [3, 2, 0, 1]  # the state carries the tie order
    del state.model.tie_order  # as a state pickled before the tie order existed
    save_state(tmp_path, state)
    old = load_state(tmp_path).model
    assert "tie_order" not in vars(old) and old.tie_order is None
    fresh = old.with_users(shop, shop.interactions)
    seen = positive_matrix(shop.interactions)
    expected = top_k(fresh.scores(np.arange(8)), seen, 3)  # by item code
    assert recommend(fresh, np.arange(8), seen, 3).tolist() == expected.tolist()


def test_popularity_picks_the_most_bought() -> None:
    shop = _shop(_buys([("a", "p1"), ("b", "p2"), ("c", "p2"), ("d", "p3"), ("d", "p2"), ("e", "p3")]))
    model = make_model("popularity").fit(shop, shop.interactions, 0)
    assert _top(model, shop, "a", 2) == ["p2", "p3"]
    assert _top(model, shop, "d", 1) == ["p1"]  # p2, p3 already bought by d


CO_BOUGHT = _buys(
    [
        ("a", "p1"),
        ("a", "p2"),
        ("b", "p1"),
        ("b", "p2"),
        ("c", "p3"),
        ("c", "p4"),
        ("e", "p3"),
        ("f", "p3"),
        ("g", "p4"),
        ("d", "p1"),
    ]
)


@pytest.mark.parametrize("name", ["itemknn", "ease"])
def test_item_models_pick_the_item_co_bought_with_the_users_item(name: str) -> None:
    shop = _shop(CO_BOUGHT)
    model = make_model(name).fit(shop, shop.interactions, 0)
    assert _top(model, shop, "d") == ["p2"]  # p3 is more popular but never bought with p1


def _two_groups(n_users: int = 24) -> list[tuple]:
    """Users u0.. buy among items a0..a5, users v0.. among b0..b5; nothing crosses."""
    rng = np.random.default_rng(3)
    pairs = []
    for group in ("a", "b"):
        for u in range(n_users):
            for item in rng.choice(6, size=3, replace=False):
                pairs.append((f"{'u' if group == 'a' else 'v'}{u}", f"{group}{item}"))
    return _buys(pairs)


@pytest.mark.parametrize(
    "name, opts",
    [
        ("mf", {"factors": 2}),
        pytest.param("gnn", {"epochs": 30}, marks=pytest.mark.slow),  # ~15 s on a busy 2-core machine
        pytest.param("kge", {"epochs": 40}, marks=pytest.mark.slow),  # ~35 s (PyKEEN pipeline)
    ],
)
def test_latent_models_recommend_from_the_users_own_group(name: str, opts: dict) -> None:
    shop = _shop(_two_groups())
    model = make_model(name, **opts).fit(shop, shop.interactions, 0)
    users = np.arange(shop.interactions.n_users)
    ranked = recommend(model, users, positive_matrix(shop.interactions), 1)[:, 0]
    own = [
        shop.interactions.items[i][0] == ("a" if shop.interactions.users[u][0] == "u" else "b")
        for u, i in zip(users, ranked, strict=True)
    ]
    assert np.mean(own) >= 0.9, f"{name}: only {np.mean(own):.2f} of users got an item of their own group"


def test_models_never_recommend_seen_items_nor_items_without_training_events() -> None:
    shop = _shop(CO_BOUGHT, items=["p9"])  # p9: in the catalogue, no event
    it = shop.interactions
    seen = positive_matrix(it)
    for name in ("popularity", "itemknn", "ease", "mf"):
        model = make_model(name).fit(shop, it, 0)
        ranked = recommend(model, np.arange(it.n_users), seen, it.n_items)
        for u, row in enumerate(ranked):
            got = set(row[row >= 0].tolist())
            assert not got & set(seen[u].indices.tolist()), name
            assert it.item_index["p9"] not in got, name


CATALOGUE = Catalogue(
    brand_of={"t1": "Lego", "t2": "Lego", "t3": "Mattel", "k1": "Tefal", "k2": "Tefal", "k3": "Bosch"},
    category_of={
        "t1": "Toys > Building",
        "t2": "Toys > Building",
        "t3": "Toys > Dolls",
        "k1": "Home > Kitchen",
        "k2": "Home > Kitchen",
        "k3": "Home > Kitchen",
    },
    parent_of={"Toys > Building": "Toys", "Toys > Dolls": "Toys", "Home > Kitchen": "Home"},
)


def _kitchen_shop() -> ShopData:
    # kitchen items are the most popular overall; the cold user only looked at toys
    pairs = [(f"h{u}", k) for u in range(6) for k in ("k1", "k2", "k3")] + [
        ("t", "t1"),
        ("t", "t2"),
        ("s", "t3"),
        ("s", "t1"),
    ]
    rows = _buys(pairs) + [("cold", "t2", "view", 100, None), ("new", "k1", "view", 101, None)]
    return _shop(rows, CATALOGUE)


def test_kg_gives_a_cold_user_items_of_their_category() -> None:
    shop = _kitchen_shop()
    model = KGRecommender().fit(shop, shop.interactions, 0)
    top = _top(model, shop, "cold", 3)
    assert set(top[:2]) <= {"t1", "t2", "t3"} and top[0] in ("t1", "t2")  # same leaf category (and brand) first
    assert set(_top(model, shop, "new", 3)) == {"k1", "k2", "k3"}


def test_kg_contributions_sum_to_the_score_and_name_signals() -> None:
    shop = _kitchen_shop()
    model = KGRecommender(weights={"copurchase": 1.0, "category": 0.5, "brand": 0.5, "popularity": 0.1}).fit(
        shop, shop.interactions, 0
    )
    assert {"copurchase", "brand", "category", "popularity", "viewed"} <= set(model.signals)
    assert "segment" not in model.signals and "aspect" not in model.signals  # no segments, no aspects given
    items = np.arange(shop.interactions.n_items)
    user = shop.interactions.user_index["s"]
    parts = model.contributions(user, items)
    total = sum(parts.values())
    assert np.allclose(total, model.scores(np.array([user]))[0])
    t2 = shop.interactions.item_index["t2"]
    assert parts["copurchase"][t2] > 0  # s bought t1, which t bought together with t2


def test_kg_segment_and_aspect_signals() -> None:
    pairs = [("a1", "k1"), ("a2", "k1"), ("b1", "k2"), ("b2", "k2"), ("b3", "k2")]
    rows = _buys(pairs) + [("a3", "k3", "view", 50, None)]
    aspects = AspectSignals(
        user_mentions=[("a3", "sharp blade", 0.9, 10)],
        product_aspects={"k3": {"sharp blade": (4, 0.8)}, "k2": {"sharp blade": (3, -0.5)}},
    )
    shop = ShopData(Interactions.from_rows(rows), CATALOGUE, aspects)
    it = shop.interactions
    segment = np.array([0 if it.users[u][0] == "a" else 1 for u in range(it.n_users)])
    model = KGRecommender(weights={"segment": 1.0}).fit(shop, it, 0, user_segment=segment)
    assert _top(model, shop, "a3", 1) == ["k1"]  # k2 is more popular overall, k1 in a3's segment
    model = KGRecommender(weights={"aspect": 1.0}).fit(shop, it, 0)
    assert _top(model, shop, "a3", 1) == ["k3"]  # praised for what a3 cares about
    with pytest.raises(ConfigError):
        KGRecommender(signals=["copurchase", "astrology"])


def test_finite_range_skips_nan_and_infinite_entries() -> None:
    from kg.profiles.recommenders.signals import _finite_range

    s = np.array([[0.5, np.nan, 2.0], [np.nan, np.nan, np.nan], [1.0, 1.0, np.nan]], dtype=np.float32)
    for t, top in ((s, 2.0), (np.where(s == 2.0, -np.inf, s).astype(np.float32), 0.5)):  # NaN-skipping, general
        lo, hi = _finite_range(t, np.isfinite(t))
        assert (lo[0, 0], hi[0, 0], lo[2, 0], hi[2, 0]) == (0.5, top, 1.0, 1.0)
        assert not np.isfinite(lo[1, 0]) and not np.isfinite(hi[1, 0])  # a row without a finite entry


def test_lightgcn_propagation_built_once_equals_pygs_own() -> None:
    """The normalised graph built once, and its symmetric backward pass, give PyG's LightGCN embeddings
    and gradients exactly (up to float rounding) on a random user-item graph."""
    torch = pytest.importorskip("torch")
    from torch_geometric.nn.models import LightGCN

    from kg.profiles.recommenders.gnn_propagation import SymmetricLightGCN, batch_nodes, normalized_adjacency

    rng = np.random.default_rng(3)
    n_users, n_items, pairs = 40, 25, 150
    x = sparse.coo_matrix((np.ones(pairs), (rng.integers(0, n_users, pairs), rng.integers(0, n_items, pairs))))
    x = x.tocsr().tocoo()
    users = torch.as_tensor(x.row, dtype=torch.long)
    items = torch.as_tensor(x.col, dtype=torch.long) + n_users
    edge_index = torch.stack([torch.cat([users, items]), torch.cat([items, users])])
    nodes = n_users + n_items
    torch.manual_seed(0)
    ours = SymmetricLightGCN(nodes, 8, 3)
    pygs = LightGCN(nodes, 8, 3)
    pygs.load_state_dict(ours.state_dict())
    label_index = torch.stack([users[:30], items[:30]])
    adjacency = normalized_adjacency(edge_index, nodes)
    ours(adjacency, label_index).square().sum().backward()
    pygs(edge_index, label_index).square().sum().backward()
    assert torch.allclose(ours.get_embedding(adjacency), pygs.get_embedding(edge_index), atol=1e-6)
    assert ours.embedding.weight.grad is not None and pygs.embedding.weight.grad is not None
    assert float(ours.embedding.weight.grad.abs().sum()) > 0
    assert torch.allclose(ours.embedding.weight.grad, pygs.embedding.weight.grad, atol=1e-5)
    batch = torch.cat([users[:30], items[:30]])
    assert torch.equal(batch_nodes(batch, nodes), batch.unique())
