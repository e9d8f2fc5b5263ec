"""The shortcuts ``kg profiles`` takes at shop size give what the plain computation gives: the pool taken
with torch, labels multiplied densely, scaling without a finite mask, the costly signals taken over from
the validation fit, the validation held out for the sampled users only."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from kg.profiles.data import Interactions, ShopData
from kg.profiles.recommenders import KGRecommender, base, signals
from kg.profiles.recommenders.base import best_per_row, positive_matrix
from kg.profiles.recommenders.signals import SignalModel, fold_in_als, propagated_users, through_labels
from kg.profiles.split import live


def _shop(n_users: int = 300, n_items: int = 60, seed: int = 5) -> ShopData:
    """Users buying and viewing among items over 40 days, two taste groups."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        group = u % 2
        for t in range(int(rng.integers(2, 7))):
            item = int(rng.integers(0, n_items // 2)) * 2 + group
            kind = "purchase" if rng.random() < 0.5 else "view"
            rows.append((f"u{u}", f"p{item}", kind, (t * 7 + int(rng.integers(0, 5))) * 86_400_000, None))
    return ShopData(Interactions.from_rows(rows))


def test_the_pool_taken_with_torch_equals_numpys_ties_included(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((64, 20_000)), 2).astype(np.float32)  # many ties at every pool edge
    scores[3] = 0.5  # a row of nothing but ties
    scores[7, :100] = -np.inf
    order = rng.permutation(20_000)
    assert scores.size >= base.TOPK_WITH_TORCH
    with_torch = best_per_row(scores, 40, order)
    monkeypatch.setattr(base, "TOPK_WITH_TORCH", scores.size + 1)
    with_numpy = best_per_row(scores, 40, order)
    assert np.array_equal(with_torch[0], with_numpy[0]) and np.array_equal(with_torch[1], with_numpy[1])


def test_labels_multiplied_densely_equal_the_sparse_product(monkeypatch: pytest.MonkeyPatch) -> None:
    users = sparse.random(50, 30, density=0.2, format="csr", dtype=np.float32, random_state=2)
    items = sparse.random(400, 30, density=0.1, format="csr", dtype=np.float32, random_state=3)
    dense = through_labels(users, items)
    monkeypatch.setattr(signals, "DENSE_LABEL_CELLS", 0)
    assert dense.dtype == np.float32 and np.allclose(dense, through_labels(users, items), rtol=1e-6, atol=1e-7)


def test_scaling_without_a_finite_mask_equals_the_general_path() -> None:
    shop = _shop()
    model = SignalModel(("copurchase", "brand", "category", "popularity")).fit(shop, shop.interactions)
    users = np.arange(40)
    seen = model.x[users].tocoo()
    for name in model.available:
        fast = model.scaled(name, users, seen)
        raw = model.raw(name, users)
        raw[0, 0] = -np.inf  # forces the general path, then compare everywhere else
        general = raw.copy()
        general[seen.row, seen.col] = np.nan
        finite = np.isfinite(general)
        lo, hi = signals._finite_range(general, finite)
        with np.errstate(invalid="ignore"):
            span = np.where(np.isfinite(hi - lo) & (hi - lo > 0), hi - lo, np.inf)
            general = (general - np.where(np.isfinite(lo), lo, 0)) / span
        general[~finite] = 0.0
        assert np.array_equal(fast[1:], general[1:].astype(np.float32)), name


def test_validation_held_out_for_the_sampled_users_only() -> None:
    inter = _shop().interactions
    full = live(inter)
    chosen = full.evaluated[::10]
    narrow = full.only(inter, chosen)
    assert set(narrow.test) == set(chosen.tolist())
    others = ~np.isin(inter.user, chosen)
    assert narrow.train.n_events == int(others.sum()) + int((full.kept & ~others).sum())
    assert narrow.train.n_events > full.train.n_events


def test_costly_signals_taken_over_from_the_validation_fit() -> None:
    shop = _shop()
    inter = shop.interactions
    val = live(inter)
    val = val.only(inter, val.evaluated[:5])
    learned = SignalModel(("ease", "mf")).fit(ShopData(val.train), val.train)
    refresh = val.evaluated
    model = SignalModel(("ease", "mf")).fit(shop, inter, learned=learned, refresh=refresh)
    assert model.available == ["ease", "mf"]
    assert np.array_equal(model.ease.b, learned.ease.b)  # no second inverse
    x = positive_matrix(inter)
    assert (model.ease.x != x[:, model.ease.cols]).nnz == 0  # every user's whole history scored
    others = np.setdiff1d(np.arange(inter.n_users), refresh)
    assert np.array_equal(model.mf.user_factors[others], learned.mf.user_factors[others])
    folded = fold_in_als(x[refresh], learned.mf.item_factors, learned.mf.regularization, learned.mf.alpha)
    assert np.allclose(model.mf.user_factors[refresh], folded)
    assert learned.mf.user_factors is not model.mf.user_factors


def test_lightgcn_users_refreshed_by_propagation() -> None:
    x = sparse.csr_matrix(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=np.float32))
    items = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert propagated_users(x, items).tolist() == [[2.0, 3.0], [2.0, 3.0]]


def test_the_blend_reuses_its_validation_fit_only_when_it_held_out_little(monkeypatch: pytest.MonkeyPatch) -> None:
    from kg.profiles.recommenders import blend
    from kg.profiles.recommenders.ease import EASERecommender

    shop = _shop(n_users=400)
    wanted = ("ease", "category", "popularity")
    fixed = {"ease": 1.0, "category": 0.5}
    everyone = KGRecommender(wanted).fit(shop, shop.interactions)
    assert everyone.validation["learned signals"] == "refitted"  # every user's last purchase was held out
    monkeypatch.setattr(blend, "REUSE_SHARE", 1.0)
    tune = KGRecommender._tune

    def tune_keeping_ease(self, *args):  # the tuning runs as ever; its weights are set so that EASE counts
        _, fitted, users = tune(self, *args)
        return fixed, fitted, users

    monkeypatch.setattr(KGRecommender, "_tune", tune_keeping_ease)
    sampled = KGRecommender(wanted, max_val_users=100, max_val_cells=1).fit(shop, shop.interactions)
    assert sampled.validation["users"] == 100 and sampled.validation["learned signals"] == "validation fit"
    refit = EASERecommender().fit(shop, shop.interactions)
    assert not np.array_equal(sampled.model.ease.b, refit.b)  # the validation fit's B, not a second inverse
    assert (sampled.model.x != positive_matrix(shop.interactions)).nnz == 0  # scored on everything
