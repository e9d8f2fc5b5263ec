"""``kg cypher``, ``kg stats``, ``kg user``: analysts' access to the graph."""

from __future__ import annotations

from typing import Annotated

import typer

from kg.cli.common import JsonOpt, emit_json, out, print_table, say, settings_of, store_of

__all__ = ["register"]


def cypher_cmd(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Cypher text; values as $params. A leading EXPLAIN shows the plan "
                                              "without running; PROFILE runs it and shows the plan with counts.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="name=value binds $name to the TEXT value; typed: name:int=5, name:float=0.5, "
                              "name:bool=true, name:json=[1,2].")] = None,
    write: Annotated[bool, typer.Option("--write", help="Allow the query to write (read-only otherwise).")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run a Cypher query against the graph and print the rows (read-only unless --write).

    Example: kg cypher "MATCH (p:Product {id: $id}) RETURN p.title AS title" -p id=B004LLIKVU --json
    """
    from kg.analyst.statements import parse_params, run_cypher

    params = parse_params(param or [])
    with store_of(ctx) as store:
        result = run_cypher(store, query, params, write=write)
    if json_out:
        emit_json(result)
    elif result.mode != "run":
        for line in result.plan:
            out(line)
    elif not result.rows:
        say(ctx, "(no rows)")
    else:
        columns = list(result.rows[0])
        print_table(columns, [[row.get(c) for c in columns] for row in result.rows])


def stats_cmd(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Count nodes per label and relationships per type.

    Example: kg stats --json
    """
    with store_of(ctx) as store:
        stats = store.stats()
    if json_out:
        emit_json(stats)
        return
    rows = [("node", label, n) for label, n in stats["nodes"].items()]
    rows += [("relationship", rel, n) for rel, n in stats["relationships"].items()]
    print_table(("kind", "name", "count"), rows)


def user_cmd(
    ctx: typer.Context,
    raw_id: Annotated[str, typer.Argument(help="The raw user id as it appears in your logs.")],
    json_out: JsonOpt = False,
) -> None:
    """Look a person up by raw id: the pseudonym used in the graph, behaviour per type, top products.
    Exit 1 when the user is not in the graph.

    Example: kg user A31UBHTUUIFJUT --json
    """
    from kg.analyst.users import describe_user

    with store_of(ctx) as store:
        report = describe_user(store, settings_of(ctx), raw_id)
    if json_out:
        emit_json(report)
    elif report.found:
        for line in report.lines():
            out(line)
    else:
        say(None, f"kg: {report.lines()[0]}")
    if not report.found:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the query commands to the root app."""
    app.command("cypher")(cypher_cmd)
    app.command("stats")(stats_cmd)
    app.command("user")(user_cmd)
