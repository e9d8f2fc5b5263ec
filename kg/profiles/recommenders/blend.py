"""``kg``: a learned blend of explainable signals (see :mod:`kg.profiles.recommenders.signals`).

score(u, i) = sum_s w_s * signal_s(u, i) + PRIOR * (category + brand + segment + popularity)

The weights w are tuned on a validation split carved from the TRAINING interactions only, by default
the evaluation's default kind (:func:`~kg.profiles.split.live` of the training part: per user, the moment
before their last new purchase within training, their views of what they then bought included; ``kg eval
recommend --split S`` carves S instead), so the weights learn how much the shopper's own recent views
weigh in this shop: coordinate ascent over
a coarse grid, starting from the best single signal, maximising Recall@20 + NDCG@20 of the validation
users' held-out items. The ``viewed`` signal's half-life is picked first, among
:data:`~kg.profiles.recommenders.signals.VIEW_HALF_LIVES`, by that signal's own score, and so is the
``sequence`` signal's (window, last), among :data:`~kg.profiles.recommenders.signals.SEQUENCE_SHAPES`. When the blend
does not beat the best single signal on validation, the weights stay one-hot on that signal. Where the
shop has more validation users than the tuning scores (a sample of at most ``max_val_users``), only the
sampled users are held out; everyone else trains as they are. The signals with a weight (and the priors)
are then fitted on the whole training part; the others, which would add nothing to a score, are not. The
costly ones (EASE, ALS, LightGCN) are not fitted twice when the validation held out at most
:data:`REUSE_SHARE` of the bought pairs: the validation fit stands for them, its user side rebuilt from
every user's whole history. The tiny PRIOR terms (not tuned) only break ties,
so new or one-purchase users, whose collaborative signals are flat, still get items of their
categories and brands, popular in their segment or overall, and what they recently looked at is always
among the candidates: ``viewed`` is a prior too, never left out of a fit or a frozen state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypedDict

import numpy as np
from scipy import sparse

from kg.profiles.data import Interactions, ShopData
from kg.profiles.recommenders.base import Recommender, positive_matrix
from kg.profiles.recommenders.signals import (
    SEQUENCE_SHAPE,
    SEQUENCE_SHAPES,
    SIGNALS,
    VIEW_HALF_LIFE,
    VIEW_HALF_LIVES,
    SignalModel,
    aspects_before,
    sequence_parts,
)
from kg.profiles.split import DEFAULT_SPLIT, SPLITS, make_split

__all__ = ["KGRecommender", "PRIOR", "PRIOR_SIGNALS", "GRID", "scoring"]

logger = logging.getLogger(__name__)

#: weight of the always-on tie-breaking signals
PRIOR = 1e-3
PRIOR_SIGNALS: tuple[str, ...] = ("category", "brand", "segment", "popularity", "viewed")
#: weights tried for each signal (relative to the best single signal, which starts at 1)
GRID: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
#: the validation fit's costly signals stand for a refit when it held out at most this share of bought pairs
REUSE_SHARE = 0.02
#: minimum validation gain (Recall@20 + NDCG@20) for a weight change to be kept
MIN_GAIN = 1e-4
TUNE_K = 20

#: scores a weighting of the validation signals (optionally other signal arrays) by Recall@20 + NDCG@20
Scorer = Callable[[dict[str, float], dict[str, np.ndarray] | None], float]


def _objective(
    total: np.ndarray, rows: np.ndarray, target: np.ndarray, seen_rows: np.ndarray, seen_cols: np.ndarray
) -> float:
    """Recall@20 + NDCG@20 over the rows of ``total`` (one per user), the held-out items given as pairs
    (``rows[p]``, ``target[p]``): each item's hit and discounted gain count 1/(the user's held-out items), so
    each user weighs the same; ties count against the held-out item, and so does the user's other held-out
    items' place (a basket of one: exact Recall@20 + NDCG@20 with one held-out item).

    >>> _objective(np.array([[0.9, 0.1, 0.5]]), np.array([0]), np.array([2]), np.array([0]), np.array([0]))
    2.0
    """
    s = total.copy()
    s[seen_rows, seen_cols] = -np.inf
    per_row = np.bincount(rows, minlength=s.shape[0])
    share = 1.0 / per_row[rows]
    t = s[rows, target][:, None]
    rank = (s[rows] >= t).sum(axis=1) - 1  # 0-based, pessimistic on ties
    hit = rank < TUNE_K
    gain = np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0)
    return float(((hit + gain) * share).sum() / max(1, s.shape[0]))


def scoring(signals: Sequence[str], weights: dict[str, float]) -> tuple[str, ...]:
    """The ``signals`` that add to a score with these weights: a tuned weight or a prior. The others need
    no fit on the whole training part (each signal is fitted on its own, so leaving one out changes none
    of the others).

    >>> scoring(("copurchase", "gnn", "brand", "mf"), {"gnn": 0.5, "mf": 0.0})
    ('gnn', 'brand')
    """
    return tuple(s for s in signals if weights.get(s, 0.0) or s in PRIOR_SIGNALS)


class _SignalOptions(TypedDict):
    """The :class:`SignalModel` options a :class:`KGRecommender` passes on."""

    ease_lam: float
    mf_factors: int
    view_half_life: float
    sequence_shape: tuple[int, int]


class KGRecommender(Recommender):
    """The recommender ``kg profiles`` writes; :meth:`contributions` explains every score."""

    name = "kg"
    scores_cold_items = True
    #: the kind of validation split the tuning carves (a class default, so a model pickled before it loads)
    validation_split: str = DEFAULT_SPLIT

    def __init__(
        self,
        signals: Sequence[str] = SIGNALS,
        *,
        tune: bool = True,
        max_val_users: int = 3000,
        max_val_cells: int = 40_000_000,
        weights: dict[str, float] | None = None,
        ease_lam: float = 200.0,
        mf_factors: int = 0,
        view_half_life: float | None = None,
        validation: str = DEFAULT_SPLIT,
        sequence_shape: tuple[int, int] | None = None,
    ) -> None:
        """``view_half_life``: the ``viewed`` signal's half-life in days; None: picked by the tuning (the
        interests' 30 days without it). ``sequence_shape``: the ``sequence`` signal's (window, last); None:
        picked by the tuning (:data:`~kg.profiles.recommenders.signals.SEQUENCE_SHAPE` without it).
        ``validation``: the kind of split (:data:`~kg.profiles.split.SPLITS`) the tuning carves from the
        training part; ``kg eval recommend`` passes the one it evaluates on."""
        super().__init__()
        unknown = [s for s in signals if s not in SIGNALS]
        if unknown:
            from kg.foundation.errors import ConfigError

            raise ConfigError(f"unknown signal(s) {', '.join(unknown)}; choose from: {', '.join(SIGNALS)}")
        if validation not in SPLITS:
            from kg.foundation.errors import ConfigError

            raise ConfigError(f"unknown validation split {validation!r}; choose one of: {', '.join(SPLITS)}")
        self.validation_split = validation
        self.wanted = tuple(signals)
        self.tune, self.max_val_users, self.max_val_cells = tune, int(max_val_users), int(max_val_cells)
        self.fixed_weights = dict(weights) if weights else None
        self.tune_half_life = view_half_life is None
        self.tune_sequence = sequence_shape is None
        self.options: _SignalOptions = {
            "ease_lam": ease_lam,
            "mf_factors": mf_factors,
            "view_half_life": VIEW_HALF_LIFE if view_half_life is None else float(view_half_life),
            "sequence_shape": SEQUENCE_SHAPE if sequence_shape is None else sequence_shape,
        }
        self.weights: dict[str, float] = {}
        self.signals: list[str] = []
        #: validation metrics of the tuning (numbers), and the best single signal's name
        self.validation: dict[str, float | str] = {}

    def fit(
        self, shop: ShopData, train: Interactions, seed: int = 0, user_segment: np.ndarray | None = None
    ) -> KGRecommender:
        self._prepare(train)
        wanted = self.wanted
        learned: SignalModel | None = None
        refresh: np.ndarray | None = None
        if self.fixed_weights is not None:
            weights = {s: float(self.fixed_weights.get(s, 0.0)) for s in self.wanted}
        elif self.tune:
            weights, fitted, refresh = self._tune(shop, train, seed, user_segment)
            wanted = scoring(self.wanted, weights)
            if fitted is not None and refresh is not None:
                learned = self._reusable(fitted, train, refresh)
        else:
            weights = {s: 1.0 for s in self.wanted}
        self.model = SignalModel(wanted, **self.options).fit(
            shop, train, seed, user_segment, learned=learned, refresh=refresh
        )
        self.signals = list(self.model.available)
        self.weights = {s: weights.get(s, 0.0) for s in self.signals}
        logger.info("kg blend weights: %s", {s: w for s, w in self.weights.items() if w})
        return self

    def _reusable(self, fitted: SignalModel, train: Interactions, refresh: np.ndarray) -> SignalModel | None:
        """The validation fit, when its held-out pairs are at most :data:`REUSE_SHARE` of ``train``'s bought
        pairs: then its costly signals are as good as a refit on the whole training part (see
        :data:`~kg.profiles.recommenders.signals.LEARNED`); None: refit them."""
        total = positive_matrix(train).nnz
        held = total - fitted.x.nnz
        reuse = held <= REUSE_SHARE * max(1, total)
        self.validation["learned signals"] = "validation fit" if reuse else "refitted"
        logger.info(
            "kg blend: %d of %d bought pairs held out for validation: %s",
            held,
            total,
            "costly signals taken over from the validation fit" if reuse else "costly signals refitted",
        )
        return fitted if reuse else None

    # -- tuning --------------------------------------------------------------------------------------
    def _tune(
        self, shop: ShopData, train: Interactions, seed: int, user_segment: np.ndarray | None
    ) -> tuple[dict[str, float], SignalModel | None, np.ndarray | None]:
        """The tuned weights, the model fitted on the validation split's training part and the validation
        users (None, None when there are none)."""
        val = make_split(train, self.validation_split)
        if not val.n_evaluated:
            logger.info("kg blend: no validation users; equal weights")
            return {s: 1.0 for s in self.wanted}, None, None
        cap = max(100, min(self.max_val_users, self.max_val_cells // max(1, train.n_items * len(self.wanted))))
        users = val.evaluated
        if users.size > cap:
            users = np.sort(np.random.default_rng(seed).choice(users, size=cap, replace=False))
            if val.kept is not None:  # only the sampled users held out: the others train as they are
                val = val.only(train, users)
        vshop = ShopData(val.train, shop.catalogue, aspects_before(shop.aspects, train.users, val.cutoff_at))
        model = SignalModel(self.wanted, **self.options).fit(vshop, val.train, seed, user_segment)
        sig = model.normalized(users)
        names = list(sig)
        pairs = [(r, i) for r, u in enumerate(users.tolist()) for i in sorted(val.test[u])]
        rows = np.asarray([r for r, _ in pairs], dtype=np.int64)
        target = np.asarray([i for _, i in pairs], dtype=np.int64)
        seen = model.x[users].tocoo()

        def prior_of(sig: dict[str, np.ndarray]) -> np.ndarray:
            return np.asarray(sum(PRIOR * sig[s] for s in PRIOR_SIGNALS if s in sig), dtype=np.float32)

        prior = prior_of(sig)

        def total_of(w: dict[str, float], other: dict[str, np.ndarray] | None = None) -> np.ndarray:
            signals, base = (sig, prior) if other is None else (other, prior_of(other))
            total = base + sum(w[s] * signals[s] for s in names if w[s])
            return np.asarray(total, dtype=np.float32) + np.zeros((len(users), train.n_items), np.float32)

        def measure(total: np.ndarray) -> float:
            return _objective(total, rows, target, seen.row, seen.col)

        def score(w: dict[str, float], other: dict[str, np.ndarray] | None = None) -> float:
            return measure(total_of(w, other))

        if "viewed" in names and self.tune_half_life:
            alone = {n: float(n == "viewed") for n in names}
            tried: dict[float, float] = {}
            for half_life in VIEW_HALF_LIVES:  # the default first: it wins ties
                model.view_half_life = half_life
                model._fit_viewed(vshop, val.train, seed, user_segment)
                tried[half_life] = score(alone, {**sig, "viewed": model.scaled("viewed", users, seen)})
            picked = max(tried, key=lambda h: (tried[h], -VIEW_HALF_LIVES.index(h)))
            model.view_half_life = picked
            model._fit_viewed(vshop, val.train, seed, user_segment)
            sig["viewed"] = model.scaled("viewed", users, seen)
            prior = prior_of(sig)
            self.options["view_half_life"] = picked
            logger.info("kg blend: viewed half-life %s days (validation, viewed alone: %s)", picked, tried)

        if "sequence" in names and self.tune_sequence:
            sig["sequence"] = self._pick_sequence(model, val.train, users, seen, sig, score)

        single = {s: score({n: float(n == s) for n in names}) for s in names}
        best_signal = max(names, key=lambda s: (single[s], -names.index(s)))
        w = {n: float(n == best_signal) for n in names}
        best = single[best_signal]
        for _ in range(3):
            changed = False
            for s in names:
                if s == best_signal:
                    continue
                rest = total_of({**w, s: 0.0})  # the other signals summed once: each value adds one term
                for value in GRID:
                    if value == w[s]:
                        continue
                    trial = measure(rest + value * sig[s] if value else rest)
                    if trial > best + MIN_GAIN:
                        best, w, changed = trial, {**w, s: value}, True
            if not changed:
                break
        self.validation = {
            "users": int(users.size),
            "split": val.name,
            "view_half_life": self.options["view_half_life"],
            "sequence_shape": "window={} last={}".format(*self.options["sequence_shape"]),
            "blend": best,
            "best_single": single[best_signal],
            "best_signal": best_signal,
            **{f"single_{s}": v for s, v in single.items()},
        }
        if best <= single[best_signal] + MIN_GAIN:
            logger.info("kg blend: no gain over %s on validation; using it alone", best_signal)
            w = {n: float(n == best_signal) for n in names}
        logger.info(
            "kg blend validation (recall@20 + ndcg@20): blend %.4f, best single %s %.4f",
            best,
            best_signal,
            single[best_signal],
        )
        return w, model, users

    def _pick_sequence(
        self,
        model: SignalModel,
        vtrain: Interactions,
        users: np.ndarray,
        seen: sparse.coo_matrix,
        sig: dict[str, np.ndarray],
        score: Scorer,
    ) -> np.ndarray:
        """The ``sequence`` signal's (window, last) of :data:`SEQUENCE_SHAPES` with the best validation
        score of that signal alone (the default wins ties), set on ``model`` and the options; returns the
        signal of ``users`` with it."""
        alone = {n: float(n == "sequence") for n in sig}
        parts = sequence_parts(vtrain, SEQUENCE_SHAPES)
        tried: dict[tuple[int, int], float] = {}
        for shape in SEQUENCE_SHAPES:
            model.follows, model.latest = parts[shape]
            tried[shape] = score(alone, {**sig, "sequence": model.scaled("sequence", users, seen)})
        picked = max(tried, key=lambda s: (tried[s], -SEQUENCE_SHAPES.index(s)))
        model.sequence_shape = picked
        model.follows, model.latest = parts[picked]
        self.options["sequence_shape"] = picked
        logger.info("kg blend: sequence (window, last) %s (validation, sequence alone: %s)", picked, tried)
        return model.scaled("sequence", users, seen)

    # -- scoring -------------------------------------------------------------------------------------
    def _weight(self, name: str) -> float:
        return self.weights.get(name, 0.0) + (PRIOR if name in PRIOR_SIGNALS else 0.0)

    def _raw_scores(self, users: np.ndarray) -> np.ndarray:
        total = np.zeros((users.shape[0], self.n_items), dtype=np.float32)
        seen = self.model.x[users].tocoo()
        for name in self.signals:  # one signal at a time: memory stays at two batch x items arrays
            weight = self._weight(name)
            if weight:
                total += weight * self.model.scaled(name, users, seen)
        return total

    def parts(self, users: np.ndarray) -> dict[str, np.ndarray]:
        """Each signal's weighted scores for a batch of users (users x items each; they sum to the raw
        score): the batched form of :meth:`contributions`."""
        users = np.asarray(users, dtype=np.int64)
        seen = self.model.x[users].tocoo()
        out: dict[str, np.ndarray] = {}
        for name in self.signals:
            if self._weight(name):
                part = self.model.scaled(name, users, seen)  # this call's own array: weighted in place
                part *= np.float32(self._weight(name))
                out[name] = part
        return out

    def without_users(self) -> KGRecommender:
        """A copy with only the item side (see :meth:`SignalModel.without_users`): safe to keep on disk."""
        import copy

        frozen = copy.copy(self)
        frozen.model = self.model.without_users()
        return frozen

    def with_users(self, shop: ShopData, train: Interactions, user_segment: np.ndarray | None = None) -> KGRecommender:
        """A copy scoring the users of ``train`` (coded with this model's items) with the frozen item side."""
        import copy

        fresh = copy.copy(self)
        fresh.model = self.model.with_users(shop, train, user_segment)
        return fresh

    def contributions(self, user: int, items: np.ndarray) -> dict[str, np.ndarray]:
        """Each signal's weighted share of ``user``'s final score for ``items`` (they sum to the score)."""
        items = np.asarray(items, dtype=np.int64)
        users = np.asarray([user], dtype=np.int64)
        return {
            name: (self._weight(name) * self.model.scaled(name, users)[0, items]).astype(np.float32)
            for name in self.signals
        }
