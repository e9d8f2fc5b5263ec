"""``kg explore``: serve the graph explorer page (FastAPI + uvicorn) on this machine."""

from __future__ import annotations

import ipaddress
import os
import secrets
from typing import Annotated

import typer

from kg.cli.common import fail, say, settings_of

__all__ = ["register", "is_loopback", "explorer_token", "token_from_env"]

TOKEN_ENV = "KG_EXPLORE_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``127.0.0.1``, ``::1``, ``localhost``).

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_from_env(name: str, env: dict[str, str] | os._Environ[str] | None = None) -> str | None:
    """The token in environment variable ``name`` (None when unset or blank); exit 2 when it is under 16
    characters."""
    given = (env if env is not None else os.environ).get(name, "").strip()
    if given and len(given) < 16:
        fail(f"{name} is too short ({len(given)} characters)", hint="use 16 or more random characters")
    return given or None


def explorer_token(host: str, env: dict[str, str] | os._Environ[str] | None = None) -> tuple[str | None, bool]:
    """(token, generated): ``KG_EXPLORE_TOKEN`` when set; else a fresh one for a non-loopback host; else none."""
    given = token_from_env(TOKEN_ENV, env)
    if given:
        return given, False
    if is_loopback(host):
        return None, False
    return secrets.token_urlsafe(24), True


def explore_cmd(
    ctx: typer.Context,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="TCP port (default $KG_EXPLORE_PORT, 7475).")
    ] = None,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. Loopback by default; any other "
            "address requires a token ($KG_EXPLORE_TOKEN or generated "
            "and printed).",
        ),
    ] = "127.0.0.1",
) -> None:
    """Serve a local web page to explore the graph: search a user, product, brand or aspect by id or
    name, expand neighbourhoods, run library queries as a graph or a table, download CSV. Read-only.

    It also serves the Neo4j Browser guide at /guide/kg.md (`:guide http://HOST:PORT/guide/kg.md`).

    Example: kg explore --port 7475
    """
    import uvicorn

    from kg.analyst.explore.app import GUIDE_PATH, create_app

    settings = settings_of(ctx)
    port = port or settings.explore_port
    token, generated = explorer_token(host)
    app = create_app(settings, token=token)
    shown = f"[{host}]" if ":" in host else host
    shown = "127.0.0.1" if shown in ("0.0.0.0", "[::]") else shown
    url = f"http://{shown}:{port}/"
    say(ctx, f"kg explore: {settings.backend} graph, read-only, on {url}")
    if token is not None:
        say(ctx, f"open {url}#token={token}" + (f"  (generated; set {TOKEN_ENV} to choose it)" if generated else ""))
    say(ctx, f"Neo4j Browser guide: :guide {url.rstrip('/')}{GUIDE_PATH}")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
    except OSError as e:  # port taken, address not here
        fail(f"cannot listen on {host}:{port}: {e}", hint="choose another --port or --host")


def register(app: typer.Typer) -> None:
    """Add ``kg explore`` to the root app."""
    app.command("explore")(explore_cmd)
