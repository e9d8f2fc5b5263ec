"""One library call per command: :func:`compute_profiles` (``kg profiles``), :func:`user_profile`
(``kg profile``), :func:`user_recommendations` (``kg recommend``) and :func:`evaluate_recommendations`
(``kg eval recommend``). Each returns a typed report that renders as text lines and as JSON."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.analyst.cypher import USER_EXISTS
from kg.foundation.errors import ConfigError
from kg.foundation.extras import require
from kg.foundation.home import private_dir
from kg.foundation.locks import writer_lock
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.progress import Progress, step_reporter
from kg.foundation.settings import Settings
from kg.profiles.cypher import USER_INTERESTS, USER_RECENT, USER_RECOMMENDED, USER_SEGMENT
from kg.profiles.fresh import criterion
from kg.profiles.frozen import segment_centroids
from kg.profiles.pipeline import ProfileResult
from kg.profiles.segment_value import SegmentValue, measure_segments
from kg.profiles.state import ProfileState, save_state
from kg.profiles.steps import day
from kg.profiles.text.writeback import stored_texts
from kg.profiles.threads import limited_threads
from kg.store import GraphStore

if TYPE_CHECKING:
    from scipy import sparse

    from kg.embeddings import TrainConfig

__all__ = [
    "ENGINES",
    "ProfileReport",
    "ProfilesReport",
    "RecommendReport",
    "compute_profiles",
    "evals_dir",
    "evaluate_recommendations",
    "profiles_dir",
    "user_profile",
    "user_recommendations",
]

logger = logging.getLogger(__name__)

#: co-purchase partners per product written as BOUGHT_TOGETHER
TOGETHER_PER_ITEM = 20
#: where ``kg profiles`` computes its batch stages: here, or on Apache Spark (:mod:`kg.profiles.spark`)
ENGINES: tuple[str, ...] = ("local", "spark")

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
    #: lift of the segments' best sellers over the shop's on held-out purchases (:mod:`kg.profiles.segment_value`)
    segment_value: dict[str, Any] = field(default_factory=dict)
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
    #: where the batch stages ran (:data:`ENGINES`); with ``spark``: its master, stages, mirror and seconds
    engine: str = "local"
    spark: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        total = sum(self.seconds.values())
        out = [
            (
                f"profiles run {self.run} (as of {self.as_of or '-'}): {self.users_profiled:,} of {self.users:,} users "
                f"profiled, {self.interests:,} interests, {len(self.segments)} segments, "
                f"{self.recommendations:,} recommendations in {total:.1f} s"
            ),
            (
                f"coverage: {self.users_with_recommendations:,} users with recommendations, "
                f"{self.catalogue_coverage:.1%} of products recommended to someone"
            ),
            f"segments ({self.segment_criterion}):",
        ]
        out += [f"  {s['id']}: {s['label']} ({s['size']:,} users){_lift_text(s)}" for s in self.segments]
        if self.segment_value:
            out.append(SegmentValue(**self.segment_value).line())
        out.append(
            f"interests: decayed with a {self.half_life_days:g}-day half-life up to {self.as_of or '-'}; "
            "kg profile shows each as its share of the user's interests"
        )
        if self.reasons:
            out.append(
                "reasons (by the path stored): "
                + ", ".join(f"{k} {v:,}" for k, v in sorted(self.reasons.items(), key=lambda kv: -kv[1]))
            )
        out += [f"note: {n}" for n in self.notes]
        out.append("stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()))
        if self.spark:
            out.append(_spark_line(self.spark))
        out += [f"file: {f}" for f in self.files]
        return out


def _spark_line(spark: dict[str, Any]) -> str:
    """``on Spark (local[2]): interests, co-purchase counts (lake sync 0.1 s, spark start 6.9 s, interests 2.0 s,
    co-purchase counts 0.8 s); the other stages ran here``."""
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in spark.get("seconds", {}).items())
    return (
        f"on Spark ({spark.get('master', '?')}): {', '.join(spark.get('stages', []))} ({steps}); "
        "the other stages ran here"
    )


def _lift_text(segment: dict[str, Any]) -> str:
    """``, lift 2.31x on 120 held-out`` for a segment that was measured, else nothing."""
    if not segment.get("measured"):
        return ""
    lift = segment.get("lift")
    return (
        f", lift {lift:.2f}x on {segment['measured']:,} held-out"
        if lift is not None
        else (f", lift n/a on {segment['measured']:,} held-out")
    )


def _measured(value: SegmentValue, segment: int) -> dict[str, Any]:
    """A segment's held-out users measured, hit rates and lift (zeros and None when none was measured)."""
    got = value.segments.get(segment, {})
    return {
        "measured": got.get("users", 0),
        "hit_rate": got.get("hit_rate"),
        "global_hit_rate": got.get("global_hit_rate"),
        "lift": got.get("lift"),
    }


def compute_profiles(
    store: GraphStore,
    settings: Settings,
    *,
    as_of_ms: int | None = None,
    half_life_days: float = 30.0,
    top: int = 20,
    segments: int | None = None,
    k: int = 10,
    seed: int = 0,
    train: bool = True,
    train_config: TrainConfig | None = None,
    progress: Progress | None = None,
    engine: str = "local",
    master: str | None = None,
) -> ProfilesReport:
    """(Re)compute interest scores, segments and recommendations for every user and write them back.

    Trains KGE embeddings with defaults when none are in the graph (unless ``train=False``). Re-running
    replaces the previous run's derived edges and nodes, never duplicates them. ``engine="spark"`` computes the
    interests and the co-purchase counts on Apache Spark (``master``, default ``KG_SPARK_MASTER``), in one session,
    from the lake's Parquet mirror, which is synced first (:mod:`kg.profiles.spark`); the results are the local
    engine's.
    """
    from kg.profiles.fresh import FreshLearner
    from kg.profiles.interests import compute_interests
    from kg.profiles.load import load_shop
    from kg.profiles.pipeline import InterestScorer, Stages, profile_users
    from kg.profiles.reasons import together_counts

    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; choose {' or '.join(ENGINES)}")
    if engine == "spark":
        from kg.profiles.spark.session import check_master

        require("spark")  # before anything is loaded
        check_master(master or settings.spark_master)
    if k <= 0:
        raise ConfigError(f"--k must be a positive integer, got {k}")
    if top <= 0:
        raise ConfigError(f"--top must be a positive integer, got {top}")
    if half_life_days <= 0:
        raise ConfigError(f"--half-life must be positive (days), got {half_life_days}")
    stages = Stages(progress)
    stages.say("loading events, catalogue and reviews")
    bookmark = _ledger_bookmark(settings)  # events after this are kg update's
    shop = load_shop(store, settings)
    inter = shop.interactions
    if inter.n_events == 0:
        raise ConfigError(
            "no events to profile: the event ledger is empty",
            hint="kg ingest events FILE (or kg ingest reviews FILE) first",
        )
    stages.lap("load")
    run, run_dir = _new_run_dir(profiles_dir(settings))
    scorer: InterestScorer = compute_interests
    count_together: Callable[[sparse.csr_matrix], sparse.csr_matrix] = together_counts
    spark = None
    if engine == "spark":
        from kg.profiles.spark import SparkStages

        spark = SparkStages(settings, master, bookmark=bookmark)
        scorer, count_together = spark, spark.together
        stages.say(
            f"interests and co-purchase counts on Spark ({master or settings.spark_master}): lake sync, session "
            "start, interests, co-purchase counts"
        )
    learner = FreshLearner(
        store,
        settings,
        n_segments=segments,
        seed=seed,
        train=train,
        train_config=train_config,
        progress=progress,
        map_path=run_dir / "segments.png",
        count_together=count_together,
    )
    result = profile_users(
        shop,
        learner,
        as_of_ms=as_of_ms,
        half_life_days=half_life_days,
        top=top,
        k=k,
        stages=stages,
        score_interests=scorer,
    )
    clustering = learner.clustering
    if clustering is None:  # profile_users always asks the learner for segments
        raise RuntimeError("the profiles pipeline returned without segments")

    stages.say("measuring each segment's best sellers on held-out purchases")
    with limited_threads():
        value = measure_segments(
            shop,
            clustering.features,
            clustering.columns,
            clustering.assignment,
            learner.user_vectors,
            half_life_days=half_life_days,
            seed=seed,
        )
    stages.lap("segment value")

    stages.say("writing to the graph")
    rec_rows = result.recommendations
    segment_rows = [
        {"id": i.id + 1, "size": int(i.size), "label": i.label, "top_interests": list(i.top_interests)}
        for i in clustering.infos
    ]
    written_interests, written_recs = _write_run(
        store, settings, result, segment_rows, clustering.popular_rows, run=run
    )
    stages.lap("write")

    save_state(
        run_dir,
        ProfileState(
            run=run,
            items=list(inter.items),
            model=result.model.without_users(),
            together=result.explainer.together,
            columns=clustering.columns,
            centroids=segment_centroids(clustering.features, clustering.assignment),
            segment_label=clustering.label,
            popular=clustering.popular,
            as_of_ms=int(result.interests.as_of_ms),
            as_of_fixed=as_of_ms is not None,
            half_life_days=half_life_days,
            top=top,
            k=k,
            bookmark=bookmark,
            embeddings_run=learner.embeddings_run,
        ),
    )
    recommended_items = {row["product"] for row in rec_rows}
    report = ProfilesReport(
        run=run,
        run_dir=str(run_dir),
        as_of=day(result.interests.as_of_ms),
        users=inter.n_users,
        users_profiled=len(result.interests.users_with_rows() | {row["user"] for row in rec_rows}),
        interests=written_interests,
        segments=[
            {
                "id": i.id + 1,
                "label": i.label,
                "size": int(i.size),
                "top_interests": list(i.top_interests),
                **_measured(value, i.id + 1),
            }
            for i in clustering.infos
        ],
        segment_criterion=criterion(clustering.segmentation, segments),
        segment_value={k: v for k, v in value.as_dict().items() if k != "segments"},
        recommendations=written_recs,
        users_with_recommendations=len({row["user"] for row in rec_rows}),
        catalogue_coverage=round(len(recommended_items) / max(1, inter.n_items), 4),
        reasons=result.reasons,
        embeddings_run=learner.embeddings_run,
        seconds=stages.seconds,
        files=[str(clustering.map_file)] if clustering.map_file else [],
        half_life_days=half_life_days,
        notes=list(learner.notes.values()) + (spark.notes if spark else []),
        engine=engine,
        spark=spark.summary() if spark else {},
    )
    (run_dir / "profiles.json").write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    report.files.append(str(run_dir / "profiles.json"))
    return report


def _write_run(
    store: GraphStore,
    settings: Settings,
    result: ProfileResult,
    segment_rows: list[dict[str, Any]],
    popular_rows: list[dict[str, str | int | float]],
    *,
    run: str,
) -> tuple[int, int]:
    """Write one ``kg profiles`` run's interests, segments, co-purchase pairs and recommendations, then clear
    the previous runs'; returns the interests and recommendations written."""
    from kg.profiles.reasons import top_partners
    from kg.profiles.writeback import (
        clear_stale,
        write_interests,
        write_recommendations,
        write_segments,
        write_together,
    )

    users = result.users
    updated_at = int(time.time() * 1000)
    together_rows = {
        (r["source"], r["target"]): r
        for r in top_partners(result.explainer.together, result.shop.interactions.items, TOGETHER_PER_ITEM)
    }
    for source, target, count in result.together:
        together_rows.setdefault((source, target), {"source": source, "target": target, "count": count})
    with writer_lock(settings, what="kg profiles"):
        written_interests = write_interests(store, result.interest_rows_of, users, run=run, updated_at=updated_at)
        write_segments(store, segment_rows, result.segment_of(), popular_rows, run=run)
        write_together(store, list(together_rows.values()), run=run)
        written_recs = write_recommendations(store, result.recommendations, users, run=run)
        clear_stale(store, run=run)
    return written_interests, written_recs


def _ledger_bookmark(settings: Settings) -> int:
    from kg.ledger import EventLedger

    if not settings.ledger_path.exists():
        return 0
    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        return ledger.last_batch()


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
    #: the stored profile text (``kg profiles --text``): ``{text, source, model, run}``, None when none is stored
    text: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        if not self.found:
            return [f"user not found (pseudonym {self.id})"]
        out = [f"user {self.id}", f"summary: {self.summary}"]
        if self.text:
            out.append(f"profile text ({_text_origin(self.text)}): {self.text['text']}")
        if self.interests:
            out.append(
                "interests (share of this user's): "
                + ", ".join(f"{r['label'].lower()} {r['key']} ({_percent(r.get('share'))})" for r in self.interests)
            )
        if self.segment:
            out.append(f"segment {self.segment['id']}: {self.segment['label']} ({int(self.segment['size']):,} users)")
            for what in ("name", "description"):
                if self.segment.get(what):
                    origin = _text_origin({"source": self.segment.get(f"{what}_source"), **self.segment})
                    out.append(f"segment {what} ({origin}): {self.segment[what]}")
        for r in self.recent:
            what = " and ".join(t.lower() for t in r.get("types") or [r["type"]])
            out.append(f"recent: {what} {_label(r)} ({r.get('last_date') or '?'})")
        out += _recommendation_lines(self.recommendations)
        return out


def _text_origin(text: dict[str, Any]) -> str:
    """``model qwen2.5-0.5b, run 20240601-...`` or ``template, run ...``: where a stored text came from."""
    source = text.get("source") or "?"
    model = text.get("model")
    who = (
        f"model {model}"
        if source == "model"
        else ("template" if model in (None, "template") else f"template, model {model} failed the check")
    )
    return f"{who}, run {text['run']}" if text.get("run") else who


def _recommendation_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    out = []
    for r in rows:
        out.append(f"{int(r['rank'])}. {_label(r)} (score {float(r['score']):.3f}) — {r['reason']}")
        if r.get("reason_text"):
            out.append(f"   in words ({r.get('reason_text_source') or '?'}): {r['reason_text']}")
    return out


def _percent(share: Any) -> str:
    """A share of the user's interest mass as a person reads it: ``62%``, ``<1%``."""
    if not isinstance(share, (int, float)):
        return "?"
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _describe(row: dict[str, Any]) -> str:
    """What a product is when it has no title: its category and brand (``category furniture_decor``)."""
    parts = [
        f"category {row['category']}" if row.get("category") else "",
        f"brand {row['brand']}" if row.get("brand") else "",
    ]
    return ", ".join(p for p in parts if p)


def _label(row: dict[str, Any]) -> str:
    """The product's id and its title, else what it is (category, brand): never a bare hash."""
    return _product_text(row, titled="{id} {title}", described="{id} ({what})")


def _name(row: dict[str, Any]) -> str:
    return _product_text(row, titled="'{title}'", described="a product in {what}")


def _product_text(row: dict[str, Any], *, titled: str, described: str) -> str:
    """``titled`` filled in when the product has a title, else ``described`` with what it is (:func:`_describe`),
    else its bare id. The templates take ``{id}``, ``{title}`` and ``{what}``."""
    title = row.get("title")
    if title:
        return titled.format(id=row["id"], title=title)
    what = _describe(row)
    return described.format(id=row["id"], what=what) if what else str(row["id"])


def _with_shares(interests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each interest with ``share``: its score over the sum of the user's positive scores (decayed scores
    of a shop spanning years are tiny in absolute terms; their proportions are what a person can read)."""
    total = sum(max(float(r.get("score") or 0.0), 0.0) for r in interests)
    return [
        {**r, "share": round(max(float(r.get("score") or 0.0), 0.0) / total, 4) if total > 0 else 0.0}
        for r in interests
    ]


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


def _compose_summary(
    interests: list[dict[str, Any]],
    segment: dict[str, Any] | None,
    recent: list[dict[str, Any]],
    recs: list[dict[str, Any]],
) -> str:
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


def user_profile(store: GraphStore, settings: Settings, raw_id: str, *, recent: int = 5, k: int = 10) -> ProfileReport:
    """Top interests, segment, recent activity and recommendations of the user with raw id ``raw_id``."""
    if k <= 0:
        raise ConfigError(f"--k must be a positive integer, got {k}")
    pseudonym = Pseudonymiser.from_settings(settings).user_id(raw_id)
    if not store.query(USER_EXISTS, id=pseudonym):
        return ProfileReport(id=pseudonym, found=False)
    interests = _with_shares(store.query(USER_INTERESTS, id=pseudonym))
    segment_rows = store.query(USER_SEGMENT, id=pseudonym)
    segment = segment_rows[0] if segment_rows else None
    recent_rows = _merge_recent(store.query(USER_RECENT, id=pseudonym, limit=4 * recent), recent)
    recs = store.query(USER_RECOMMENDED, id=pseudonym)[:k]
    stored = stored_texts(store, pseudonym)
    if (
        segment is not None
        and stored.segment == segment.get("id")
        and (stored.segment_name or stored.segment_description)
    ):
        segment = {
            **segment,
            "name": stored.segment_name,
            "name_source": stored.segment_name_source,
            "description": stored.segment_description,
            "description_source": stored.segment_description_source,
            "model": stored.segment_text_model,
        }
    reasons = {r["product"]: r for r in stored.reasons}
    recs = [
        {**r, "reason_text": reasons[r["id"]]["text"], "reason_text_source": reasons[r["id"]]["source"]}
        if r["id"] in reasons
        else r
        for r in recs
    ]
    return ProfileReport(
        id=pseudonym,
        found=True,
        profiled=bool(interests or segment or recs),
        interests=interests,
        segment=segment,
        recent=recent_rows,
        recommendations=recs,
        summary=_compose_summary(interests, segment, recent_rows, recs),
        text=(
            {"text": stored.text, "source": stored.source, "model": stored.model, "run": stored.run}
            if stored.text
            else None
        ),
    )


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
    recommended = store.query(USER_RECOMMENDED, id=pseudonym)  # one query for a user who has some
    if not recommended and not store.query(USER_EXISTS, id=pseudonym):
        return RecommendReport(id=pseudonym, found=False)
    return RecommendReport(id=pseudonym, found=True, recommendations=recommended[:k])


# -- kg eval recommend ---------------------------------------------------------------------------------
def evaluate_recommendations(
    store: GraphStore,
    settings: Settings,
    *,
    models: Sequence[str] | None = None,
    ks: Sequence[int] = (10, 20),
    split: str = "live",
    seed: int = 0,
    progress: Progress | None = None,
) -> Any:
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
