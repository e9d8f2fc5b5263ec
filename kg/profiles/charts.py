"""Pictures saved as PNG (matplotlib's Agg canvas, no display needed): the segment map and bar charts.

The segment map is a 2-D t-SNE (scikit-learn) of a seeded sample of users, coloured by segment; with
fewer than 5 users it falls back to PCA (t-SNE needs perplexity < users). UMAP is not used.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import sparse
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from kg.foundation.errors import ConfigError

__all__ = ["segment_map_png", "bar_chart_png", "project_2d"]

log = logging.getLogger(__name__)

_PRE_TSNE_DIMS = 50


def project_2d(features: np.ndarray | sparse.spmatrix, *, seed: int = 0, max_iter: int = 500) -> np.ndarray:
    """2-D coordinates of the rows: t-SNE (after PCA to <= 50 dims, ``max_iter`` iterations; 500 keeps a
    5000-user map near a minute on two busy cores), PCA for fewer than 5 rows."""
    if isinstance(features, np.ndarray) or not sparse.issparse(features):
        x = np.asarray(features, dtype=np.float64)
    else:
        x = features.toarray()
    n = x.shape[0]
    if n == 0:
        return np.zeros((0, 2))
    if x.shape[1] < 2:  # t-SNE's PCA initialisation needs two columns
        x = np.hstack([x, np.zeros((n, 2 - x.shape[1]))])
    if n < 5:
        xy = np.zeros((n, 2))
        if n > 1:
            xy[:, :] = (
                PCA(n_components=2, random_state=seed).fit_transform(x)
                if n > 2
                else np.hstack([PCA(n_components=1, random_state=seed).fit_transform(x), np.zeros((n, 1))])
            )
        return xy
    if x.shape[1] > _PRE_TSNE_DIMS:
        x = PCA(n_components=min(_PRE_TSNE_DIMS, n), random_state=seed).fit_transform(x)
    perplexity = float(min(30.0, (n - 1) / 3.0))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", max_iter=max_iter, random_state=seed).fit_transform(
        x
    )


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png", dpi=120, bbox_inches="tight")
    log.info("chart written: %s", path)
    return path


def segment_map_png(
    features: np.ndarray | sparse.spmatrix,
    assignment: np.ndarray,
    labels: Sequence[str],
    path: str | Path,
    *,
    seed: int = 0,
    sample: int = 5000,
    max_iter: int = 500,
) -> Path:
    """Scatter a seeded sample of at most ``sample`` users in 2-D, one colour per segment;
    ``labels[i]`` names segment ``i`` in the legend as ``"i+1: label (size)"``, numbered from 1 as the CLI
    and the graph number them (size in the whole population)."""
    assignment = np.asarray(assignment)
    n = int(features.shape[0])
    if assignment.shape[0] != n:
        raise ConfigError(f"{assignment.shape[0]} segment ids for {n} feature rows; hint: one per user")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=min(n, sample), replace=False)) if n else np.zeros(0, dtype=np.int64)
    sub = features[idx]
    xy = project_2d(sub, seed=seed, max_iter=max_iter)
    fig = Figure(figsize=(9, 7))
    ax = fig.add_subplot()
    cmap = _colours(max(len(labels), int(assignment.max()) + 1 if n else 1))
    sizes = np.bincount(assignment, minlength=len(labels)) if n else np.zeros(len(labels), dtype=int)
    for seg in range(len(sizes)):
        pts = xy[assignment[idx] == seg]
        name = labels[seg] if seg < len(labels) else f"segment {seg + 1}"
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=8,
            alpha=0.7,
            color=cmap[seg],
            label=f"{seg + 1}: {_short(name)} ({sizes[seg]:,} users)",
        )
    method = "t-SNE" if idx.size >= 5 else "PCA"
    ax.set_title(f"User segments ({method} of {idx.size} of {n} users)")
    ax.set_xticks([])
    ax.set_yticks([])
    if len(sizes):
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, markerscale=2, frameon=False)
    return _save(fig, Path(path))


def bar_chart_png(rows: list[dict], metrics: list[str], path: str | Path, *, title: str = "Evaluation") -> Path:
    """Grouped bars: one group per metric, one bar per row (``row["model"]`` names it)."""
    if not rows or not metrics:
        raise ConfigError("bar chart needs at least one row and one metric; hint: evaluate a model first")
    models = [str(r.get("model", f"row {i}")) for i, r in enumerate(rows)]
    width = 0.8 / len(rows)
    x = np.arange(len(metrics))
    fig = Figure(figsize=(max(6, 1.6 * len(metrics) * max(1, len(rows) / 3)), 4.5))
    ax = fig.add_subplot()
    colours = _colours(len(rows))
    for i, (model, row) in enumerate(zip(models, rows, strict=True)):
        values = [float(row.get(m) or 0.0) for m in metrics]
        bars = ax.bar(x + (i - (len(rows) - 1) / 2) * width, values, width, label=model, color=colours[i])
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=1)
    ax.set_xticks(x, metrics)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False)
    return _save(fig, Path(path))


def _colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(max(n, 1))]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
