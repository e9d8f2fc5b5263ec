"""One library call per command: :func:`compute_profiles` (``kg profiles``), :func:`user_profile`
(``kg profile``), :func:`user_recommendations` (``kg recommend``) and :func:`evaluate_recommendations`
(``kg eval recommend``). Each returns a typed report that renders as text lines and as JSON."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kg.foundation.errors import ConfigError
from kg.foundation.home import private_dir
from kg.foundation.locks import writer_lock
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.store import GraphStore
from kg.foundation.progress import Progress, step_reporter
from kg.profiles.incremental import ProfileState, save_state, segment_centroids
from kg.profiles.steps import day, recommend_with_reasons, stored_score, user_vectors
from kg.profiles.threads import limited_threads

__all__ = ["ProfilesReport", "ProfileReport", "RecommendReport", "compute_profiles", "user_profile", "user_recommendations",
           "evaluate_recommendations", "profiles_dir", "evals_dir"]

logger = logging.getLogger(__name__)

#: receives one line of text per stage
#: products per segment written as POPULAR_IN
SEGMENT_POPULAR = 50
#: users drawn on the segment map (t-SNE cost grows with the square of this) and t-SNE iterations
MAP_SAMPLE = 2_000
MAP_ITERATIONS = 300
#: co-purchase partners per product written as BOUGHT_TOGETHER
TOGETHER_PER_ITEM = 20


_say = step_reporter(logger)


def profiles_dir(settings: Settings) -> Path:
    """Where ``kg profiles`` keeps its runs (pictures, summaries)."""
    return settings.home / "profiles"


def evals_dir(settings: Settings) -> Path:
    """Where ``kg eval recommend`` keeps its tables and charts."""
    return settings.home / "evals"


def _new_run_dir(base: Path) -> tuple[str, Path]:
    from kg.embeddings.runs import new_run_id

    run = new_run_id()
    private_dir(base)
    return run, private_dir(base / run)


# -- kg profiles ---------------------------------------------------------------------------------------
@dataclass
class ProfilesReport:
    """What one ``kg profiles`` run computed and wrote."""

    run: str
    run_dir: str
    as_of: str | None
    users: int = 0
    users_profiled: int = 0
    interests: int = 0
    segments: list[dict[str, Any]] = field(default_factory=list)
    segment_criterion: str = ""
    recommendations: int = 0
    users_with_recommendations: int = 0
    catalogue_coverage: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    embeddings_run: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    half_life_days: float = 30.0
    #: facts about this run said once (e.g. a model limited to the most bought items)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        total = sum(self.seconds.values())
        out = [f"profiles run {self.run} (as of {self.as_of or '-'}): {self.users_profiled:,} of {self.users:,} users "
               f"profiled, {self.interests:,} interests, {len(self.segments)} segments, "
               f"{self.recommendations:,} recommendations in {total:.1f} s",
               f"coverage: {self.users_with_recommendations:,} users with recommendations, "
               f"{self.catalogue_coverage:.1%} of products recommended to someone",
               f"segments ({self.segment_criterion}):"]
        out += [f"  {s['id']}: {s['label']} ({s['size']:,} users)" for s in self.segments]
        out.append(f"interests: decayed with a {self.half_life_days:g}-day half-life up to {self.as_of or '-'}; "
                   "kg profile shows each as its share of the user's interests")
        if self.reasons:
            out.append("reasons (by the path stored): " + ", ".join(
                f"{k} {v:,}" for k, v in sorted(self.reasons.items(), key=lambda kv: -kv[1])))
        out += [f"note: {n}" for n in self.notes]
        out.append("stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()))
        out += [f"file: {f}" for f in self.files]
        return out


def _segment_popular(positive: Any, assignment: np.ndarray, items: Sequence[str],
                     top: int = SEGMENT_POPULAR) -> tuple[list[dict[str, Any]], dict[int, set[str]]]:
    rows: list[dict[str, Any]] = []
    popular: dict[int, set[str]] = {}
    for segment in np.unique(assignment):
        members = np.flatnonzero(assignment == segment)
        counts = np.asarray(positive[members].sum(axis=0)).ravel()
        order = np.lexsort((np.arange(counts.size), -counts))[:top]
        order = order[counts[order] > 0]
        sid = int(segment) + 1
        popular[sid] = {items[i] for i in order}
        rows += [{"segment": sid, "product": items[i], "rank": rank + 1,
                  "share": round(float(counts[i]) / members.size, 4)} for rank, i in enumerate(order)]
    return rows, popular


def compute_profiles(store: GraphStore, settings: Settings, *, as_of_ms: int | None = None,
                     half_life_days: float = 30.0, top: int = 20, segments: int | None = None, k: int = 10,
                     seed: int = 0, train: bool = True, train_config: Any = None,
                     progress: Progress | None = None) -> ProfilesReport:
    """(Re)compute interest scores, segments and recommendations for every user and write them back.

    Trains KGE embeddings with defaults when none are in the graph (unless ``train=False``). Re-running
    replaces the previous run's derived edges and nodes, never duplicates them.
    """
    from kg.profiles.charts import segment_map_png
    from kg.profiles.interests import compute_interests
    from kg.profiles.load import load_shop
    from kg.profiles.reasons import Explainer, together_counts, top_partners
    from kg.profiles.recommenders.base import collect_notes
    from kg.profiles.recommenders.blend import KGRecommender
    from kg.profiles.segments import build_features, label_segments, segment_users
    from kg.profiles.writeback import (
        clear_stale,
        write_interests,
        write_recommendations,
        write_segments,
        write_together,
    )

    if k <= 0:
        raise ConfigError(f"--k must be a positive integer, got {k}")
    if top <= 0:
        raise ConfigError(f"--top must be a positive integer, got {top}")
    if half_life_days <= 0:
        raise ConfigError(f"--half-life must be positive (days), got {half_life_days}")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = round(now - clock, 3)
        clock = now

    _say(progress, "loading events, catalogue and reviews")
    bookmark = _ledger_bookmark(settings)  # events after this are kg update's
    shop = load_shop(store, settings)
    inter = shop.interactions
    if inter.n_events == 0:
        raise ConfigError("no events to profile: the event ledger is empty",
                          hint="kg ingest events FILE (or kg ingest reviews FILE) first")
    lap("load")
    run, run_dir = _new_run_dir(profiles_dir(settings))

    _say(progress, f"interest scores of {inter.n_users:,} users")
    interests = compute_interests(shop, as_of_ms=as_of_ms, half_life_days=half_life_days, top=top)
    lap("interests")

    vectors, embeddings_run = user_vectors(store, settings, train, train_config, progress, seed=seed)
    lap("embeddings")

    _say(progress, "segments")
    features, _keys = build_features(inter.users, interests, vectors or None)
    with limited_threads():
        segmentation = segment_users(features, n_segments=segments, seed=seed, users=inter.users,
                                     standardise=False)
        infos = label_segments(segmentation, interests)
        assignment = np.asarray(segmentation.assignment)
        files = [str(segment_map_png(features, assignment, [i.label for i in infos], run_dir / "segments.png",
                                     seed=seed, sample=MAP_SAMPLE, max_iter=MAP_ITERATIONS))]
    positive = inter.matrix()
    popular_rows, popular = _segment_popular(positive, assignment, inter.items)
    lap("segments")

    _say(progress, "recommendations")
    with limited_threads(), collect_notes() as notes:
        model = KGRecommender().fit(shop, inter, seed=seed, user_segment=assignment)
    interest_keys: dict[str, set[tuple[str, str]]] = {}
    for row in interests.rows:
        interest_keys.setdefault(row[0], set()).add((row[1], row[2]))
    explainer = Explainer(shop=shop, positive=positive, together=together_counts(positive), interests=interest_keys,
                          segment_of={u: int(assignment[i]) + 1 for i, u in enumerate(inter.users)},
                          popular=popular, segment_label={i.id + 1: i.label for i in infos})
    rec_rows, reason_counts, together_used = recommend_with_reasons(model, explainer, inter, k)
    lap("recommend")

    _say(progress, "writing to the graph")
    updated_at = int(time.time() * 1000)
    interest_rows = [{"user": u, "label": label, "key": key, "score": stored_score(score)}
                     for u, label, key, score in interests.rows]
    segment_rows = [{"id": i.id + 1, "size": int(i.size), "label": i.label, "top_interests": list(i.top_interests)}
                    for i in infos]
    together_rows = {(r["source"], r["target"]): r for r in top_partners(explainer.together, inter.items,
                                                                          TOGETHER_PER_ITEM)}
    for source, target, count in together_used:
        together_rows.setdefault((source, target), {"source": source, "target": target, "count": count})
    with writer_lock(settings, what="kg profiles"):
        written_interests = write_interests(store, interest_rows, inter.users, run=run, updated_at=updated_at)
        write_segments(store, segment_rows, {u: int(assignment[i]) + 1 for i, u in enumerate(inter.users)},
                       popular_rows, run=run)
        write_together(store, list(together_rows.values()), run=run)
        written_recs = write_recommendations(store, rec_rows, inter.users, run=run)
        clear_stale(store, run=run)
    lap("write")

    centroids = segment_centroids(features, assignment)
    save_state(run_dir, ProfileState(
        run=run, items=list(inter.items), model=model.without_users(), together=explainer.together,
        columns=list(_keys), centroids=centroids, segment_label={i.id + 1: i.label for i in infos},
        popular=popular, as_of_ms=int(interests.as_of_ms), as_of_fixed=as_of_ms is not None,
        half_life_days=half_life_days, top=top, k=k, bookmark=bookmark, embeddings_run=embeddings_run))
    recommended_items = {row["product"] for row in rec_rows}
    report = ProfilesReport(
        run=run, run_dir=str(run_dir), as_of=day(interests.as_of_ms), users=inter.n_users,
        users_profiled=len({row["user"] for row in interest_rows} | {row["user"] for row in rec_rows}),
        interests=written_interests,
        segments=[{"id": r["id"], "label": r["label"], "size": r["size"], "top_interests": r["top_interests"]}
                  for r in segment_rows],
        segment_criterion=_criterion(segmentation, segments),
        recommendations=written_recs, users_with_recommendations=len({row["user"] for row in rec_rows}),
        catalogue_coverage=round(len(recommended_items) / max(1, inter.n_items), 4), reasons=reason_counts,
        embeddings_run=embeddings_run, seconds=seconds, files=files, half_life_days=half_life_days,
        notes=list(notes.values()))
    (run_dir / "profiles.json").write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    report.files.append(str(run_dir / "profiles.json"))
    return report


def _ledger_bookmark(settings: Settings) -> int:
    from kg.ledger import EventLedger

    if not settings.ledger_path.exists():
        return 0
    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        return ledger.last_batch()


def _criterion(segmentation: Any, asked: int | None) -> str:
    if asked:
        return f"{asked} segments as asked (--segments)"
    scores = getattr(segmentation, "silhouettes", None) or {}
    if not scores:
        return "one segment: too few users to compare clusterings"
    best = max(scores, key=lambda key: scores[key])
    return f"k={best}: best silhouette {scores[best]:.3f} over k={min(scores)}..{max(scores)}"


# -- kg profile / kg recommend -------------------------------------------------------------------------
@dataclass
class ProfileReport:
    """One user's profile as the graph holds it, with a summary composed only from those facts."""

    id: str
    found: bool
    profiled: bool = False
    interests: list[dict[str, Any]] = field(default_factory=list)
    segment: dict[str, Any] | None = None
    recent: list[dict[str, Any]] = field(default_factory=list)
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        if not self.found:
            return [f"user not found (pseudonym {self.id})"]
        out = [f"user {self.id}", f"summary: {self.summary}"]
        if self.interests:
            out.append("interests (share of this user's): " + ", ".join(
                f"{r['label'].lower()} {r['key']} ({_percent(r.get('share'))})" for r in self.interests))
        if self.segment:
            out.append(f"segment {self.segment['id']}: {self.segment['label']} ({int(self.segment['size']):,} users)")
        for r in self.recent:
            what = " and ".join(t.lower() for t in r.get("types") or [r["type"]])
            out.append(f"recent: {what} {_label(r)} ({r.get('last_date') or '?'})")
        out += _recommendation_lines(self.recommendations)
        return out


def _recommendation_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    return [f"{int(r['rank'])}. {_label(r)} (score {float(r['score']):.3f}) — {r['reason']}" for r in rows]


def _percent(share: Any) -> str:
    """A share of the user's interest mass as a person reads it: ``62%``, ``<1%``."""
    if not isinstance(share, (int, float)):
        return "?"
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _describe(row: dict[str, Any]) -> str:
    """What a product is when it has no title: its category and brand (``category furniture_decor``)."""
    parts = [f"category {row['category']}" if row.get("category") else "",
             f"brand {row['brand']}" if row.get("brand") else ""]
    return ", ".join(p for p in parts if p)


def _label(row: dict[str, Any]) -> str:
    """The product's id and its title, else what it is (category, brand): never a bare hash."""
    title = row.get("title")
    if title:
        return f"{row['id']} {title}"
    described = _describe(row)
    return f"{row['id']} ({described})" if described else str(row["id"])


def _name(row: dict[str, Any]) -> str:
    title = row.get("title")
    if title:
        return f"'{title}'"
    described = _describe(row)
    return f"a product in {described}" if described else str(row["id"])


def _with_shares(interests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each interest with ``share``: its score over the sum of the user's positive scores (decayed scores
    of a shop spanning years are tiny in absolute terms; their proportions are what a person can read)."""
    total = sum(max(float(r.get("score") or 0.0), 0.0) for r in interests)
    return [{**r, "share": round(max(float(r.get("score") or 0.0), 0.0) / total, 4) if total > 0 else 0.0}
            for r in interests]


def _merge_recent(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """One row per product and moment: a review is both PURCHASED and RATED at the same time, said once
    (``types`` lists both, ``type`` keeps the first)."""
    merged: dict[tuple[Any, Any], dict[str, Any]] = {}
    for r in rows:
        key = (r["id"], r.get("last_at"))
        if key in merged:
            if r["type"] not in merged[key]["types"]:
                merged[key]["types"].append(r["type"])
        else:
            merged[key] = {**r, "types": [r["type"]]}
    order = ("PURCHASED", "RATED", "CARTED", "FAVORITED", "VIEWED")
    for r in merged.values():
        r["types"].sort(key=lambda t: order.index(t) if t in order else len(order))
        r["type"] = r["types"][0]
    return list(merged.values())[:limit]


def _compose_summary(interests: list[dict[str, Any]], segment: dict[str, Any] | None,
                     recent: list[dict[str, Any]], recs: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    if interests:
        tops = [r["key"] for r in interests[:3]]
        parts.append("Mostly into " + (", ".join(tops[:-1]) + " and " + tops[-1] if len(tops) > 1 else tops[0]) + ".")
    if segment:
        parts.append(f"Belongs to segment '{segment['label']}' ({int(segment['size']):,} users).")
    if recent:
        last = recent[0]
        what = " and ".join(t.lower() for t in last.get("types") or [last["type"]])
        parts.append(f"Last activity {last.get('last_date') or '?'}: {what} {_name(last)}.")
    if recs:
        first = recs[0]
        parts.append(f"Top suggestion {_name(first)}: {first['reason']}.")
    return " ".join(parts) or "No profile yet: run kg profiles."


def user_profile(store: GraphStore, settings: Settings, raw_id: str, *, recent: int = 5,
                 k: int = 10) -> ProfileReport:
    """Top interests, segment, recent activity and recommendations of the user with raw id ``raw_id``."""
    if k <= 0:
        raise ConfigError(f"--k must be a positive integer, got {k}")
    pseudonym = Pseudonymiser.from_settings(settings).user_id(raw_id)
    if not store.query("user_exists", id=pseudonym):
        return ProfileReport(id=pseudonym, found=False)
    interests = _with_shares(store.query("profiles_user_interests", id=pseudonym))
    segment_rows = store.query("profiles_user_segment", id=pseudonym)
    segment = segment_rows[0] if segment_rows else None
    recent_rows = _merge_recent(store.query("profiles_user_recent", id=pseudonym, limit=4 * recent), recent)
    recs = store.query("profiles_user_recommended", id=pseudonym)[:k]
    return ProfileReport(id=pseudonym, found=True, profiled=bool(interests or segment or recs), interests=interests,
                         segment=segment, recent=recent_rows, recommendations=recs,
                         summary=_compose_summary(interests, segment, recent_rows, recs))


@dataclass
class RecommendReport:
    """A user's stored recommendations with their reasons."""

    id: str
    found: bool
    recommendations: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        if not self.found:
            return [f"user not found (pseudonym {self.id})"]
        if not self.recommendations:
            return [f"user {self.id}: no recommendations yet (run kg profiles)"]
        return _recommendation_lines(self.recommendations)


def user_recommendations(store: GraphStore, settings: Settings, raw_id: str, *, k: int = 10) -> RecommendReport:
    """The recommendations ``kg profiles`` wrote for the user with raw id ``raw_id``, best first."""
    if k <= 0:
        raise ConfigError(f"--k must be a positive integer, got {k}")
    pseudonym = Pseudonymiser.from_settings(settings).user_id(raw_id)
    if not store.query("user_exists", id=pseudonym):
        return RecommendReport(id=pseudonym, found=False)
    return RecommendReport(id=pseudonym, found=True,
                           recommendations=store.query("profiles_user_recommended", id=pseudonym)[:k])


# -- kg eval recommend ---------------------------------------------------------------------------------
def evaluate_recommendations(store: GraphStore, settings: Settings, *, models: Sequence[str] | None = None,
             ks: Sequence[int] = (10, 20), split: str = "leave-last-out", seed: int = 0,
             progress: Progress | None = None) -> Any:
    """Evaluate every recommender on the shop's own events (see :mod:`kg.profiles.evaluate`); the table,
    JSON and chart are saved in ``KG_HOME/evals/<run>``."""
    from kg.profiles.evaluate import evaluate_recommenders
    from kg.profiles.load import load_shop

    _say(progress, "loading events, catalogue and reviews")
    shop = load_shop(store, settings)
    if shop.interactions.n_events == 0:
        raise ConfigError("no events to evaluate on: the event ledger is empty", hint="kg ingest events FILE first")
    _run, run_dir = _new_run_dir(evals_dir(settings))
    kwargs: dict[str, Any] = {"ks": tuple(ks), "split": split, "seed": seed, "out_dir": run_dir}
    if models:
        kwargs["models"] = tuple(models)
    if progress is not None:
        kwargs["progress"] = progress
    return evaluate_recommenders(shop, **kwargs)
