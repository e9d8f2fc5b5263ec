"""Steps of the profiles pipeline (:mod:`kg.profiles.pipeline`) that ``kg profiles`` and ``kg update`` share:
learned user vectors, and top-k recommendations with their reasons."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.foundation.errors import ConfigError
from kg.foundation.progress import Progress, step_reporter
from kg.foundation.settings import Settings
from kg.profiles.data import Interactions
from kg.profiles.reasons import COLLABORATIVE, Explainer
from kg.profiles.recommenders.base import Recommender, exclude_cold, exclude_seen, seen_items
from kg.store import GraphStore

if TYPE_CHECKING:
    from kg.embeddings import TrainConfig

__all__ = ["RecommendationRow", "Together", "day", "recommend_with_reasons", "stored_score", "user_vectors"]

logger = logging.getLogger(__name__)

#: one recommendation as written to the graph: user, product, score, rank, reason, path, path_types
RecommendationRow = dict[str, Any]
#: a co-purchase pair a reason cites: (source product, target product, buyers of both)
Together = tuple[str, str, int]

_say = step_reporter(logger)


def stored_score(score: float) -> float:
    """An interest score as written to the graph: 6 significant digits, not 6 decimals (a shop spanning
    years decays old interests below 1e-6; rounding them to 0 would lose their proportions).

    >>> stored_score(7.1242817), stored_score(5.96e-08)
    (7.12428, 5.96e-08)
    """
    return float(f"{float(score):.6g}")


def day(ms: Any) -> str | None:
    if not isinstance(ms, (int, float)):
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def user_vectors(
    store: GraphStore,
    settings: Settings,
    train: bool,
    train_config: TrainConfig | None,
    progress: Progress | None,
    *,
    seed: int = 0,
) -> tuple[dict[str, np.ndarray], str | None]:
    """Learned user vectors of the KGE run written to this graph; trains one with defaults (seeded with
    ``seed``) when none is."""
    from kg.embeddings import TrainConfig, train_graph
    from kg.embeddings.runs import find_run, last_write

    run = last_write(settings.runs_dir, settings.graph)
    if run is None and train:
        _say(progress, "no embeddings in the graph yet: training them with defaults (kg embed train)")
        report = train_graph(store, settings, train_config or TrainConfig(seed=seed))
        run = find_run(settings.runs_dir, report.run_id)
    if run is None:
        return {}, None
    if run.entity_embeddings is None:
        run = run.load_arrays()
    embeddings = run.entity_embeddings
    if embeddings is None:  # a run folder without entity_embeddings.npy (deleted or never finished)
        raise ConfigError(
            f"run {run.run_id} has no entity embeddings ({run.path / 'entity_embeddings.npy'} is missing)",
            hint="train and write a new run (kg embed train)",
        )
    vectors = {
        label[len("User:") :]: embeddings[index]
        for label, index in run.entity_to_id.items()
        if label.startswith("User:")
    }
    return vectors, run.run_id


def recommend_with_reasons(
    model: Recommender, explainer: Explainer, inter: Interactions, k: int, *, batch: int = 256
) -> tuple[list[RecommendationRow], dict[str, int], set[Together]]:
    """Top ``k`` products per user of ``inter`` that they have not seen (bought or rated, as in the
    evaluation: viewed or carted products may come back), each with a reason; products without one are
    passed over. Returns the rows, the reasons counted by the kind of path stored (a co-purchase path found
    for a gnn score counts as ``copurchase``) and the co-purchase pairs the reasons cite.
    ``model`` scores the users of ``inter`` by their index there."""
    seen = seen_items(inter)
    rows: list[RecommendationRow] = []
    reasons: dict[str, int] = {}
    together: set[Together] = set()
    n_items = model.n_items
    pool = min(n_items, 3 * k + 10)
    for lo in range(0, inter.n_users, batch):
        users = np.arange(lo, min(lo + batch, inter.n_users))
        parts = model.parts(users)
        names = list(parts)
        scores = np.asarray(sum(parts.values()), dtype=np.float64) if names else np.zeros((users.size, n_items))
        exclude_seen(exclude_cold(model, scores), seen[users])
        for row_index, u in enumerate(users.tolist()):
            s = scores[row_index]
            candidates = np.argpartition(-s, pool - 1)[:pool] if pool < s.size else np.arange(s.size)
            candidates = candidates[np.isfinite(s[candidates])]
            candidates = candidates[np.lexsort((candidates, -s[candidates]))]
            if candidates.size == 0:
                continue
            matrix = (
                np.vstack([parts[n][row_index, candidates] for n in names]) if names else np.zeros((0, candidates.size))
            )
            bought, block = explainer.copurchase_block(u, candidates.tolist())
            rank = 0
            for c, item in enumerate(candidates.tolist()):  # best first, until k have a reason
                order = [names[j] for j in np.argsort(-matrix[:, c], kind="stable") if matrix[j, c] > 0]
                reason = explainer.explain(u, item, order, column=block[:, c], bought=bought)
                if reason is None:
                    continue
                rank += 1
                rows.append(
                    {
                        "user": inter.users[u],
                        "product": inter.items[item],
                        "score": round(float(s[item]), 6),
                        "rank": rank,
                        "reason": reason.text,
                        "path": reason.path,
                        "path_types": reason.path_types,
                    }
                )
                kind = "copurchase" if reason.signal in COLLABORATIVE else reason.signal  # the path stored
                reasons[kind] = reasons.get(kind, 0) + 1
                if reason.together:
                    together.add(reason.together)
                if rank == k:
                    break
    return rows, reasons, together
