"""``kg ingest events|products|reviews|runs``: load shop files; each command calls ``kg.ingest.ingest_files``.

Also ``kg rebuild`` (top level): it rewrites the behaviour edges from the event ledger the ingest keeps
(:func:`kg.ingest.rebuild`), so it belongs with the ingest commands rather than in a module of its own.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from kg.cli.common import (
    JsonOpt,
    emit_json,
    fail,
    print_table,
    progress_bytes,
    progress_enabled,
    say,
    settings_of,
    store_of,
)

__all__ = ["app"]

app = typer.Typer(
    no_args_is_help=True,
    help="Load shop files into the graph (idempotent, streamed).\n\n"
    "Example: kg ingest events events.csv; kg ingest runs",
)

PathsArg = Annotated[list[str] | None, typer.Argument(help="Input files or quoted globs (.gz read transparently).")]
SqlOpt = Annotated[
    str | None,
    typer.Option(
        "--sql",
        help="Instead of files: one SELECT over CSV/Parquet/JSON files "
        "(joins, globs, .gz; paths relative to the current directory), run by "
        "DuckDB, its columns named as the fields (pip install 'kg[sql]').",
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", help="Input format (default: detected from the file name and first line)."),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Re-process a file the manifest says is done.")]
BadOpt = Annotated[
    float | None,
    typer.Option(
        "--max-bad-ratio", min=0.0, max=1.0, help="Exit 1 when more than this share of rows is bad (default 0.01)."
    ),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option("--delimiter", "-d", help="CSV delimiter (default: sniffed among , ; TAB |); 'tab' for TAB."),
]
AllowForgottenOpt = Annotated[
    bool,
    typer.Option(
        "--allow-forgotten",
        help="Load the rows of people forgotten by "
        "`kg forget` (default: skipped and counted) and take them off the list.",
    ),
]
MapOpt = Annotated[
    str | None,
    typer.Option(
        "--map",
        help="Column mapping field=column[,field=column...] (e.g. user_id=customer,item_id=sku) or a JSON file of it.",
    ),
]
EventTypesOpt = Annotated[
    str | None,
    typer.Option(
        "--event-types",
        help="Map the log's event values to types, e.g. 0=view,1=purchase,2=favorite,3=cart (others: synonyms).",
    ),
]
TimeFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--time-format",
        help="strptime layout of the timestamps, e.g. '%Y-%m-%d %H:%M' (default: ISO-8601 or epoch s/ms).",
    ),
]
TzOpt = Annotated[
    str | None,
    typer.Option("--tz", help="IANA time zone of times without an offset, e.g. Asia/Shanghai (default: UTC)."),
]
UpdateOpt = Annotated[
    bool,
    typer.Option(
        "--update/--no-update",
        help="After the ingest, run kg update: vectors "
        "for new users and products when embeddings are trained, and the touched "
        "users' profiles when kg profiles has run.",
    ),
]


def parse_columns(value: str | None) -> dict[str, str] | None:
    """``--map`` as {canonical field: the file's column}: ``a=b,c=d`` or a JSON object file."""
    if not value:
        return None
    path = Path(value)
    if path.suffix == ".json" or path.is_file():
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            fail(f"--map {value}: cannot read a JSON object of field -> column ({e})")
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            fail(f"--map {value}: want a JSON object of field -> column name")
        return {str(k): v for k, v in mapping.items()}
    mapping = {}
    for part in value.split(","):
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            fail(f"--map: {part!r} is not field=column", hint="e.g. --map user_id=customer,item_id=sku")
        mapping[field.strip()] = column.strip()
    return mapping


def _delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    value = {"tab": "\t", "\\t": "\t"}.get(value.lower(), value)
    if len(value) != 1:
        fail(f"--delimiter {value!r} must be one character (or 'tab')")
    return value


def run_ingest_command(
    ctx: typer.Context,
    paths: list[str] | None,
    *,
    kind: str,
    fmt: str | None,
    force: bool,
    max_bad_ratio: float | None,
    json_out: bool,
    allow_forgotten: bool = False,
    update_profiles: bool = False,
    sql: str | None = None,
    **options: Any,
) -> None:
    """Shared body of the ingest commands: one library call, then the reports."""
    from kg.ingest import expand_paths

    if sql is not None and (paths or fmt):
        fail(
            "give input files or --sql QUERY, not both" if paths else "--format does not apply to --sql",
            hint="--sql reads the files its query names",
        )
    if sql is not None and options.get("time_format"):
        fail(
            "--time-format does not apply to --sql: DuckDB reads the times",
            hint="parse text times in the query, e.g. strptime(t, '%Y-%m-%d %H:%M') AS timestamp (--tz still applies)",
        )
    if sql is None and not paths:
        fail(f"no input: give {kind} files or --sql QUERY", hint=f"e.g. kg ingest {kind} FILE.csv")
    if sql is not None:
        from kg.ingest.sql_source import check_query

        check_query(sql)  # refused before the graph is opened
    settings = settings_of(ctx)
    files = expand_paths(paths) if paths else []  # files xor --sql: checked above
    reports = []
    with store_of(ctx) as store:
        for name, ingest in _inputs(store, settings, sql, files, fmt):
            with progress_bytes(f"{kind} {name}", enabled=progress_enabled(ctx, json_out)) as update:
                report = ingest(
                    kind=kind,
                    force=force,
                    max_bad_ratio=max_bad_ratio,
                    progress=update,
                    allow_forgotten=allow_forgotten,
                    **options,
                )
            reports.append(report)
            if not json_out:
                for line in report.lines():
                    say(ctx, line)
        if update_profiles and any(r.rows_ok and not r.skipped for r in reports):
            _update_profiles(ctx, store, settings)
    if json_out:
        emit_json(reports[0] if len(reports) == 1 else reports)
    bad = [r for r in reports if not r.ok]
    for report in bad:
        say(
            None,
            f"kg: {report.file}: bad-row share {report.bad_ratio:.2%} is over --max-bad-ratio {report.max_bad_ratio}",
        )
    if bad:
        raise typer.Exit(1)


def _inputs(
    store: Any, settings: Any, sql: str | None, files: list[Path], fmt: str | None
) -> list[tuple[str, Callable[..., Any]]]:
    """(name, ingest function taking the run's options) for the ``--sql`` query, then for each file."""
    from kg.ingest import ingest_file

    inputs: list[tuple[str, Callable[..., Any]]] = []
    if sql is not None:
        from kg.ingest.sql_source import ingest_sql

        inputs.append(("sql", partial(ingest_sql, store, settings, sql)))
    return inputs + [(path.name, partial(ingest_file, store, settings, path, fmt=fmt)) for path in files]


def _update_profiles(ctx: typer.Context, store: Any, settings: Any) -> None:
    """``kg update`` after an ingest: vectors for new users and products (when embeddings are trained) and
    the touched users' profiles (when kg profiles has run on this graph); silent when neither has."""
    from kg.foundation.extras import available

    if not available("profiles"):  # a core install: no kg profiles, no embeddings to keep current
        return
    from kg.profiles import update_profiles

    report = update_profiles(store, settings)
    if report.users_updated or report.embeddings:
        for line in report.lines():
            say(ctx, line)


def _parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    """One parameter of an ingest command (its option or argument declared by ``annotation``)."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


#: the parameters every ingest command takes, in --help order
_SHARED = (
    _parameter("ctx", typer.Context),
    _parameter("paths", PathsArg, None),
    _parameter("sql", SqlOpt, None),
    _parameter("fmt", FormatOpt, None),
    _parameter("delimiter", DelimiterOpt, None),
    _parameter("columns", MapOpt, None),
    _parameter("force", ForceOpt, False),
    _parameter("max_bad_ratio", BadOpt, None),
    _parameter("allow_forgotten", AllowForgottenOpt, False),
    _parameter("update", UpdateOpt, True),
    _parameter("json_out", JsonOpt, False),
)

ReaderOptions = Callable[..., dict[str, Any]]


def _parameters(own: ReaderOptions, own_after: str, forgotten: bool) -> list[inspect.Parameter]:
    """An ingest command's parameters: the shared ones with ``own``'s after ``own_after``."""
    shared = [p for p in _SHARED if forgotten or p.name != "allow_forgotten"]
    at = [p.name for p in shared].index(own_after) + 1
    mine = [p.replace(kind=p.KEYWORD_ONLY) for p in inspect.signature(own, eval_str=True).parameters.values()]
    return [*shared[:at], *mine, *shared[at:]]


def ingest_command(
    kind: str, *, own_after: str = "fmt", forgotten: bool = True
) -> Callable[[ReaderOptions], Callable[..., None]]:
    """Make ``kg ingest KIND`` from a function of the command's own options that returns the reader and
    loader options they give; its docstring is the help. The shared options go around the own ones,
    which come after ``own_after`` in --help; ``forgotten`` False leaves out --allow-forgotten."""

    def decorate(own: ReaderOptions) -> Callable[..., None]:
        own_names = list(inspect.signature(own).parameters)
        params = _parameters(own, own_after, forgotten)

        def command(
            ctx: typer.Context, *, delimiter: str | None, columns: str | None, update: bool, **values: Any
        ) -> None:
            mine = {name: values.pop(name) for name in own_names}
            run_ingest_command(
                ctx,
                kind=kind,
                update_profiles=update,
                delimiter=_delimiter(delimiter),
                columns=parse_columns(columns),
                **values,
                **own(**mine),
            )

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]  # what typer reads
        command.__annotations__ = {p.name: p.annotation for p in params}
        command.__name__, command.__doc__ = own.__name__, own.__doc__
        return command

    return decorate


@app.command("events")
@ingest_command("events", own_after="columns")
def events(event_types: EventTypesOpt = None, time_format: TimeFormatOpt = None, tz: TzOpt = None) -> dict[str, Any]:
    """Load behaviour events (view/favorite/cart/purchase/rating) into the event ledger and User->Product edges.

    Formats: csv, jsonl, amazon, retailrocket.

    Example: kg ingest events Gift_Cards_5.json --format amazon
    """
    return {"event_types": event_types or None, "time_format": time_format, "tz": tz}


@app.command("products")
@ingest_command("products", forgotten=False)
def products() -> dict[str, Any]:
    """Load a product catalogue: products, brands, category tree, also-bought/viewed links.

    Formats: csv, jsonl, amazon-meta.

    Example: kg ingest products meta_Gift_Cards.json --format amazon-meta
    """
    return {}


@app.command("reviews")
@ingest_command("reviews")
def reviews(
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language of the reviews (spaCy code: en, de, ...); default: detected per review."),
    ] = None,
    store_text: Annotated[bool, typer.Option("--store-text", help="Also store the review text, PII-scrubbed.")] = False,
    sentiment: Annotated[
        str | None,
        typer.Option(
            "--sentiment",
            help="auto (encoder cross-fitted on the file when it has enough ratings, else lexicon) | encoder | lexicon",
        ),
    ] = None,
    folds: Annotated[int | None, typer.Option("--folds", min=2, max=20, help="Cross-fitting folds (encoder).")] = None,
    synonyms: Annotated[
        Path | None, typer.Option("--synonyms", help="JSON {variant: canonical} aspect synonyms.")
    ] = None,
) -> dict[str, Any]:
    """Load reviews: Review nodes, aspects with opinions, catalogue mentions, sentiment, aspect aggregates.

    Formats: amazon, csv, jsonl. Uses the spaCy pipeline in KG_SPACY_MODEL when set (dependency arcs),
    else spacy.blank + rules. Ingest the catalogue first so brand/product/category names are linked.

    Example: kg ingest reviews Gift_Cards_5.json --format amazon
    """
    return {
        "lang": lang,
        "store_text": store_text or None,
        "sentiment": sentiment,
        "folds": folds,
        "synonyms": synonyms,
    }


@app.command("runs")
def runs(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List ingest runs recorded in the graph's manifest, newest first (failed ones with their reason).

    Example: kg ingest runs --json
    """
    from kg.ingest.manifest import Manifest

    with store_of(ctx) as store:
        rows = Manifest(store).runs()
    if json_out:
        emit_json(rows)
        return
    columns = ("file", "kind", "format", "status", "rows_ok", "rows_bad", "seconds", "error")
    print_table(columns, [[run.get(c) for c in columns] for run in rows])


def rebuild_cmd(
    ctx: typer.Context,
    remove_unknown: Annotated[
        bool,
        typer.Option(
            "--remove-unknown", help="Also delete behaviour edges the event ledger does not know (default: count them)."
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Rewrite every behaviour edge (VIEWED, FAVORITED, CARTED, PURCHASED, RATED) from the event ledger, and add
    date/month to reviews that lack them.

    Use it after restoring an older graph backup, when edges were edited by hand, or once after
    upgrading from kg 0.1.

    Example: kg rebuild --json
    """
    from kg.ingest import rebuild

    with (
        store_of(ctx) as store,
        progress_bytes("rebuild", enabled=progress_enabled(ctx, json_out), unit="items") as update,
    ):
        result = rebuild(store, settings_of(ctx), remove_unknown=remove_unknown, progress=update)
    if json_out:
        emit_json(result)
        return
    say(
        ctx,
        f"rebuilt {result['edges_written']:,} behaviour edges from {result['pairs']:,} ledger pairs in "
        f"{result['seconds']:.1f} s; {result['unknown_edges']:,} edges unknown to the ledger"
        + (f" ({result['unknown_removed']:,} removed)" if remove_unknown else " (left alone)")
        + f"; dates added to {result['review_dates_added']:,} reviews",
    )


def register(root: typer.Typer) -> None:
    """Add ``kg rebuild`` to the root app."""
    root.command("rebuild")(rebuild_cmd)
