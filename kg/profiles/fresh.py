"""``kg profiles``' :class:`~kg.profiles.pipeline.Learner`: segments clustered and the model fitted on the
whole shop, co-purchase counts counted there (or taken from the Spark stages), the segment map drawn."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from kg.foundation.progress import Progress
from kg.foundation.settings import Settings
from kg.profiles.data import ShopData
from kg.profiles.interests import InterestTable
from kg.profiles.pipeline import Segments
from kg.profiles.reasons import together_counts
from kg.profiles.recommenders.blend import KGRecommender
from kg.profiles.segments import SPLIT_SILHOUETTE, Segmentation, SegmentInfo
from kg.profiles.steps import user_vectors
from kg.profiles.threads import limited_threads
from kg.store import GraphStore

if TYPE_CHECKING:
    from kg.embeddings import TrainConfig

__all__ = [
    "MAP_ITERATIONS",
    "MAP_SAMPLE",
    "SEGMENT_POPULAR",
    "Clustering",
    "FreshLearner",
    "criterion",
    "segment_popular",
]

#: products per segment written as POPULAR_IN
SEGMENT_POPULAR = 50
#: users drawn on the segment map (t-SNE cost grows with the square of this) and t-SNE iterations
MAP_SAMPLE = 2_000
MAP_ITERATIONS = 300


@dataclass
class Clustering(Segments):
    """Segments found by clustering, with what the run writes and keeps of them."""

    features: np.ndarray
    #: the feature columns (``"Label:key"`` then ``"emb:i"``)
    columns: list[str]
    segmentation: Segmentation
    infos: list[SegmentInfo]
    #: (segment, product, rank, share) rows written as POPULAR_IN
    popular_rows: list[dict[str, str | int | float]]
    #: the segment map drawn, if any
    map_file: Path | None = None


def segment_popular(
    positive: sparse.csr_matrix, assignment: np.ndarray, items: Sequence[str], top: int = SEGMENT_POPULAR
) -> tuple[list[dict[str, str | int | float]], dict[int, set[str]]]:
    """The ``top`` products most bought in each segment: rows as written to POPULAR_IN, and segment id
    (from 1) -> their ids."""
    rows: list[dict[str, str | int | float]] = []
    popular: dict[int, set[str]] = {}
    for segment in np.unique(assignment):
        members = np.flatnonzero(assignment == segment)
        counts = np.asarray(positive[members].sum(axis=0)).ravel()
        order = np.lexsort((np.arange(counts.size), -counts))[:top]
        order = order[counts[order] > 0]
        sid = int(segment) + 1
        popular[sid] = {items[i] for i in order}
        rows += [
            {"segment": sid, "product": items[i], "rank": rank + 1, "share": round(float(counts[i]) / members.size, 4)}
            for rank, i in enumerate(order)
        ]
    return rows, popular


def criterion(segmentation: Segmentation, asked: int | None) -> str:
    """How the number of segments was chosen, in words."""
    if asked:
        return f"{asked} segments as asked (--segments)"
    scores = segmentation.silhouettes or {}
    if not scores:
        text = "one segment: too few users to compare clusterings"
    else:
        best = max(scores, key=lambda key: scores[key])
        text = f"k={best}: best silhouette {scores[best]:.3f} over k={min(scores)}..{max(scores)}"
    if segmentation.splits:
        text += (
            f"; {len(segmentation.splits)} segment(s) split further where their own split's silhouette was >= "
            f"{SPLIT_SILHOUETTE} (at most {segmentation.k_max} segments)"
        )
    elif segmentation.k_max:
        text += f"; no segment split further (silhouette >= {SPLIT_SILHOUETTE}, at most {segmentation.k_max})"
    if segmentation.weak is not None:
        text += f"; users with no signal apart as segment {segmentation.weak + 1}"
    return text


class FreshLearner:
    """Learns from the whole shop: KGE user vectors (trained with defaults when the graph has none and
    ``train``), k-means segments (``n_segments``, else chosen top-down by silhouette: :mod:`kg.profiles.segments`),
    the ``kg`` blend fitted anew, co-purchase counts by ``count_together`` (default
    :func:`~kg.profiles.reasons.together_counts`, here; ``kg profiles --engine spark``:
    :meth:`kg.profiles.spark.SparkStages.together`, counted on Spark with the interests).
    After a run, :attr:`clustering`, :attr:`embeddings_run` and :attr:`notes` say what was learned."""

    def __init__(
        self,
        store: GraphStore,
        settings: Settings,
        *,
        n_segments: int | None = None,
        seed: int = 0,
        train: bool = True,
        train_config: TrainConfig | None = None,
        progress: Progress | None = None,
        map_path: Path | None = None,
        count_together: Callable[[sparse.csr_matrix], sparse.csr_matrix] = together_counts,
    ) -> None:
        self.store, self.settings = store, settings
        self.n_segments, self.seed = n_segments, seed
        self.train, self.train_config, self.progress = train, train_config, progress
        self.map_path = map_path
        self.count_together = count_together
        self.clustering: Clustering | None = None
        self.embeddings_run: str | None = None
        #: the user vectors the segments used (after :meth:`vectors`)
        self.user_vectors: dict[str, np.ndarray] = {}
        #: facts about the fit said once (key -> message)
        self.notes: dict[str, str] = {}

    def vectors(self) -> dict[str, np.ndarray]:
        vectors, self.embeddings_run = user_vectors(
            self.store, self.settings, self.train, self.train_config, self.progress, seed=self.seed
        )
        self.user_vectors = vectors
        return vectors

    def segments(self, shop: ShopData, interests: InterestTable, vectors: dict[str, np.ndarray]) -> Clustering:
        from kg.profiles.charts import segment_map_png
        from kg.profiles.segments import build_features, label_segments, segment_users

        inter = shop.interactions
        features, columns = build_features(inter.users, interests, vectors or None)
        map_file = None
        with limited_threads():
            segmentation = segment_users(
                features, n_segments=self.n_segments, seed=self.seed, users=inter.users, standardise=False
            )
            infos = label_segments(segmentation, interests)
            assignment = np.asarray(segmentation.assignment)
            if self.map_path is not None:
                map_file = segment_map_png(
                    features,
                    assignment,
                    [i.label for i in infos],
                    self.map_path,
                    seed=self.seed,
                    sample=MAP_SAMPLE,
                    max_iter=MAP_ITERATIONS,
                )
        popular_rows, popular = segment_popular(inter.matrix(), assignment, inter.items)
        self.clustering = Clustering(
            assignment=assignment,
            label={i.id + 1: i.label for i in infos},
            popular=popular,
            features=features,
            columns=list(columns),
            segmentation=segmentation,
            infos=infos,
            popular_rows=popular_rows,
            map_file=map_file,
        )
        return self.clustering

    def model(self, shop: ShopData, segments: Segments) -> KGRecommender:
        from kg.profiles.recommenders.base import collect_notes

        with limited_threads(), collect_notes() as notes:
            model = KGRecommender().fit(shop, shop.interactions, seed=self.seed, user_segment=segments.assignment)
        self.notes.update(notes)
        return model

    def together(self, positive: sparse.csr_matrix) -> sparse.csr_matrix:
        return self.count_together(positive)
