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
from kg.profiles.recommenders.base import Recommender, best_per_row, exclude_cold, exclude_seen, seen_items
from kg.store import GraphStore

if TYPE_CHECKING:
    from kg.embeddings import TrainConfig

__all__ = [
    "RecommendationRow",
    "Together",
    "day",
    "first_per_row",
    "recommend_with_reasons",
    "stored_score",
    "user_vectors",
]

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


#: what a first ``kg profiles`` changes in ``kg embed train``'s defaults when it trains the graph's embeddings
#: itself: batches of 2,048 triples (on the Gift Cards shop 2.4x faster epochs than 256, and a better test
#: MRR), 30 epochs without early stopping (which validated every 10 epochs, ran on to 60 there and
#: reached a lower test MRR, 0.140 vs 0.157) and 1,000 ranked test triples for the run's metrics (a profile
#: does not use them); see docs/performance.md
AUTO_TRAIN: dict[str, int | bool] = {"batch_size": 2048, "epochs": 30, "early_stopping": False, "eval_max": 1000}


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
        report = train_graph(store, settings, train_config or TrainConfig(seed=seed, **AUTO_TRAIN))
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


def first_per_row(rows: np.ndarray, keep: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Of ``rows`` (sorted), the positions of the first ``k`` kept entries of each row, and their ranks
    (from 1)."""
    kept = np.flatnonzero(keep)
    if kept.size == 0:
        return kept, kept
    r = rows[kept]
    starts = np.searchsorted(r, r, side="left")
    rank = np.arange(kept.size) - starts + 1
    return kept[rank <= k], rank[rank <= k]


def recommend_with_reasons(
    model: Recommender, explainer: Explainer, inter: Interactions, k: int, *, batch: int = 256
) -> tuple[list[RecommendationRow], dict[str, int], set[Together]]:
    """Top ``k`` products per user of ``inter`` that they have not seen (bought or rated, as in the
    evaluation: viewed or carted products may come back), each with a reason; products without one are
    passed over (of the best ``3k + 10``). Returns the rows, the reasons counted by the kind of path
    stored (a co-purchase path found for a gnn score counts as ``copurchase``) and the co-purchase pairs
    the reasons cite. ``model`` scores the users of ``inter`` by their index there; ties go to the item first
    in its ``tie_order`` (the more popular in its training data; lower item code where it has none)."""
    seen = seen_items(inter)
    rows: list[RecommendationRow] = []
    reasons: dict[str, int] = {}
    together: set[Together] = set()
    n_items = model.n_items
    pool = min(n_items, 3 * k + 10)
    order = getattr(model, "tie_order", None)  # ties to the more popular item (None: a state saved before)
    # one copy of each text, node and edge list however many rows repeat it: half the memory of a shop's rows
    share = dict[str, str]().setdefault
    share_types = dict[tuple[str, ...], list[str]]().setdefault
    for lo in range(0, inter.n_users, batch):
        users = np.arange(lo, min(lo + batch, inter.n_users))
        parts = model.parts(users)
        names = list(parts)
        # the parts are float32, so is their sum: ranked as it is (a float64 copy would hold the same values)
        empty = np.zeros((users.size, n_items), np.float32)
        scores = np.asarray(sum(parts.values()), dtype=np.float32) if names else empty
        exclude_seen(exclude_cold(model, scores), seen[users])
        row, item = best_per_row(scores, pool, order)
        strength = np.column_stack([parts[n][row, item] for n in names]) if names else np.zeros((row.size, 0))
        choices = explainer.choose(users[row], item, strength, names)
        for p, rank in zip(*first_per_row(row, choices.explained, k), strict=True):
            reason = explainer.reason(choices, int(p))
            if reason is None:  # chosen pairs always have one
                continue
            rows.append(
                {
                    "user": inter.users[int(users[row[p]])],
                    "product": inter.items[int(item[p])],
                    "score": round(float(scores[row[p], item[p]]), 6),
                    "rank": int(rank),
                    "reason": share(reason.text, reason.text),
                    "path": [share(step, step) for step in reason.path],
                    "path_types": share_types(tuple(reason.path_types), reason.path_types),
                }
            )
            kind = "copurchase" if reason.signal in COLLABORATIVE else reason.signal  # the path stored
            reasons[kind] = reasons.get(kind, 0) + 1
            if reason.together:
                together.add(reason.together)
    return rows, reasons, together
