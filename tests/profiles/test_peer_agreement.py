"""Peers confirm ``kg eval recommend``'s figures on the shared Gift Cards data: cornac's MostPop for
``popularity`` and implicit's CosineRecommender for ``itemknn`` (item-item cosine, kg's neighbourhood size),
fitted on the training part of kg's own split, ranked here from the peer's scores (bought items excluded,
ties to the item more users bought, then the lower item code) and scored here with Recall@20 and NDCG@20
written out again, agree with kg's figures within 1%.

Only the split (which events train, which items are held out) comes from kg; the models, the bought matrix,
the tie rule and the metrics do not. kg's own ALS comes from implicit, its item-kNN does not (scipy sparse
products there, implicit's C++ all-pairs kNN here). cornac's ItemKNN is not a peer of ``itemknn``: a
rating-prediction kNN, its cosine runs over co-rating users only (on 0/1 data every pair of items that share
a buyer scores 1) and its score is a weighted mean of ratings, so on purchases it ranks by how many of the
user's items share a buyer with the candidate, a different model. Skipped without the shared data, and the
popularity check without cornac (the ``test`` extra).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from kg.profiles.data import Interactions, ShopData
from kg.profiles.evaluate import evaluate_recommenders
from kg.profiles.recommenders.itemknn import ItemKNNRecommender
from kg.profiles.split import make_split

K = 20
SPLITS = ["live", "leave-last-out"]
#: users, items (raw ids, sorted) and the binary users x items matrix of what each bought in training
Bought = tuple[list[str], list[str], sparse.csr_matrix]
#: a fitted peer: user row -> scores of every item of :data:`Bought`'s item list
Scorer = Callable[[int], np.ndarray]


@pytest.fixture(scope="module")
def gift_cards(amazon_dir: Path) -> ShopData:
    from bench.recommend import load_gift_cards

    return load_gift_cards(amazon_dir)


def bought_matrix(train: Interactions) -> Bought:
    """The purchases and ratings of ``train`` as a binary matrix over sorted raw ids (the peers' input)."""
    mask = train.type_mask(("purchase", "rating"))
    pairs = set(zip(train.user[mask].tolist(), train.item[mask].tolist(), strict=True))
    users = sorted({train.users[u] for u, _ in pairs})
    items = sorted({train.items[i] for _, i in pairs})
    row, col = {u: n for n, u in enumerate(users)}, {i: n for n, i in enumerate(items)}
    cells = [(row[train.users[u]], col[train.items[i]]) for u, i in pairs]
    r, c = zip(*cells, strict=True)
    matrix = sparse.csr_matrix((np.ones(len(cells)), (r, c)), shape=(len(users), len(items)))
    return users, items, matrix


def cornac_most_pop(bought: Bought) -> Scorer:
    from cornac.data import Dataset
    from cornac.models import MostPop

    users, items, matrix = bought
    coo = matrix.tocoo()
    dataset = Dataset.from_uir([(users[u], items[i], 1.0) for u, i in zip(coo.row, coo.col, strict=True)], seed=0)
    model = MostPop().fit(dataset)
    to_cornac = np.asarray([dataset.iid_map[i] for i in items])
    return lambda user: np.asarray(model.score(dataset.uid_map[users[user]]), dtype=np.float64)[to_cornac]


def implicit_cosine(bought: Bought) -> Scorer:
    from implicit.nearest_neighbours import CosineRecommender

    _, items, matrix = bought
    model = CosineRecommender(K=ItemKNNRecommender().neighbours or len(items), num_threads=1)
    model.fit(matrix, show_progress=False)

    def score(user: int) -> np.ndarray:
        ids, values = model.recommend(user, matrix[user], N=len(items), filter_already_liked_items=True)
        out = np.zeros(len(items))  # items implicit leaves out share no buyer with the user's: 0
        out[ids] = values
        return out

    return score


def figures(ranked: list[list[str]], relevant: list[set[str]]) -> tuple[float, float]:
    """Mean Recall@K (hits / held-out items) and NDCG@K (binary gains, log2 discounts, the ideal putting
    min(K, held-out items) hits first)."""
    recall, ndcg = [], []
    for items, held in zip(ranked, relevant, strict=True):
        gains = [1.0 / math.log2(rank + 2) for rank, item in enumerate(items[:K]) if item in held]
        ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(K, len(held))))
        recall.append(len(gains) / len(held))
        ndcg.append(sum(gains) / ideal)
    return float(np.mean(recall)), float(np.mean(ndcg))


def peer_figures(shop: ShopData, split: str, fit: Callable[[Bought], Scorer]) -> tuple[float, float]:
    """Recall@K and NDCG@K of the peer ``fit`` returns, on kg's ``split`` of ``shop``."""
    data = make_split(shop.interactions, split)
    train = data.train
    users, items, matrix = bought = bought_matrix(train)
    score = fit(bought)
    buyers = np.diff(matrix.tocsc().indptr)
    code = np.asarray([train.item_index[i] for i in items])
    row_of = {u: n for n, u in enumerate(users)}
    ranked, relevant = [], []
    for user in data.evaluated.tolist():
        row = row_of[train.users[user]]
        order = np.lexsort((code, -buyers, -score(row)))
        own = set(matrix[row].indices.tolist())
        ranked.append([items[i] for i in order if i not in own][:K])
        relevant.append({train.items[i] for i in data.test[user]})
    return figures(ranked, relevant)


def _agree(shop: ShopData, split: str, model: str, fit: Callable[[Bought], Scorer]) -> None:
    row = evaluate_recommenders(shop, models=[model], ks=(K,), split=split).rows[0]
    recall, ndcg = peer_figures(shop, split, fit)
    assert recall > 0.2 and ndcg > 0.05, (recall, ndcg)  # a ranking, not an empty list
    assert row[f"recall@{K}"] == pytest.approx(recall, rel=0.01), (split, row[f"recall@{K}"], recall)
    assert row[f"ndcg@{K}"] == pytest.approx(ndcg, rel=0.01), (split, row[f"ndcg@{K}"], ndcg)


@pytest.mark.parametrize("split", SPLITS)
def test_cornac_most_pop_confirms_popularity(gift_cards: ShopData, split: str) -> None:
    pytest.importorskip("cornac", reason="cornac is not installed (the 'test' extra: pip install -e '.[test]')")
    _agree(gift_cards, split, "popularity", cornac_most_pop)


@pytest.mark.filterwarnings("ignore:Method expects CSR input")  # implicit's own normalize hands itself a COO
@pytest.mark.parametrize("split", SPLITS)
def test_implicit_cosine_confirms_itemknn(gift_cards: ShopData, split: str) -> None:
    _agree(gift_cards, split, "itemknn", implicit_cosine)
