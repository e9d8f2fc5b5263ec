"""``kg cypher``: run one Cypher query against the graph (read-only unless ``--write``)."""

from __future__ import annotations

from typing import Annotated

import typer

from kg.cli.common import JsonOpt, emit_json, out, print_table, say, store_of

__all__ = ["register"]


def cypher_cmd(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help="Cypher text; values as $params. A leading EXPLAIN shows the plan "
            "without running; PROFILE runs it and shows the plan with counts."
        ),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="name=value binds $name to the TEXT value; typed: name:int=5, name:float=0.5, "
            "name:bool=true, name:json=[1,2].",
        ),
    ] = None,
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


def register(app: typer.Typer) -> None:
    """Add ``kg cypher`` to the root app."""
    app.command("cypher")(cypher_cmd)
