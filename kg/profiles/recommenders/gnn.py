"""LightGCN (He et al. 2020) from ``torch_geometric`` on the user-item purchase graph, BPR loss.

Users are nodes 0..U-1, items U..U+I-1, edges both ways; one uniformly sampled negative item per
positive pair; seeded; torch runs on :func:`kg.embeddings.device.resolve_threads` threads.
"""

from __future__ import annotations

import logging

import numpy as np

from kg.profiles.data import Interactions, ShopData
from kg.profiles.recommenders.base import Recommender, positive_matrix

__all__ = ["LightGCNRecommender"]

logger = logging.getLogger(__name__)


class LightGCNRecommender(Recommender):
    """Graph-convolution embeddings; score = user embedding . item embedding."""

    name = "gnn"

    def __init__(
        self,
        dim: int = 64,
        layers: int = 2,
        epochs: int = 60,
        batch_size: int = 4096,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
    ) -> None:
        super().__init__()
        self.dim, self.layers, self.epochs, self.batch_size = int(dim), int(layers), int(epochs), int(batch_size)
        self.lr, self.weight_decay = float(lr), float(weight_decay)

    def fit(self, shop: ShopData, train: Interactions, seed: int = 0) -> LightGCNRecommender:
        import torch
        from torch_geometric.nn.models import LightGCN

        from kg.embeddings.device import resolve_threads, torch_threads

        self._prepare(train)
        x = positive_matrix(train).tocoo()
        n_users, n_items = train.n_users, train.n_items
        with torch_threads(resolve_threads(0)):
            torch.manual_seed(seed)
            gen = torch.Generator().manual_seed(seed)
            users = torch.as_tensor(x.row, dtype=torch.long)
            items = torch.as_tensor(x.col, dtype=torch.long) + n_users
            edge_index = torch.stack([torch.cat([users, items]), torch.cat([items, users])])
            model = LightGCN(num_nodes=n_users + n_items, embedding_dim=self.dim, num_layers=self.layers)
            opt = torch.optim.Adam(model.parameters(), lr=self.lr)
            n_pos = users.shape[0]
            for epoch in range(self.epochs if n_pos else 0):
                perm = torch.randperm(n_pos, generator=gen)
                total = 0.0
                for start in range(0, n_pos, self.batch_size):
                    idx = perm[start : start + self.batch_size]
                    neg = torch.randint(0, n_items, (idx.shape[0],), generator=gen) + n_users
                    pos_edges = torch.stack([users[idx], items[idx]])
                    neg_edges = torch.stack([users[idx], neg])
                    opt.zero_grad()
                    out = model(edge_index, torch.cat([pos_edges, neg_edges], dim=1))
                    pos_rank, neg_rank = out.chunk(2)
                    node_id = torch.cat([users[idx], items[idx], neg]).unique()
                    loss = model.recommendation_loss(pos_rank, neg_rank, node_id=node_id, lambda_reg=self.weight_decay)
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * idx.shape[0]
                logger.debug("gnn epoch %d loss %.4f", epoch, total / max(n_pos, 1))
            with torch.no_grad():
                emb = model.get_embedding(edge_index).numpy().astype(np.float32)
        self.user_emb, self.item_emb = emb[:n_users], emb[n_users:]
        return self

    def _raw_scores(self, users: np.ndarray) -> np.ndarray:
        return self.user_emb[users] @ self.item_emb.T
