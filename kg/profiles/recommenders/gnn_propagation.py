"""LightGCN's propagation over a fixed user-item graph, paid once per fit instead of at every step.

PyG's ``LGConv`` normalises the graph (``D^-1/2 A D^-1/2``) at every layer of every training step, and
PyTorch's sparse CSR product, asked for the gradient, transposes the matrix by sorting its entries at
every step too. The normalised matrix of an undirected graph is symmetric (its own transpose), so
:func:`normalized_adjacency` builds it once with PyG's ``gcn_norm`` and :class:`SymmetricLightGCN`, PyG's
``LightGCN`` with layers whose backward pass multiplies by that same matrix, trains on it. Imported only
where LightGCN is fitted (it needs torch).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch_geometric.nn.conv import LGConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.nn.models import LightGCN
from torch_geometric.utils import to_torch_csr_tensor

__all__ = ["SymmetricLightGCN", "normalized_adjacency", "batch_nodes"]


def normalized_adjacency(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """``D^-1/2 A D^-1/2`` of an undirected graph (``edge_index`` holds both directions) as sparse CSR."""
    # built once, so the sparse layout's checks are affordable; the product is all this uses of the "beta"
    with warnings.catch_warnings(), torch.sparse.check_sparse_tensor_invariants(enable=True):
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
        adjacency = to_torch_csr_tensor(edge_index, size=(num_nodes, num_nodes))
    normalized, _ = gcn_norm(adjacency, num_nodes=num_nodes, add_self_loops=False)
    return normalized


class _SymmetricProduct(torch.autograd.Function):
    """``A @ x`` for a symmetric sparse ``A``: the gradient with respect to ``x`` is ``A @ grad``."""

    @staticmethod
    def forward(ctx: Any, adjacency: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adjacency = adjacency
        return adjacency @ x

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, ctx.adjacency @ grad


class _SymmetricLGConv(LGConv):
    """``LGConv`` given an already normalised symmetric adjacency (``normalize=False``)."""

    def message_and_aggregate(self, adj_t: Any, x: torch.Tensor) -> torch.Tensor:
        return _SymmetricProduct.apply(adj_t, x)


class SymmetricLightGCN(LightGCN):
    """PyG's ``LightGCN`` (embeddings, layer weights, BPR loss) over :func:`normalized_adjacency`."""

    def __init__(self, num_nodes: int, embedding_dim: int, num_layers: int) -> None:
        super().__init__(num_nodes=num_nodes, embedding_dim=embedding_dim, num_layers=num_layers, normalize=False)
        self.convs = torch.nn.ModuleList([_SymmetricLGConv(normalize=False) for _ in range(num_layers)])


def batch_nodes(nodes: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """The distinct ``nodes``, ascending (as ``unique()``, without sorting the batch).

    >>> batch_nodes(torch.tensor([5, 1, 5, 3]), 8).tolist()
    [1, 3, 5]
    """
    present = torch.zeros(num_nodes, dtype=torch.bool)
    present[nodes] = True
    return present.nonzero().squeeze(1)
