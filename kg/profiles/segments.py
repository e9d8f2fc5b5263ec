"""User segments: k-means on interest vectors plus learned embeddings, labelled by dominant interests.

Pipeline (:func:`segment_users`): users whose feature row is all zeros (no interest and no learned vector)
are set apart as one group labelled :data:`WEAK_LABEL`; it never takes in a user with a signal. The others
are standardised, reduced to at most 32 dimensions (PCA, or TruncatedSVD for sparse input) and clustered
top-down:

1. the first ``k`` is the one in ``k_range`` with the best mean silhouette of k-means fitted on a seeded
   sample of at most ``sample`` users (ties: smaller k); every tried k's silhouette is stored;
2. then every segment, largest first, is clustered again the same way (k in ``2..k_range[1]`` among the k
   whose every part holds at least ``min_size`` users, on a sample of its members); the split is kept when
   its silhouette is at least :data:`SPLIT_SILHOUETTE` (Kaufman and Rousseeuw's "reasonable structure");
   parts are tried again. It stops at ``k_max`` segments (default ``sqrt(n / 2)`` clamped to
   ``k_range[1]..``:data:`K_CAP`), so a shop with more distinct tastes than ``k_range`` allows gets them
   apart, not lumped, and a homogeneous segment stays whole.

Users are assigned to the nearest centre of the k-means fitted on the sample. Segment ids are renumbered by
size, largest first.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from kg.foundation.errors import ConfigError
from kg.profiles.interests import InterestTable

__all__ = [
    "CRITERION",
    "K_CAP",
    "SPLIT_SILHOUETTE",
    "WEAK_LABEL",
    "Segmentation",
    "SegmentInfo",
    "build_features",
    "default_k_max",
    "label_segments",
    "segment_users",
]

log = logging.getLogger(__name__)

CRITERION = (
    "best mean silhouette (euclidean, reduced space) over k_range on a seeded sample; ties -> smaller k; "
    "then each segment split again where its own best split has silhouette >= 0.5"
)
MAX_DIMS = 32
N_INIT = 4
#: the largest number of segments :func:`default_k_max` gives, whatever the shop's size
K_CAP = 50
#: a segment is split when its own clustering's mean silhouette reaches this ("reasonable structure")
SPLIT_SILHOUETTE = 0.5
#: users per segment sample when choosing a split (the first level uses ``sample``)
SPLIT_SAMPLE = 2000
#: the label of the users with no signal at all (no interest and no learned vector)
WEAK_LABEL = "too little signal (no interests yet)"


def default_k_max(n_users: int, k_hi: int = 10) -> int:
    """The most segments the top-down split makes for ``n_users``: ``sqrt(n / 2)`` within ``k_hi..K_CAP``.

    >>> default_k_max(300), default_k_max(15_000), default_k_max(10**6)
    (12, 50, 50)
    """
    return max(k_hi, min(K_CAP, round(float(np.sqrt(n_users / 2)))))


@dataclass
class Segmentation:
    """Which segment each user (row of the features) is in; ids 0..k-1, 0 the largest."""

    assignment: np.ndarray  # int32 per user
    n_segments: int
    #: k -> mean silhouette on the sample, for every k tried (empty when k was given or input was tiny)
    silhouettes: dict[int, float] = field(default_factory=dict)
    criterion: str = CRITERION
    #: the user ids of the rows, when the caller gave them
    users: list[str] | None = None
    #: the segment of the users with no signal at all (all-zero features), if set apart
    weak: int | None = None
    #: each kept top-down split: size of the segment split, parts, silhouette
    splits: list[dict[str, float]] = field(default_factory=list)
    #: the most segments the top-down split could make
    k_max: int = 0

    @property
    def sizes(self) -> list[int]:
        return np.bincount(self.assignment, minlength=self.n_segments).tolist()


@dataclass
class SegmentInfo:
    """One segment as it goes to the graph: ``(:Segment {id, size, label, top_interests})``."""

    id: int
    size: int
    label: str
    top_interests: list[str]
    #: (label, key, lift) of each top interest
    interests: list[tuple[str, str, float]] = field(default_factory=list)


def _reduce(features: np.ndarray | sparse.spmatrix, seed: int, standardise: bool = True) -> np.ndarray:
    """Standardise the columns (unless told not to) and project to at most :data:`MAX_DIMS` dimensions."""
    if sparse.issparse(features):
        x = sparse.csr_matrix(features, dtype=np.float64)
        x = StandardScaler(with_mean=False).fit_transform(x) if standardise else x
        n_comp = min(MAX_DIMS, x.shape[1] - 1, x.shape[0] - 1)
        if n_comp >= 1 and x.shape[1] > MAX_DIMS:
            return TruncatedSVD(n_components=n_comp, random_state=seed).fit_transform(x)
        return x.toarray()
    x = np.asarray(features, dtype=np.float64)
    x = StandardScaler().fit_transform(x) if standardise else x
    n_comp = min(MAX_DIMS, x.shape[0])
    if x.shape[1] > MAX_DIMS and n_comp >= 1:
        return PCA(n_components=n_comp, random_state=seed).fit_transform(x)
    return x


def _renumber_by_size(labels: np.ndarray, k: int) -> np.ndarray:
    """Ids ordered by size (largest 0), ties by the first row in the segment; empty ids dropped."""
    sizes = np.bincount(labels, minlength=k)
    first = np.full(k, labels.size)
    np.minimum.at(first, labels, np.arange(labels.size))
    present = [c for c in range(k) if sizes[c] > 0]
    order = sorted(present, key=lambda c: (-sizes[c], first[c]))
    new = np.full(k, -1, dtype=np.int32)
    new[order] = np.arange(len(order), dtype=np.int32)
    return new[labels]


def _kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # duplicate rows: fewer clusters than k, handled
        return KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit_predict(x)


def segment_users(
    features: np.ndarray | sparse.spmatrix,
    *,
    n_segments: int | None = None,
    k_range: tuple[int, int] = (2, 10),
    seed: int = 0,
    sample: int = 5000,
    users: Sequence[str] | None = None,
    standardise: bool = True,
    k_max: int | None = None,
    min_size: int | None = None,
) -> Segmentation:
    """Cluster the rows of ``features`` (users) into segments; see the module docstring for the criterion.

    ``n_segments`` forces k (ConfigError when < 1 or > the number of users). With fewer users than
    ``2 * k_range[0]`` (and no k given) everyone is one segment. ``k_range`` is inclusive.
    ``standardise=False`` skips the column scaling (rare interest columns then weigh less). ``k_max`` (default
    :func:`default_k_max`) bounds the top-down split, ``min_size`` (default half an even share at ``k_max``,
    at least 5) is the smallest part a split may make. Users with all-zero features form their own segment
    (``weak``, labelled :data:`WEAK_LABEL`) when at least ``2 * k_range[0]`` others have a signal.
    """
    n = int(features.shape[0])
    if users is not None and len(users) != n:
        raise ConfigError(f"{len(users)} user ids for {n} feature rows; hint: pass one id per row")
    users_list = list(users) if users is not None else None
    k_lo, k_hi = int(k_range[0]), int(k_range[1])
    if n_segments is not None:
        if n_segments < 1 or n_segments > n:
            raise ConfigError(
                f"--segments must be between 1 and the number of users ({n}), got {n_segments}; "
                "hint: leave it out to choose k by silhouette"
            )
    elif k_lo < 2 or k_hi < k_lo:
        raise ConfigError(f"k_range must be (lo, hi) with 2 <= lo <= hi, got {k_range}; hint: the default is (2, 10)")
    if n == 0:
        return Segmentation(np.zeros(0, dtype=np.int32), 0, users=users_list)
    if n_segments == 1 or (n_segments is None and n < 2 * k_lo):
        return Segmentation(np.zeros(n, dtype=np.int32), 1, users=users_list)

    x = _reduce(features, seed, standardise)
    if n_segments is not None:
        labels = _renumber_by_size(_kmeans(x, n_segments, seed), n_segments)
        return Segmentation(labels, int(labels.max()) + 1, users=users_list)

    weak = _zero_rows(features)
    if weak.all() or (n - int(weak.sum())) < 2 * k_lo:
        weak = np.zeros(n, dtype=bool)  # nothing to set apart from, or too few with a signal to split
    rest = np.flatnonzero(~weak)
    k_max = int(k_max) if k_max is not None else default_k_max(rest.size, k_hi)
    min_size = int(min_size) if min_size is not None else max(5, int(np.ceil(rest.size / (2 * k_max))))
    first = _best_k(x[rest], k_lo, min(k_hi, k_max), seed, sample)
    if first is None:
        log.info("segments: no k gave a defined silhouette; one segment")
        labels = np.zeros(rest.size, dtype=np.int64)
        silhouettes: dict[int, float] = {}
    else:
        labels, silhouettes = first.labels, first.silhouettes
    labels, splits = _split_down(x[rest], labels, k_max, min_size, k_hi, seed)
    full = np.zeros(n, dtype=np.int64)
    full[rest] = labels
    k = int(labels.max()) + 1 if labels.size else 0
    if weak.any():
        full[weak] = k
        k += 1
    out = _renumber_by_size(full, k)
    weak_id = int(out[np.flatnonzero(weak)[0]]) if weak.any() else None
    return Segmentation(
        out, int(out.max()) + 1, silhouettes, users=users_list, weak=weak_id, splits=splits, k_max=k_max
    )


def _zero_rows(features: np.ndarray | sparse.spmatrix) -> np.ndarray:
    """Rows with no non-zero value: users with no signal at all."""
    if sparse.issparse(features):
        m = sparse.csr_matrix(features)
        m.eliminate_zeros()
        return np.diff(m.indptr) == 0
    return ~np.any(np.asarray(features) != 0, axis=1)


@dataclass
class _Choice:
    labels: np.ndarray  # per row, 0..k-1
    k: int
    score: float
    silhouettes: dict[int, float]


def _best_k(x: np.ndarray, k_lo: int, k_hi: int, seed: int, sample: int, min_part: int = 1) -> _Choice | None:
    """k-means for each k in ``k_lo..k_hi`` fitted on a seeded sample of ``x``; the best mean silhouette on
    that sample wins (ties: smaller k) and every row goes to its nearest centre. A k that leaves a cluster with
    fewer than ``min_part`` rows is not a candidate. None when no k has a silhouette."""
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=min(n, sample), replace=False)) if n else np.zeros(0, dtype=np.int64)
    xs = x[idx]
    silhouettes: dict[int, float] = {}
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(k_lo, min(k_hi, idx.size - 1) + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # duplicate rows: fewer clusters than k, handled
            km = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(xs)
        found = np.unique(km.labels_).size
        if found < k:
            log.info("segments: k=%d finds only %d distinct clusters; stopping", k, found)
            break  # duplicate rows: no larger k can do better
        labels = km.labels_ if idx.size == n else km.predict(x)
        if min_part > 1 and np.bincount(labels, minlength=k).min() < min_part:
            continue
        score = float(silhouette_score(xs, km.labels_))
        silhouettes[k] = score
        log.info("segments: k=%d silhouette=%.4f (%d rows)", k, score, idx.size)
        if best is None or score > best[0]:
            best = (score, k, np.asarray(labels, dtype=np.int64))
    if best is None:
        return None
    return _Choice(best[2], best[1], best[0], silhouettes)


def _split_down(
    x: np.ndarray, labels: np.ndarray, k_max: int, min_size: int, k_hi: int, seed: int
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """Split segments (largest first) while their own best clustering has a silhouette of at least
    :data:`SPLIT_SILHOUETTE` and every part keeps ``min_size`` users, up to ``k_max`` segments."""
    labels = labels.copy()
    k = int(labels.max()) + 1 if labels.size else 0
    final: set[int] = set()
    splits: list[dict[str, float]] = []
    while k < k_max:
        sizes = np.bincount(labels, minlength=k)
        open_ = [c for c in range(k) if c not in final and sizes[c] >= 2 * min_size]
        if not open_:
            break
        c = max(open_, key=lambda s: (sizes[s], -s))
        members = np.flatnonzero(labels == c)
        choice = _best_k(x[members], 2, min(k_hi, k_max - k + 1), seed, SPLIT_SAMPLE, min_part=min_size)
        if choice is None or choice.score < SPLIT_SILHOUETTE:
            final.add(c)
            continue
        new = np.where(choice.labels == 0, c, k + choice.labels - 1)
        labels[members] = new
        k += choice.k - 1
        splits.append({"size": int(members.size), "parts": int(choice.k), "silhouette": round(choice.score, 4)})
        log.info("segments: split %d users into %d (silhouette %.3f)", members.size, choice.k, choice.score)
    return labels, splits


def _l2_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def build_features(
    user_ids: Sequence[str],
    interests: InterestTable,
    embeddings: dict[str, np.ndarray] | None = None,
    *,
    interest_weight: float = 1.0,
    embedding_weight: float = 1.0,
    max_keys: int = 1000,
) -> tuple[np.ndarray, list[str]]:
    """One row per user in ``user_ids``: ``[interest_weight * interests | embedding_weight * embedding]``.

    Interest rows (scores over the ``max_keys`` keys most users have) and embeddings are each
    L2-normalised; users with no interest or no embedding get zeros there. Returns ``(features, columns)``
    with column names ``"Label:key"`` and ``"emb:i"``.
    """
    if interest_weight < 0 or embedding_weight < 0:
        raise ConfigError("feature weights must be >= 0; hint: 0 leaves a block out")
    t_users, keys, m = interests.vectors()
    pos = {u: i for i, u in enumerate(t_users)}
    rows = np.asarray([pos.get(u, -1) for u in user_ids], dtype=np.int64)
    if m.shape[0] and rows.size:
        users_with = sparse.csr_matrix(sparse.diags((rows >= 0).astype(np.float64)) @ m[np.maximum(rows, 0)])
    else:
        users_with = sparse.csr_matrix((len(user_ids), len(keys)))
    counts = np.asarray((users_with > 0).sum(axis=0)).ravel()
    cols = np.flatnonzero(counts)
    if cols.size > max_keys:
        cols = np.sort(cols[np.lexsort((cols, -counts[cols]))][:max_keys])
    block = _l2_rows(users_with[:, cols].toarray().astype(np.float32)) * interest_weight
    names = [f"{keys[c][0]}:{keys[c][1]}" for c in cols]
    if embeddings:
        dims = sorted({len(v) for v in embeddings.values()})
        if len(dims) > 1:
            raise ConfigError(f"user embeddings of different sizes {dims}; hint: use embeddings from one run")
        dim = dims[0]
        emb = np.zeros((len(user_ids), dim), dtype=np.float32)
        for i, u in enumerate(user_ids):
            vec = embeddings.get(u)
            if vec is not None:
                emb[i] = vec
        block = np.hstack([block, _l2_rows(emb) * embedding_weight])
        names += [f"emb:{i}" for i in range(dim)]
    return block, names


def label_segments(
    segmentation: Segmentation,
    interests: InterestTable,
    top: int = 3,
    *,
    user_ids: Sequence[str] | None = None,
    min_support: float = 0.1,
) -> list[SegmentInfo]:
    """Name each segment after its dominant interests.

    For each key: lift = mean score inside the segment / mean score over all segmented users (users with
    no score count 0). Candidates have a positive mean and at least ``min_support`` of the segment's users
    with a positive score; the ``top`` best by lift (then mean, label, key) make the label
    ``"key · key · key"``. A segment with none is ``"no clear interest"`` (the size is shown beside every
    label, never inside it); the segment of users with no signal at all (``segmentation.weak``) is
    :data:`WEAK_LABEL`. Equal labels get ``" #n"``, n the segment's number as shown (id + 1).
    The rows' users are ``user_ids``, else ``segmentation.users``, else the table's first users
    (:func:`compute_interests` lists the shop's users first, review-only users after them).
    """
    n = segmentation.assignment.size
    users = list(user_ids) if user_ids is not None else segmentation.users
    if users is None and n <= len(interests.users):
        users = interests.users[:n]
    if users is None or len(users) != n:
        raise ConfigError(
            "label_segments needs one user id per segmented row; hint: pass users= to segment_users or user_ids= here"
        )
    t_users, keys, m = interests.vectors()
    pos = {u: i for i, u in enumerate(t_users)}
    rows = np.asarray([pos.get(u, -1) for u in users], dtype=np.int64)
    known = rows >= 0
    assign = segmentation.assignment
    sub = m[rows[known]].tocsr() if known.any() else sparse.csr_matrix((0, len(keys)))
    sub_assign = assign[known]
    n_all = max(len(users), 1)
    overall = np.asarray(sub.sum(axis=0)).ravel() / n_all
    infos: list[SegmentInfo] = []
    for seg in range(segmentation.n_segments):
        size = int((assign == seg).sum())
        in_seg = sub[sub_assign == seg]
        mean = np.asarray(in_seg.sum(axis=0)).ravel() / max(size, 1)
        support = np.asarray((in_seg > 0).sum(axis=0)).ravel() / max(size, 1)
        ok = np.flatnonzero((mean > 0) & (support >= min_support) & (overall > 0))
        lift = mean[ok] / overall[ok]
        order = ok[np.lexsort((ok, -mean[ok], -lift))][:top]
        chosen = [(keys[c][0], keys[c][1], float(mean[c] / overall[c])) for c in order]
        if seg == segmentation.weak:
            chosen, label = [], WEAK_LABEL
        else:
            label = " · ".join(k for _, k, _ in chosen) if chosen else "no clear interest"
        infos.append(SegmentInfo(seg, size, label, [k for _, k, _ in chosen], chosen))
    counts: dict[str, int] = {}
    for info in infos:
        counts[info.label] = counts.get(info.label, 0) + 1
    for info in infos:
        if counts[info.label] > 1:
            info.label = f"{info.label} #{info.id + 1}"
    return infos
