"""Recommenders evaluated side by side by ``kg eval recommend``; ``kg`` is the one ``kg profiles`` writes.

>>> sorted(registry)
['ease', 'gnn', 'itemknn', 'kg', 'kge', 'mf', 'popularity', 'recent', 'transitions']
>>> make_model("popularity").name
'popularity'
"""

from __future__ import annotations

from typing import Any

from kg.foundation.errors import ConfigError
from kg.profiles.recommenders.base import BATCH_USERS, Recommender, recommend, top_k
from kg.profiles.recommenders.blend import KGRecommender
from kg.profiles.recommenders.ease import EASERecommender
from kg.profiles.recommenders.gnn import LightGCNRecommender
from kg.profiles.recommenders.itemknn import ItemKNNRecommender
from kg.profiles.recommenders.kge import KGERecommender
from kg.profiles.recommenders.mf import MFRecommender
from kg.profiles.recommenders.popularity import PopularityRecommender
from kg.profiles.recommenders.recent import RecentRecommender
from kg.profiles.recommenders.signals import SIGNALS
from kg.profiles.recommenders.transitions import TransitionsRecommender

__all__ = [
    "registry",
    "MODEL_NAMES",
    "make_model",
    "Recommender",
    "top_k",
    "recommend",
    "BATCH_USERS",
    "KGRecommender",
    "SIGNALS",
]

#: model name -> class, in the order evaluation reports them
registry: dict[str, type[Recommender]] = {
    "popularity": PopularityRecommender,
    "recent": RecentRecommender,
    "itemknn": ItemKNNRecommender,
    "transitions": TransitionsRecommender,
    "ease": EASERecommender,
    "mf": MFRecommender,
    "kge": KGERecommender,
    "gnn": LightGCNRecommender,
    "kg": KGRecommender,
}
MODEL_NAMES: tuple[str, ...] = tuple(registry)


def make_model(name: str, **opts: Any) -> Recommender:
    """A new, unfitted model called ``name`` with constructor options ``opts``; ConfigError listing names."""
    cls = registry.get(name)
    if cls is None:
        raise ConfigError(f"unknown recommender {name!r}; choose one of: {', '.join(MODEL_NAMES)}")
    try:
        return cls(**opts)
    except TypeError as e:
        raise ConfigError(f"recommender {name!r} rejects its options: {e}") from e
