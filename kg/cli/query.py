"""``kg query``: the analyst query library (``cypher/analyst/``): list, show, run, export.

Example::

    kg query list
    kg query show user_profile
    kg query run user_profile -p user=A31UBHTUUIFJUT --format json
    kg query run review_volume --format csv --output volume.csv
    kg query export --zip kg-queries.zip --guide kg-guide.md
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from kg.cli.common import JsonOpt, emit_json, fail, out, print_table, say, settings_of, store_of

__all__ = ["app", "csv_text", "tsv_text", "write_new"]

app = typer.Typer(
    no_args_is_help=True,
    help="The analyst query library: named, documented, read-only Cypher queries.\n\n"
    "Example: kg query list; kg query run segment_sizes",
)


FORMATS = ("table", "json", "csv")


def _text(value: Any) -> str:
    """A cell as text: nothing for null, true/false, full-precision numbers, JSON for lists and maps."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """RFC 4180 CSV: a header line, CRLF line ends, fields quoted when they hold a comma, quote or line break;
    text that a spreadsheet would run as a formula prefixed with ``'``.

    >>> csv_text(["a", "b"], [{"a": 'say "hi", bye', "b": [1, 2]}])
    'a,b\\r\\n"say ""hi"", bye","[1, 2]"\\r\\n'
    >>> csv_text(["a"], [{"a": "=1+1"}])
    "a\\r\\n'=1+1\\r\\n"
    """
    from kg.analyst.library import spreadsheet_safe

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(c), _text(row.get(c))) for c in columns])
    return buffer.getvalue()


def tsv_text(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """Tab-separated lines, header first (what ``table`` writes to a file or a pipe)."""
    lines = ["\t".join(columns)]
    lines += ["\t".join(_text(row.get(c)).replace("\t", " ").replace("\n", " ") for c in columns) for row in rows]
    return "\n".join(lines) + "\n"


def write_new(path: Path, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; refuse an existing file unless ``force`` (ConfigError)."""
    path = Path(path)
    if path.is_dir():
        fail(f"{path} is a folder", hint="give a file name")
    if path.exists() and not force:
        fail(f"{path} exists", hint="add --force to overwrite it, or choose another --output")
    if not path.parent.is_dir():
        fail(f"no folder {path.parent} for {path.name}", hint="create it first")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if someone created it meanwhile: never overwrite by accident
            except FileExistsError:
                fail(f"{path} exists", hint="add --force to overwrite it")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _parse_pairs(pairs: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        name = name.strip()
        if not eq or not name:
            fail(f"parameter {pair!r} is not name=value", hint="write -p name=value; kg query show NAME lists them")
        if name in params:
            fail(f"parameter {name} given twice", hint="give each -p name=value once")
        params[name] = value
    return params


@app.command("list")
def list_cmd(json_out: JsonOpt = False) -> None:
    """List the library's queries: name, what they are about, parameters, description.

    Example: kg query list --json
    """
    from kg.analyst.library import list_queries

    queries = list_queries()
    if json_out:
        emit_json([q.as_dict() for q in queries])
        return
    print_table(
        ("name", "subject", "parameters", "description"),
        [
            (q.name, q.subject, " ".join(p.name if p.required else f"[{p.name}]" for p in q.params), q.description)
            for q in queries
        ],
    )


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Query name (kg query list).")],
    dialect: Annotated[
        str | None, typer.Option("--dialect", help="falkordb or neo4j (default: the configured backend's).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Show a query: description, parameters with types and examples, columns, and its Cypher text.

    Example: kg query show user_profile --dialect neo4j
    """
    from kg.analyst.library import DIALECTS, get_query

    query = get_query(name)
    chosen = dialect or ("neo4j" if settings_of(ctx).neo4j_uri else "falkordb")
    if chosen not in DIALECTS:
        fail(f"unknown dialect {chosen!r}", hint=f"one of {', '.join(DIALECTS)}")
    text = query.text_for(chosen)
    if json_out:
        emit_json({**query.as_dict(), "dialect": chosen, "text": text})
        return
    out(f"{query.name}: {query.description}")
    out(f"subject: {query.subject}")
    out(f"returns: {', '.join(query.columns)}")
    for p in query.params:
        out(f"  -p {p.name}=...  {p.describe()}{': ' + p.description if p.description else ''}")
    example = " ".join(f"-p {p.name}={_quoted(p.example)}" for p in query.params if p.required)
    out(f"example: kg query run {query.name}{' ' + example if example else ''}")
    out("")
    out(text.rstrip("\n"))


def _quoted(value: str) -> str:
    import shlex

    return shlex.quote(value)


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Query name (kg query list).")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="name=value; typed from the query's header (kg query show NAME). A raw user id "
            "is pseudonymised; or give pseudonym=HEX.",
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="table (the default; tab-separated when not a terminal), json (a list of rows) or csv (RFC 4180).",
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file.")] = False,
    write: Annotated[bool, typer.Option("--write", help="Allow the query to write (read-only otherwise).")] = False,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json", help="The same as --format json (every command's --json): one JSON document, a list of rows."
        ),
    ] = False,
) -> None:
    """Run a library query with -p name=value parameters (read-only unless --write).

    Example: kg query run bought_together -p product=B004LLIKVU -p limit=5 --format csv -o together.csv
    """
    from kg.analyst.library import get_query, run_library_query

    if json_out and fmt not in (None, "json"):
        fail(f"--json and --format {fmt} disagree", hint="give one of them (--json is --format json)")
    fmt = "json" if json_out else (fmt or "table")
    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}", hint=", ".join(FORMATS))
    get_query(name)  # an unknown name fails before the database starts
    params = _parse_pairs(param or [])
    if output is not None and output.exists() and not force:
        fail(f"{output} exists", hint="add --force to overwrite it, or choose another --output")
    with store_of(ctx) as store:
        result = run_library_query(store, name, params, write=write, settings=settings_of(ctx))
    if fmt == "json":
        text = json.dumps(result.rows, ensure_ascii=False, indent=2, default=str) + "\n"
    elif fmt == "csv":
        text = csv_text(result.columns, result.rows)
    elif output is not None:
        text = tsv_text(result.columns, result.rows)
    else:
        if not result.rows:
            say(ctx, "(no rows)")
        print_table(result.columns, [[row.get(c) for c in result.columns] for row in result.rows])
        return
    if output is not None:
        write_new(output, text.encode("utf-8"), force=force)
        say(ctx, f"{len(result.rows)} rows written to {output}")
    elif fmt == "json":
        emit_json(result.rows)
    else:  # bytes, so that no platform rewrites the CRLF line ends CSV requires
        # sys.stdout's own buffer: what click.get_binary_stream returned (deprecated in click 8.5)
        stream = sys.stdout.buffer
        stream.write(text.encode("utf-8"))
        stream.flush()


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    zip_path: Annotated[
        Path | None,
        typer.Option(
            "--zip",
            help="Write the queries as a zip of .cypher files (Neo4j Browser: drop it on the Favorites drawer).",
        ),
    ] = None,
    guide: Annotated[
        Path | None, typer.Option("--guide", help="Write the Neo4j Browser guide (Markdown, one slide per query).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Where kg explore serves the guide (adds a link to the zip).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    json_out: Annotated[
        bool,
        typer.Option("--json", help='Print the files written as one JSON document ({"zip": PATH, "guide": PATH}).'),
    ] = False,
) -> None:
    """Export the library for Neo4j Browser: favourites zip and/or Markdown guide.

    Example: kg query export --zip kg-queries.zip --guide kg-guide.md
    """
    from kg.analyst.library import browser_guide, export_zip

    if zip_path is None and guide is None:
        fail("nothing to export", hint="give --zip FILE and/or --guide FILE")
    if zip_path is not None:
        with tempfile.TemporaryDirectory() as tmp:
            data = export_zip(Path(tmp) / "queries.zip").read_bytes()
        write_new(zip_path, data, force=force)
        if not json_out:
            say(ctx, f"wrote {zip_path}")
    if guide is not None:
        write_new(guide, browser_guide(base_url=base_url).encode("utf-8"), force=force)
        if not json_out:
            say(ctx, f"wrote {guide}")
    if json_out:
        emit_json({"zip": str(zip_path) if zip_path else None, "guide": str(guide) if guide else None})
