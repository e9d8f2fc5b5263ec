"""LightGCN (He et al. 2020) from ``torch_geometric`` on the user-item purchase graph, BPR loss.

Users are nodes 0..U-1, items U..U+I-1, edges both ways; one uniformly sampled negative item per
positive pair; seeded; torch runs on :func:`kg.embeddings.device.resolve_threads` threads.

Full-batch training: an epoch is one step over every bought pair. Every step propagates over the whole
graph, so its cost hardly depends on the batch, and on the synthetic shops one step per epoch also ranks
better than batches of 4,096 (10^6 events: Recall@20 0.243 vs 0.173 in 14 s instead of 111 s;
docs/performance.md). The graph is normalised once (:mod:`kg.profiles.recommenders.gnn_propagation`).
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
        lr: float = 0.01,
        weight_decay: float = 1e-4,
    ) -> None:
        super().__init__()
        self.dim, self.layers, self.epochs = int(dim), int(layers), int(epochs)
        self.lr, self.weight_decay = float(lr), float(weight_decay)

    def fit(self, shop: ShopData, train: Interactions, seed: int = 0) -> LightGCNRecommender:
        import torch

        from kg.embeddings.device import resolve_threads, torch_threads
        from kg.profiles.recommenders.gnn_propagation import SymmetricLightGCN, batch_nodes, normalized_adjacency

        self._prepare(train)
        x = positive_matrix(train).tocoo()
        n_users, n_items = train.n_users, train.n_items
        with torch_threads(resolve_threads(0)):
            torch.manual_seed(seed)
            gen = torch.Generator().manual_seed(seed)
            users = torch.as_tensor(x.row, dtype=torch.long)
            items = torch.as_tensor(x.col, dtype=torch.long) + n_users
            edge_index = torch.stack([torch.cat([users, items]), torch.cat([items, users])])
            adjacency = normalized_adjacency(edge_index, n_users + n_items)
            model = SymmetricLightGCN(n_users + n_items, self.dim, self.layers)
            opt = torch.optim.Adam(model.parameters(), lr=self.lr)
            n_pos = users.shape[0]
            for epoch in range(self.epochs if n_pos else 0):
                # the pairs shuffled, then one negative each: the random stream of the former batches
                idx = torch.randperm(n_pos, generator=gen)
                neg = torch.randint(0, n_items, (n_pos,), generator=gen) + n_users
                opt.zero_grad()
                pos_edges, neg_edges = torch.stack([users[idx], items[idx]]), torch.stack([users[idx], neg])
                out = model(adjacency, torch.cat([pos_edges, neg_edges], dim=1))
                pos_rank, neg_rank = out.chunk(2)
                node_id = batch_nodes(torch.cat([users, items, neg]), n_users + n_items)
                loss = model.recommendation_loss(pos_rank, neg_rank, node_id=node_id, lambda_reg=self.weight_decay)
                loss.backward()
                opt.step()
                logger.debug("gnn epoch %d loss %.4f", epoch, float(loss.detach()))
            with torch.no_grad():
                emb = model.get_embedding(adjacency).numpy().astype(np.float32)
        self.user_emb, self.item_emb = emb[:n_users], emb[n_users:]
        return self

    def _raw_scores(self, users: np.ndarray) -> np.ndarray:
        return self.user_emb[users] @ self.item_emb.T
