"""``kg profiles``, ``kg profile``, ``kg recommend``, ``kg update`` and ``kg eval recommend``: each calls one
function of :mod:`kg.profiles` (numpy, scikit-learn and torch are imported only inside the commands). They
share one module because they compute, refresh, read and evaluate the same profiles.

Example::

    kg profiles --k 10 --top 20
    kg profiles --engine spark --master local[2]
    kg profiles --text --text-users 20
    kg profile A31UBHTUUIFJUT --json
    kg recommend A31UBHTUUIFJUT --k 5
    kg eval recommend --k 10,20 --json
    kg update
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer

from kg.cli.common import JsonOpt, emit_json, fail, out, progress_enabled, say, settings_of, store_of

__all__ = ["eval_app", "register"]

eval_app = typer.Typer(
    no_args_is_help=True,
    help="Evaluate what kg computes against strong baselines.\n\nExample: kg eval recommend --k 10,20",
)

#: every model `kg eval recommend` knows, in table order
MODEL_NAMES = ("popularity", "recent", "itemknn", "transitions", "ease", "mf", "kge", "gnn", "kg")
#: the splits of `kg eval recommend`, the default first (kg.profiles.split.SPLITS, without importing numpy)
SPLIT_NAMES = ("live", "leave-last-out", "temporal")
#: where `kg profiles` computes (kg.profiles.workflow.ENGINES, without importing numpy)
ENGINE_NAMES = ("local", "spark")


def _progress(ctx: typer.Context, json_out: bool) -> Callable[[str], Any] | None:
    return (lambda line: say(ctx, line)) if progress_enabled(ctx, json_out) else None


def _report(report: Any, json_out: bool) -> None:
    if json_out:
        emit_json(report)
    else:
        for line in report.lines():
            out(line)


def _as_of_ms(text: str | None) -> int | None:
    """``YYYY-MM-DD`` (UTC midnight at its end) or an ISO date-time, as epoch ms."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, 23, 59, 59, 999000, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        fail(f"--as-of {text!r} is not a date", hint="use YYYY-MM-DD or an ISO date-time such as 2024-05-01T12:00")
    return int(moment.timestamp() * 1000)


def profiles_cmd(
    ctx: typer.Context,
    k: Annotated[int, typer.Option("--k", help="Recommendations per user.")] = 10,
    top: Annotated[int, typer.Option("--top", help="Interests kept per user.")] = 20,
    half_life: Annotated[float, typer.Option("--half-life", help="Half-life of interest decay, in days.")] = 30.0,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Decay relative to this day (YYYY-MM-DD); default: the newest event. Later events are ignored.",
        ),
    ] = None,
    segments: Annotated[
        int | None,
        typer.Option(
            "--segments",
            help="Number of segments (default: chosen top-down by silhouette, up to sqrt(users / 2), at most 50).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (segments, recommender).")] = 0,
    train: Annotated[
        bool,
        typer.Option(
            "--train/--no-train",
            help="Train KGE embeddings with defaults when the graph has none (else segments use interests only).",
        ),
    ] = True,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="Where the batch stages run: local, or spark (Apache Spark: so far the interests, from the lake's "
            "Parquet events, synced first; pip install 'kg[spark]').",
        ),
    ] = ENGINE_NAMES[0],
    master: Annotated[
        str | None,
        typer.Option(
            "--master",
            help="Spark master with --engine spark: local[N], spark://HOST:PORT, yarn, ... (default: "
            "KG_SPARK_MASTER, local[2]).",
        ),
    ] = None,
    text: Annotated[
        bool,
        typer.Option(
            "--text/--no-text",
            help="Also write texts: each user's profile_text, each segment's name and description, a reason_text "
            "per recommendation, by the KG_TEXT_ROUTE model (checked against the graph's facts) or the template.",
        ),
    ] = False,
    text_only: Annotated[
        bool,
        typer.Option("--text-only", help="Write the texts for the profiles already in the graph; compute nothing."),
    ] = False,
    text_users: Annotated[
        int | None,
        typer.Option("--text-users", help="Texts for a seeded sample of N users (default: every profiled user)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """(Re)compute interest scores, segments and recommendations for every user and write them back.

    Re-running replaces the previous results, never duplicates them. --engine spark computes the interests on
    Apache Spark, equal to the local engine's. --text adds texts written from each user's and segment's facts
    (KG_TEXT_ROUTE: template, local or endpoint); --text-only writes them for the profiles already there.

    Example: kg profiles --k 10 --top 20 --half-life 30 --json; kg profiles --text-only --text-users 20
    """
    from kg.profiles import compute_profiles

    if segments is not None and segments < 1:
        fail(f"--segments must be a positive integer, got {segments}")
    if text_users is not None and text_users < 1:
        fail(f"--text-users must be a positive integer, got {text_users}")
    if text_users is not None and not (text or text_only):
        fail("--text-users needs --text or --text-only", hint="kg profiles --text --text-users 20")
    if text_only:
        _texts_only(ctx, text_users, seed, json_out)
        return
    if engine not in ENGINE_NAMES:
        fail(f"unknown --engine {engine!r}; choose {' or '.join(ENGINE_NAMES)}")
    if master is not None and engine != "spark":
        fail("--master needs --engine spark", hint="kg profiles --engine spark --master local[2]")
    if engine == "spark":
        from kg.foundation.extras import require

        require("spark")  # one line naming the extra, before the graph is opened
    with store_of(ctx) as store:
        report = compute_profiles(
            store,
            settings_of(ctx),
            as_of_ms=_as_of_ms(as_of),
            half_life_days=half_life,
            top=top,
            segments=segments,
            k=k,
            seed=seed,
            train=train,
            progress=_progress(ctx, json_out),
            engine=engine,
            master=master,
        )
        if text:
            lifts = {int(seg["id"]): seg.get("lift") for seg in report.segments}
            texts = _write_texts(ctx, store, report.run, text_users, seed, json_out, lifts=lifts)
        else:
            _drop_stale_texts(ctx, store, report.run)
    if text and json_out:
        emit_json({**report.as_dict(), "texts": texts.as_dict()})
        return
    _report(report, json_out)
    if text:
        _report(texts, False)


def _write_texts(
    ctx: typer.Context,
    store: Any,
    run: str | None,
    sample: int | None,
    seed: int,
    json_out: bool,
    *,
    lifts: dict[int, float | None] | None = None,
) -> Any:
    """The texts of the profiles in the graph, by the settings' model (a missing extra: one line, then the
    template)."""
    from kg.profiles.text.generate import open_model, write_texts

    settings = settings_of(ctx)
    model, problem = open_model(settings)
    if problem:
        say(ctx, f"kg: {problem}")
    return write_texts(
        store, settings, run=run, model=model, sample=sample, seed=seed, lifts=lifts, progress=_progress(ctx, json_out)
    )


def _texts_only(ctx: typer.Context, sample: int | None, seed: int, json_out: bool) -> None:
    with store_of(ctx) as store:
        texts = _write_texts(ctx, store, None, sample, seed, json_out)
    _report(texts, json_out)


def _drop_stale_texts(ctx: typer.Context, store: Any, run: str) -> None:
    """Texts written for an earlier run describe its segments and recommendations: they go."""
    from kg.profiles.text.generate import drop_stale_texts

    cleared = drop_stale_texts(store, settings_of(ctx), run=run)
    if any(cleared.values()):
        say(ctx, "texts of the earlier profiles run removed (kg profiles --text writes new ones)")


def update_cmd(
    ctx: typer.Context,
    json_out: JsonOpt = False,
) -> None:
    """Bring the profiles of users with new events (and of new users) up to date without a full recompute:
    interests, segment and recommendations of the touched users only. Runs after every ingest unless
    --no-update; nothing to do before the first kg profiles.

    Example: kg update --json
    """
    from kg.profiles import update_profiles

    with store_of(ctx) as store:
        report = update_profiles(store, settings_of(ctx), progress=_progress(ctx, json_out))
    _report(report, json_out)


def _unknown_user(report: Any, json_out: bool) -> None:
    if json_out:
        emit_json(report)
    else:
        say(None, f"kg: {report.lines()[0]}")
    raise typer.Exit(1)


def _user_report(ctx: typer.Context, lookup: Callable[..., Any], raw_id: str, k: int, json_out: bool) -> Any:
    """``lookup(store, settings, raw_id, k=k)``'s report on the graph; exit 1 when the user is not in it."""
    with store_of(ctx) as store:
        report = lookup(store, settings_of(ctx), raw_id, k=k)
    if not report.found:
        _unknown_user(report, json_out)
    return report


RawIdArg = Annotated[str, typer.Argument(help="The raw user id as it appears in your logs.")]
ShownOpt = Annotated[int, typer.Option("--k", help="Recommendations shown.")]


def profile_cmd(ctx: typer.Context, raw_id: RawIdArg, k: ShownOpt = 10, json_out: JsonOpt = False) -> None:
    """A user's top interests, segment, recent activity and recommendations with reasons, and a short
    summary built only from those facts. Exit 1 when the user is not in the graph.

    Example: kg profile A31UBHTUUIFJUT --json
    """
    from kg.profiles import user_profile

    _report(_user_report(ctx, user_profile, raw_id, k, json_out), json_out)


def recommend_cmd(ctx: typer.Context, raw_id: RawIdArg, k: ShownOpt = 10, json_out: JsonOpt = False) -> None:
    """The products kg profiles recommended to a user, best first, each with its reason (a path in the
    graph). Exit 1 when the user is not in the graph.

    Example: kg recommend A31UBHTUUIFJUT --k 5 --json
    """
    from kg.profiles import user_recommendations

    report = _user_report(ctx, user_recommendations, raw_id, k, json_out)
    if json_out:
        emit_json(report.recommendations)
    else:
        _report(report, False)


def _parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        fail(f"--k {text!r} is not a list of integers", hint="e.g. --k 10,20")
    if not ks or any(k <= 0 for k in ks):
        fail(f"--k values must be positive integers, got {text!r}", hint="e.g. --k 10,20")
    return tuple(sorted(set(ks)))


def _parse_models(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    names = [part.strip().lower() for v in values for part in v.split(",") if part.strip()]
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown:
        fail(f"unknown model {unknown[0]!r}; choose from: {', '.join(MODEL_NAMES)}", hint="e.g. --model ease,kg")
    return tuple(dict.fromkeys(names))


@eval_app.command("recommend")
def eval_recommend_cmd(
    ctx: typer.Context,
    k: Annotated[str, typer.Option("--k", help="Cut-offs, comma-separated.")] = "10,20",
    split: Annotated[
        str,
        typer.Option(
            "--split",
            help="live (per user, the moment before their last purchase of something new: the history before it "
            "trains, views of the bought item included), leave-last-out (per user, the last bought item and all "
            "its events held out) or temporal (a global cut at 80% of the time range).",
        ),
    ] = SPLIT_NAMES[0],
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="Models to evaluate (repeat or comma-separate; default: all of " + ", ".join(MODEL_NAMES) + ").",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Recall, NDCG, hit rate and catalogue coverage of every recommender, each trained on the training part
    only; full ranking over all products, seen items excluded. The table, JSON and a chart are saved in
    KG_HOME/evals/<run>.

    Example: kg eval recommend --k 10,20 --split live --json
    """
    from kg.profiles import evaluate_recommendations

    if split not in SPLIT_NAMES:
        fail(f"unknown --split {split!r}; choose {', '.join(SPLIT_NAMES[:-1])} or {SPLIT_NAMES[-1]}")
    ks = _parse_ks(k)
    models = _parse_models(model)
    with store_of(ctx) as store:
        report = evaluate_recommendations(
            store, settings_of(ctx), models=models, ks=ks, split=split, seed=seed, progress=_progress(ctx, json_out)
        )
    if json_out:
        emit_json(report.rows)
    else:
        for line in report.lines():
            out(line)


def register(root: typer.Typer) -> None:
    """Add ``kg profiles``, ``kg profile``, ``kg recommend`` and the ``kg eval`` group to the root app."""
    root.command("profiles")(profiles_cmd)
    root.command("profile")(profile_cmd)
    root.command("recommend")(recommend_cmd)
    root.command("update")(update_cmd)
    root.add_typer(eval_app, name="eval")
