"""Honest train/test splits for recommender evaluation: the moment before a user's last new purchase
(``live``), per-user leave-last-out, or a global time cut.

All work on distinct items of :data:`~profiles.data.POSITIVE_TYPES` (purchased or rated). Every
user of the interactions ends up either evaluated or skipped, with the reason counted.

- ``live``: what a live recommender faces. Per user, the last moment at which they bought (or rated) an
  item new to their purchases is held out: that moment's new items are the test items, and the user's
  training history is everything strictly before it (views, carts and favourites of the held-out items
  included); nothing of theirs from that moment on.
- ``leave-last-out``: per user, the last distinct purchased item is held out and every event of that
  (user, item) pair is deleted, the views before the purchase included; the user's later events on other
  items stay in training.
- ``temporal``: one global cut at 80% of the event times; no event after it trains anything.

>>> from kg.profiles.data import Interactions
>>> rows = [("a", "p1", "purchase", 1, None), ("a", "p2", "purchase", 2, None), ("b", "p1", "purchase", 1, None)]
>>> s = leave_last_out(Interactions.from_rows(rows))
>>> s.test, s.skip_reasons
({0: {1}}, {'fewer than 2 distinct purchased/rated items': 1})
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from kg.foundation.errors import ConfigError
from kg.profiles.data import POSITIVE_TYPES, Interactions

__all__ = ["Split", "SPLITS", "DEFAULT_SPLIT", "leave_last_out", "live", "temporal", "make_split", "first_positive"]

#: names accepted by :func:`make_split`
SPLITS: tuple[str, ...] = ("live", "leave-last-out", "temporal")
#: the split ``kg eval recommend`` uses unless told otherwise
DEFAULT_SPLIT = "live"

TOO_FEW = "fewer than 2 distinct purchased/rated items"
NO_HISTORY = "no purchased/rated item before the cut"
NO_NEW = "no new purchased/rated item after the cut"
NO_PURCHASE = "no purchased/rated item"
NOTHING_BEFORE = "no event before their last new purchase/rating"


@dataclass
class Split:
    """Training events, held-out items per evaluated user, and who was skipped and why.

    ``cutoff_at`` is, per evaluated user, the time (epoch ms) from which their held-out events start:
    side information (review aspects) from that time on must not be used for that user.
    """

    name: str
    train: Interactions
    test: dict[int, set[int]]
    evaluated: np.ndarray  # int user codes, ascending
    skipped: np.ndarray  # int user codes, ascending
    skip_reasons: dict[str, int] = field(default_factory=dict)
    cutoff_at: dict[int, int] = field(default_factory=dict)
    #: per-user splits: which events of the source interactions ``train`` kept (None: a global cut)
    kept: np.ndarray | None = None

    @property
    def n_evaluated(self) -> int:
        return int(self.evaluated.shape[0])

    def only(self, interactions: Interactions, users: np.ndarray) -> Split:
        """This split held out for ``users`` alone (a subset of :attr:`evaluated`; ``interactions``: the
        split's source): every other user keeps all their events in training, as a skipped user does. A
        global cut (``temporal``) cannot be narrowed to some users: ConfigError.

        >>> from kg.profiles.data import Interactions
        >>> rows = [("a", "p1", "purchase", 1, None), ("a", "p2", "purchase", 2, None),
        ...         ("b", "p1", "purchase", 1, None), ("b", "p3", "purchase", 2, None)]
        >>> inter = Interactions.from_rows(rows)
        >>> s = live(inter).only(inter, np.array([1]))
        >>> s.test, s.evaluated.tolist(), s.train.n_events
        ({1: {2}}, [1], 3)
        """
        if self.kept is None:
            raise ConfigError(f"the {self.name} split is one global cut: it cannot be held out for some users only")
        users = np.asarray(users, dtype=np.int64)
        chosen = np.zeros(interactions.n_users, dtype=bool)
        chosen[users] = True
        keep = self.kept | ~chosen[interactions.user]
        return Split(
            name=self.name,
            train=interactions.subset(keep),
            test={int(u): self.test[int(u)] for u in users},
            evaluated=np.sort(users),
            skipped=np.setdiff1d(np.arange(interactions.n_users), users),
            skip_reasons={"not chosen for validation": int(interactions.n_users - users.size)},
            cutoff_at={int(u): self.cutoff_at[int(u)] for u in users if int(u) in self.cutoff_at},
            kept=keep,
        )

    @property
    def n_skipped(self) -> int:
        return int(self.skipped.shape[0])


def first_positive(interactions: Interactions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (user, item) pairs of positive events with the time of the first one, ordered by user,
    then first time, then item id (the item's string id, so ties do not depend on coding)."""
    mask = interactions.type_mask(POSITIVE_TYPES)
    user, item, at = interactions.user[mask], interactions.item[mask], interactions.at[mask]
    if not user.size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    n_items = interactions.n_items
    key = user.astype(np.int64) * n_items + item
    order = np.lexsort((at, key))  # by pair, then time: first occurrence of each pair first
    key, at = key[order], at[order]
    first = np.ones(key.shape[0], dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, at = key[first], at[first]
    users, items = key // n_items, key % n_items
    item_rank = np.empty(n_items, dtype=np.int64)
    item_rank[np.argsort(np.asarray(interactions.items, dtype=object), kind="stable")] = np.arange(n_items)
    order = np.lexsort((item_rank[items], at, users))
    return users[order], items[order], at[order]


def _without_pairs(interactions: Interactions, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Which events of ``interactions`` belong to none of the given (user, item) pairs."""
    n_items = max(interactions.n_items, 1)
    held = users.astype(np.int64) * n_items + items
    keys = interactions.user.astype(np.int64) * n_items + interactions.item
    return ~np.isin(keys, held)


def leave_last_out(interactions: Interactions) -> Split:
    """Per user: the last distinct purchased/rated item (by first time, then item id) is held out.

    Users with fewer than 2 such items are skipped. Every event of a held-out (user, item) pair,
    views and carts included, is removed from training.
    """
    users, items, at = first_positive(interactions)
    counts = (
        np.bincount(users, minlength=interactions.n_users)
        if users.size
        else np.zeros(interactions.n_users, dtype=np.int64)
    )
    last = np.ones(users.shape[0], dtype=bool)
    last[:-1] = users[1:] != users[:-1]
    keep = last & (counts[users] >= 2)
    held_u, held_i, held_at = users[keep], items[keep], at[keep]
    test = {int(u): {int(i)} for u, i in zip(held_u, held_i, strict=True)}
    evaluated = np.sort(held_u.astype(np.int64))
    skipped = np.setdiff1d(np.arange(interactions.n_users), evaluated)
    reasons = {TOO_FEW: int(skipped.size)} if skipped.size else {}
    kept = _without_pairs(interactions, held_u, held_i)
    return Split(
        name="leave-last-out",
        train=interactions.subset(kept),
        test=test,
        evaluated=evaluated,
        skipped=skipped,
        skip_reasons=reasons,
        cutoff_at={int(u): int(t) for u, t in zip(held_u, held_at, strict=True)},
        kept=kept,
    )


def live(interactions: Interactions) -> Split:
    """Per user, the moment before their last purchase of something new: the test items are the items the
    user first purchased or rated at their last such moment (the newest first time of any of their
    purchased/rated items; several when bought at the same moment); their training events are those
    strictly before it, of every type, the held-out items' views, carts and favourites included.

    The moment is the event time as the ledger has it: where a shop's times are whole days (review dates),
    it is the day, and the same day's other events are left out too. Users who never purchased or rated
    anything, or who have no event before that moment, are skipped (two reasons). Every evaluated user's
    history is cut at their own moment; skipped users keep all their events. Other users' events after
    a user's moment stay in training (one model is fitted for all users, as in leave-last-out): what
    leaks is the crowd's later taste, never the user's own future; ``temporal`` is the split without it.

    >>> from kg.profiles.data import Interactions
    >>> rows = [("a", "p1", "purchase", 1, None), ("a", "p2", "view", 2, None), ("a", "p2", "purchase", 3, None),
    ...         ("a", "p3", "view", 4, None), ("b", "p1", "purchase", 1, None)]
    >>> s = live(Interactions.from_rows(rows))
    >>> s.test, s.train.at.tolist(), s.skip_reasons
    ({0: {1}}, [1, 2, 1], {'no event before their last new purchase/rating': 1})
    """
    users, items, at = first_positive(interactions)  # by user, then first time
    n_users = interactions.n_users
    bought = np.zeros(n_users, dtype=bool)
    bought[users] = True
    moment = np.full(n_users, np.iinfo(np.int64).max, dtype=np.int64)  # no moment: every event trains
    last = np.flatnonzero(np.append(users[1:] != users[:-1], True)) if users.size else users
    moment[users[last]] = at[last]
    before = interactions.at < moment[interactions.user]
    has_before = np.zeros(n_users, dtype=bool)
    has_before[interactions.user[before]] = True
    evaluated = np.flatnonzero(bought & has_before).astype(np.int64)
    skipped = np.flatnonzero(~(bought & has_before)).astype(np.int64)
    reasons: Counter[str] = Counter()
    reasons[NO_PURCHASE] = int((~bought).sum())
    reasons[NOTHING_BEFORE] = int((bought & ~has_before).sum())
    is_eval = np.zeros(n_users, dtype=bool)
    is_eval[evaluated] = True
    held = is_eval[users] & (at == moment[users])
    test: dict[int, set[int]] = {}
    for user, item in zip(users[held].tolist(), items[held].tolist(), strict=True):
        test.setdefault(user, set()).add(item)
    keep = before | ~is_eval[interactions.user]
    return Split(
        name="live",
        train=interactions.subset(keep),
        test=test,
        evaluated=evaluated,
        skipped=skipped,
        skip_reasons={why: n for why, n in reasons.items() if n},
        cutoff_at={int(u): int(moment[u]) for u in evaluated},
        kept=keep,
    )


def temporal(interactions: Interactions, fraction: float = 0.8) -> Split:
    """One global cut at the ``fraction`` quantile of event times: events at or before it train, the rest test.

    A user's test items are the distinct purchased/rated items after the cut that the user had not
    purchased/rated before it. Users with no purchased/rated item before the cut, or none new after it,
    are skipped (two reasons).
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"temporal split fraction must be in (0, 1), got {fraction!r}")
    if not interactions.n_events:
        return Split(
            "temporal",
            interactions,
            {},
            np.zeros(0, np.int64),
            np.arange(interactions.n_users),
            {NO_HISTORY: interactions.n_users} if interactions.n_users else {},
        )
    cut = int(np.quantile(interactions.at, fraction, method="lower"))
    train = interactions.subset(interactions.at <= cut)
    after = interactions.subset(interactions.at > cut)
    before_pos = train.matrix(POSITIVE_TYPES).tolil().rows
    test: dict[int, set[int]] = {}
    for user, item in zip(*first_positive(after)[:2], strict=True):
        if int(item) not in before_pos[user]:
            test.setdefault(int(user), set()).add(int(item))
    has_history = np.asarray([bool(r) for r in before_pos], dtype=bool)
    reasons: Counter[str] = Counter()
    evaluated, skipped = [], []
    for user in range(interactions.n_users):
        if not has_history[user]:
            reasons[NO_HISTORY] += 1
            skipped.append(user)
        elif user not in test:
            reasons[NO_NEW] += 1
            skipped.append(user)
        else:
            evaluated.append(user)
    test = {u: test[u] for u in evaluated}
    return Split(
        name="temporal",
        train=train,
        test=test,
        evaluated=np.asarray(evaluated, dtype=np.int64),
        skipped=np.asarray(skipped, dtype=np.int64),
        skip_reasons=dict(reasons),
        cutoff_at={u: cut + 1 for u in evaluated},
    )


def make_split(interactions: Interactions, name: str) -> Split:
    """The split called ``name`` (see :data:`SPLITS`); ConfigError for anything else."""
    if name == "live":
        return live(interactions)
    if name == "leave-last-out":
        return leave_last_out(interactions)
    if name == "temporal":
        return temporal(interactions)
    raise ConfigError(f"unknown split {name!r}; choose one of: {', '.join(SPLITS)}")
