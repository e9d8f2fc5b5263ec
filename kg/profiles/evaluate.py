"""Evaluate recommenders side by side on one honest split (what ``kg eval recommend`` runs).

Every model is trained on the training part only and ranks every product for every evaluated
user, the user's purchased/rated training items excluded, ties to the item more popular in training
(see :mod:`kg.profiles.recommenders.base`). Rows hold Recall/NDCG/hit/coverage at each K over all
evaluated users, and Recall/NDCG/hit over each slice of them (keys ``recall@20_<slice>`` ...,
``users_<slice>``; None where a slice is empty), by what the user's training history holds:

- ``cold``: at most :data:`COLD_MAX` purchased/rated items;
- ``bought1``, ``bought2-4``, ``bought5+``: 1, 2 to 4, 5 or more purchased/rated items;
- ``views_only``: none purchased or rated, only views, carts or favourites (the ``live`` split's
  first-time buyers);

plus ``users`` and ``seconds`` (fit + ranking).
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kg.foundation.errors import ConfigError
from kg.profiles.data import ShopData
from kg.profiles.metrics import coverage_at_k, hit_at_k, ndcg_at_k, recall_at_k
from kg.profiles.recommenders import MODEL_NAMES, make_model, recommend
from kg.profiles.recommenders.base import collect_notes, positive_matrix
from kg.profiles.recommenders.signals import aspects_before
from kg.profiles.split import DEFAULT_SPLIT, SPLITS, Split, make_split
from kg.profiles.threads import limited_threads

__all__ = [
    "EvalReport",
    "evaluate_recommenders",
    "COLD_MAX",
    "SLICES",
    "TUNED_ON_VALIDATION",
    "metric_row",
    "check_args",
    "slice_masks",
]

logger = logging.getLogger(__name__)

#: models that tune on a validation split of the kind evaluated, carved from the training part
TUNED_ON_VALIDATION: tuple[str, ...] = ("kg", "transitions")
#: evaluated users with at most this many purchased/rated training items form the cold slice
COLD_MAX = 2
#: the slices of evaluated users besides ``cold`` (see the module docstring), as the table names them
SLICES: dict[str, str] = {
    "bought1": "had bought 1 item",
    "bought2-4": "2-4",
    "bought5+": "5+",
    "views_only": "only browsed (views/carts/favourites)",
}


def slice_masks(bought: np.ndarray, has_history: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks over evaluated users: ``cold`` and each of :data:`SLICES`, from each user's count of
    purchased/rated training items and whether they have any training event.

    >>> {k: v.tolist() for k, v in slice_masks(np.array([0, 1, 3, 6]), np.array([True] * 4)).items()}
    {'cold': [True, True, False, False], 'bought1': [False, True, False, False], \
'bought2-4': [False, False, True, False], 'bought5+': [False, False, False, True], \
'views_only': [True, False, False, False]}
    """
    return {
        "cold": bought <= COLD_MAX,
        "bought1": bought == 1,
        "bought2-4": (bought >= 2) & (bought <= 4),
        "bought5+": bought >= 5,
        "views_only": (bought == 0) & has_history,
    }


@dataclass
class EvalReport:
    """One evaluation run: a row per model plus who was evaluated and skipped."""

    split: str
    ks: tuple[int, ...]
    rows: list[dict[str, Any]]
    users_evaluated: int
    users_skipped: int
    skip_reasons: dict[str, int] = field(default_factory=dict)
    users_cold: int = 0
    #: evaluated users per slice of :data:`SLICES`
    users_slices: dict[str, int] = field(default_factory=dict)
    n_items: int = 0
    files: list[Path] = field(default_factory=list)
    #: facts about this run said once (e.g. a model limited to the most bought items)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "ks": list(self.ks),
            "users_evaluated": self.users_evaluated,
            "users_skipped": self.users_skipped,
            "skip_reasons": dict(self.skip_reasons),
            "users_cold": self.users_cold,
            "cold_max_train_items": COLD_MAX,
            "users_slices": dict(self.users_slices),
            "items": self.n_items,
            "rows": self.rows,
            "notes": list(self.notes),
            "files": [str(p) for p in self.files],
        }

    def columns(self) -> list[str]:
        cols = ["model"]
        for k in self.ks:
            cols += [f"recall@{k}", f"ndcg@{k}", f"hit@{k}", f"coverage@{k}"]
        k = max(self.ks)
        shown = [f"recall@{k}_{name}" for name in SLICES if self.users_slices.get(name)]
        return cols + [f"recall@{k}_cold", f"ndcg@{k}_cold", *shown, "users", "seconds"]

    def lines(self) -> list[str]:
        """A plain-text table plus the evaluated/skipped counts."""
        cols = self.columns()
        cells = [cols] + [[_fmt(row.get(c)) for c in cols] for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(cols))]
        out = [
            "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True)))
            for r in cells
        ]
        reasons = ", ".join(f"{n} {why}" for why, n in self.skip_reasons.items()) or "none"
        slices = ", ".join(f"{self.users_slices.get(name, 0)} {label}" for name, label in SLICES.items())
        out.append(
            f"split {self.split}: {self.users_evaluated} users evaluated ({self.users_cold} cold: "
            f"<= {COLD_MAX} training items; {slices}), {self.users_skipped} skipped ({reasons}); "
            f"{self.n_items} items ranked"
        )
        for row in self.rows:
            if row.get("error"):
                out.append(f"{row['model']} failed: {row['error']}")
        out += [f"note: {n}" for n in self.notes]
        return out


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if value < 100 else f"{value:.1f}"
    return str(value)


def check_args(models: Sequence[str], ks: Sequence[int], split: str) -> tuple[list[str], tuple[int, ...]]:
    """Validated model names and sorted distinct ks; ConfigError on anything unknown."""
    models = list(models)
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown or not models:
        raise ConfigError(
            f"unknown recommender(s) {', '.join(unknown) or '(none given)'}; choose from: {', '.join(MODEL_NAMES)}"
        )
    ks = list(ks)
    if not ks or any(not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k <= 0 for k in ks):
        raise ConfigError(f"--k must be positive integers, got {ks!r}", hint="e.g. --k 10,20")
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    return models, tuple(sorted({int(k) for k in ks}))


def metric_row(
    ranked: np.ndarray,
    relevant: list[set[int]],
    ks: Sequence[int],
    n_items: int,
    cold: np.ndarray,
    slices: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Mean metrics at each k over all rows, over the ``cold`` rows (boolean mask) and over each of
    ``slices`` (name -> boolean mask; keys ``recall@k_<name>`` ...)."""
    row: dict[str, Any] = {}
    groups = {"cold": cold, **(slices or {})}
    for k in ks:
        for name, fn in (("recall", recall_at_k), ("ndcg", ndcg_at_k), ("hit", hit_at_k)):
            values = fn(ranked, relevant, k)
            row[f"{name}@{k}"] = round(float(values.mean()), 6) if len(values) else None
            for group, mask in groups.items():
                if not mask.any():
                    row[f"{name}@{k}_{group}"] = None
                    continue
                part = fn(ranked[mask], [r for r, m in zip(relevant, mask, strict=True) if m], k)
                row[f"{name}@{k}_{group}"] = round(float(part.mean()), 6)
        row[f"coverage@{k}"] = round(coverage_at_k(ranked, k, n_items=n_items), 6)
    return row


def _plot(report: EvalReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = 20 if 20 in report.ks else max(report.ks)
    rows = [r for r in report.rows if r.get(f"recall@{k}") is not None]
    metrics = [f"recall@{k}", f"ndcg@{k}", f"recall@{k}_cold"]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(rows) + 2), 4))
    width = 0.8 / len(metrics)
    x = np.arange(len(rows))
    for j, metric in enumerate(metrics):
        ax.bar(x + j * width, [r.get(metric) or 0.0 for r in rows], width, label=metric)
    ax.set_xticks(x + width * (len(metrics) - 1) / 2, [r["model"] for r in rows])
    ax.set_title(f"{report.split}: {report.users_evaluated} users, {report.users_skipped} skipped")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _write(report: EvalReport, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "eval.json", out_dir / "eval.tsv", out_dir / "eval.png"]
    report.files = paths
    cols = report.columns() + sorted({k for r in report.rows for k in r} - set(report.columns()))
    with open(paths[1], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(cols)
        writer.writerows([["" if r.get(c) is None else r.get(c) for c in cols] for r in report.rows])
    _plot(report, paths[2])
    paths[0].write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")


def evaluate_recommenders(
    shop: ShopData,
    *,
    models: Sequence[str] = MODEL_NAMES,
    ks: Sequence[int] = (10, 20),
    split: str = DEFAULT_SPLIT,
    seed: int = 0,
    out_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    model_options: dict[str, dict[str, Any]] | None = None,
) -> EvalReport:
    """Split ``shop``, train every model on the training part, rank, score. A model that raises gets a
    row with ``error`` (its metrics None) and the others still run; bad arguments raise ConfigError."""
    names, ks = check_args(models, ks, split)
    say = progress or (lambda message: logger.info("%s", message))
    data: Split = make_split(shop.interactions, split)
    train = data.train
    eval_shop = ShopData(train, shop.catalogue, aspects_before(shop.aspects, train.users, data.cutoff_at))
    users = data.evaluated
    relevant = [data.test[int(u)] for u in users]
    seen = positive_matrix(train)
    train_items = np.asarray(seen.sum(axis=1)).ravel()
    has_history = np.bincount(train.user, minlength=train.n_users) > 0
    slices = slice_masks(train_items[users], has_history[users])
    cold = slices.pop("cold")
    report = EvalReport(
        split=data.name,
        ks=ks,
        rows=[],
        users_evaluated=data.n_evaluated,
        users_skipped=data.n_skipped,
        skip_reasons=dict(data.skip_reasons),
        users_cold=int(cold.sum()),
        users_slices={name: int(mask.sum()) for name, mask in slices.items()},
        n_items=train.n_items,
    )
    say(f"{split}: {data.n_evaluated} users evaluated, {data.n_skipped} skipped, {train.n_items} items")
    with collect_notes() as notes:
        for name in names:
            _evaluate_one(
                name, report, eval_shop, train, seed, users, seen, relevant, ks, cold, slices, data, say, model_options
            )
    report.notes = list(notes.values())
    if out_dir is not None:
        _write(report, Path(out_dir))
    return report


def _evaluate_one(
    name: str,
    report: EvalReport,
    eval_shop: ShopData,
    train: Any,
    seed: int,
    users: np.ndarray,
    seen: Any,
    relevant: list[set[int]],
    ks: tuple[int, ...],
    cold: np.ndarray,
    slices: dict[str, np.ndarray],
    data: Split,
    say: Callable[[str], None],
    model_options: dict[str, dict[str, Any]] | None,
) -> None:
    say(f"{name}: fitting")
    started = time.perf_counter()
    row: dict[str, Any] = {"model": name}
    try:
        options = dict((model_options or {}).get(name, {}))
        if name in TUNED_ON_VALIDATION:
            options.setdefault("validation", data.name)
        model = make_model(name, **options)
        with limited_threads():  # OpenMP/BLAS on the free cores only (see profiles.threads)
            model.fit(eval_shop, train, seed)
            ranked = recommend(model, users, seen, max(ks)) if users.size else np.zeros((0, max(ks)), np.int64)
        row.update(metric_row(ranked, relevant, ks, train.n_items, cold, slices))
        # blends (KGRecommender) also report their tuning and weights
        validation = getattr(model, "validation", None)
        if validation:
            row["validation"] = validation
        weights = getattr(model, "weights", None)
        if weights:
            row["weights"] = {k: round(v, 4) for k, v in weights.items() if v}
    except ConfigError:
        raise
    except Exception as e:  # one model failing must not hide the others
        logger.warning("%s failed: %s", name, e, exc_info=True)
        row["error"] = f"{type(e).__name__}: {e}".splitlines()[0]
    row["users"] = data.n_evaluated
    row["users_cold"] = int(cold.sum())
    row.update({f"users_{name}": int(mask.sum()) for name, mask in slices.items()})
    row["seconds"] = round(time.perf_counter() - started, 3)
    report.rows.append(row)
    say(f"{name}: done in {row['seconds']:.1f}s")
