"""A PyKEEN knowledge-graph embedding as a recommender: score(u, i) = the model's score of
(User:u, PURCHASED, Product:i).

Triples come from the TRAINING interactions only (PURCHASED; RATED where a rating event exists;
VIEWED / CARTED when ``behaviour`` is on) plus the catalogue (HAS_BRAND, IN_CATEGORY, SUBCATEGORY_OF,
ALSO_BOUGHT between known products). Training goes through :func:`kg.embeddings.train.train_triples`
on CPU with every triple in the training part (PyKEEN's own test split is a small sample of them,
only because the pipeline insists on one); the epoch count is capped so that at most
``max_triple_passes`` triples are processed, which caps the time.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np

from kg.profiles.data import EVENT_TYPES, Interactions, ShopData
from kg.profiles.recommenders.base import Recommender

__all__ = ["KGERecommender", "build_triples"]

logger = logging.getLogger(__name__)

#: at most this many (user x entity x dim) floats are scored at once (64 MiB)
SCORE_CELLS = 16 * 2**20

_RELATION_OF = {"purchase": "PURCHASED", "rating": "RATED", "view": "VIEWED", "cart": "CARTED", "favorite": "FAVORITED"}


def build_triples(shop: ShopData, train: Interactions, *, behaviour: bool = False) -> np.ndarray:
    """Distinct labelled (head, relation, tail) triples, sorted (an (n, 3) array of str)."""
    kinds = ("purchase", "rating", "view", "cart", "favorite") if behaviour else ("purchase", "rating")
    triples: set[tuple[str, str, str]] = set()
    for kind in kinds:
        mask = train.type == EVENT_TYPES.index(kind)
        pairs = np.unique(train.user[mask].astype(np.int64) * max(train.n_items, 1) + train.item[mask])
        for key in pairs.tolist():
            u, i = divmod(key, max(train.n_items, 1))
            triples.add((f"User:{train.users[u]}", _RELATION_OF[kind], f"Product:{train.items[i]}"))
    cat = shop.catalogue
    items = set(train.items)
    categories: set[str] = set()
    for item in train.items:
        if cat.brand_of.get(item):
            triples.add((f"Product:{item}", "HAS_BRAND", f"Brand:{cat.brand_of[item]}"))
        if cat.category_of.get(item):
            triples.add((f"Product:{item}", "IN_CATEGORY", f"Category:{cat.category_of[item]}"))
            categories.update(cat.ancestors(cat.category_of[item]))
    for child in categories:
        parent = cat.parent_of.get(child)
        if parent:
            triples.add((f"Category:{child}", "SUBCATEGORY_OF", f"Category:{parent}"))
    for a, b in cat.also_bought:
        if a in items and b in items and a != b:
            triples.add((f"Product:{a}", "ALSO_BOUGHT", f"Product:{b}"))
    return np.asarray(sorted(triples), dtype=str).reshape(-1, 3)


class KGERecommender(Recommender):
    """Link prediction (user, PURCHASED, ?) with a PyKEEN model (``model``: TransE, DistMult, ...)."""

    name = "kge"

    def __init__(
        self,
        model: str = "DistMult",
        dim: int = 64,
        epochs: int = 40,
        batch_size: int = 512,
        lr: float = 0.01,
        negatives: int = 4,
        behaviour: bool = False,
        max_triple_passes: int = 1_000_000,
    ) -> None:
        super().__init__()
        self.model_name, self.dim, self.epochs, self.batch_size = model, int(dim), int(epochs), int(batch_size)
        self.lr, self.negatives, self.behaviour = float(lr), int(negatives), bool(behaviour)
        self.max_triple_passes = int(max_triple_passes)

    def fit(self, shop: ShopData, train: Interactions, seed: int = 0) -> KGERecommender:
        import torch

        from kg.embeddings.config import TrainConfig
        from kg.embeddings.runs import load_model
        from kg.embeddings.train import make_factory, train_triples

        self._prepare(train)
        triples = build_triples(shop, train, behaviour=self.behaviour)
        self.user_entity = np.full(train.n_users, -1, dtype=np.int64)
        self.item_entity = np.full(train.n_items, -1, dtype=np.int64)
        self.model = None
        if not (triples[:, 1] == "PURCHASED").any():
            return self
        factory = make_factory(triples)
        sample = factory.clone_and_exchange_triples(
            mapped_triples=factory.mapped_triples[
                torch.randperm(factory.num_triples, generator=torch.Generator().manual_seed(seed))[:64]
            ]
        )
        epochs = max(1, min(self.epochs, self.max_triple_passes // max(factory.num_triples, 1)))
        config = TrainConfig(
            model=self.model_name,
            dim=self.dim,
            epochs=epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            negatives=self.negatives,
            seed=seed,
            device="cpu",
            early_stopping=False,
            eval_max=64,
        )
        with tempfile.TemporaryDirectory(prefix="kg-kge-") as tmp:
            run = train_triples(triples, config, runs_dir=Path(tmp), presplit=(factory, sample, sample))
            self.model = load_model(run)
        self.model.eval()
        ids = factory.entity_to_id
        for u, name in enumerate(train.users):
            self.user_entity[u] = ids.get(f"User:{name}", -1)
        for i, name in enumerate(train.items):
            self.item_entity[i] = ids.get(f"Product:{name}", -1)
        self.relation = factory.relation_to_id["PURCHASED"]
        logger.info("kge: %s, %d triples, %d epochs", config.model, factory.num_triples, epochs)
        return self

    def _raw_scores(self, users: np.ndarray) -> np.ndarray:
        import torch

        out = np.zeros((users.shape[0], self.n_items), dtype=np.float32)
        ent = self.user_entity[users]
        rows = np.flatnonzero(ent >= 0)
        known = np.flatnonzero(self.item_entity >= 0)
        if self.model is None or not rows.size:
            return out
        hr = torch.as_tensor(np.stack([ent[rows], np.full(rows.size, self.relation)], axis=1), dtype=torch.long)
        # PyKEEN may broadcast (batch x entities x dim): small chunks keep that tensor small
        chunk = max(1, SCORE_CELLS // max(1, self.model.num_entities * self.dim))
        with torch.no_grad():
            for start in range(0, rows.size, chunk):
                part = self.model.score_t(hr_batch=hr[start : start + chunk]).cpu().numpy()
                out[np.ix_(rows[start : start + chunk], known)] = part[:, self.item_entity[known]]
        out[:, np.setdiff1d(np.arange(self.n_items), known)] = -np.inf
        return out
