"""``kg serve``: the live service (events in over HTTP or Kafka, recommendations out over HTTP)."""

from __future__ import annotations

import os
import secrets
from typing import Annotated

import typer

from kg.cli.common import fail, say, settings_of
from kg.cli.explore import is_loopback, token_from_env

__all__ = ["register", "serve_token"]

TOKEN_ENV = "KG_SERVE_TOKEN"


def serve_token(env: dict[str, str] | os._Environ[str] | None = None) -> tuple[str, bool]:
    """(token, generated): ``KG_SERVE_TOKEN`` when set, else a fresh one (writes always need a token)."""
    given = token_from_env(TOKEN_ENV, env)
    return (given, False) if given else (secrets.token_urlsafe(24), True)


def serve_cmd(
    ctx: typer.Context,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="TCP port (default $KG_SERVE_PORT, 7476).")
    ] = None,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on. Loopback by default; elsewhere every call needs the token."),
    ] = "127.0.0.1",
    kafka: Annotated[
        str | None,
        typer.Option(
            "--kafka", envvar="KG_SERVE_KAFKA", help="Kafka bootstrap servers to consume events from (host:port,...)."
        ),
    ] = None,
    topic: Annotated[
        str | None, typer.Option("--topic", envvar="KG_SERVE_TOPIC", help="Kafka topic of events (with --kafka).")
    ] = None,
    group: Annotated[str, typer.Option("--group", help="Kafka consumer group (with --kafka).")] = "kg-serve",
    batch_events: Annotated[
        int, typer.Option("--batch-events", min=1, help="Events that make a micro-batch at most.")
    ] = 5000,
    batch_wait_ms: Annotated[
        int, typer.Option("--batch-wait-ms", min=0, help="How long the first event of a batch waits for more.")
    ] = 200,
    max_body: Annotated[
        int, typer.Option("--max-body", min=1024, help="Largest request body in bytes (413 beyond).")
    ] = 8 * 1024 * 1024,
) -> None:
    """Serve the shop: take events (POST /events, or a Kafka topic with --kafka/--topic) in micro-batches
    that ingest and update the touched users' profiles like kg ingest + kg update, and answer
    GET /users/{id}/recommendations, GET /users/{id}/profile, GET /products/{id}/similar, /health, /metrics.

    Writes always need the token ($KG_SERVE_TOKEN, else generated and printed); on a non-loopback --host every
    call does. Stop with Ctrl-C: submitted events are written first.

    Example: KG_SERVE_TOKEN=... kg serve --port 7476 --kafka 127.0.0.1:9092 --topic shop-events
    """
    import uvicorn

    from kg.service import KafkaOptions, build_service
    from kg.service.app import create_app

    kafka, topic = (kafka or "").strip() or None, (topic or "").strip() or None
    if (kafka is None) != (topic is None):
        fail("--kafka and --topic go together", hint="e.g. --kafka 127.0.0.1:9092 --topic shop-events")
    settings = settings_of(ctx)
    port = port or settings.serve_port
    token, generated = serve_token()
    service = build_service(
        settings,
        token=token,
        open_reads=is_loopback(host),
        max_events=batch_events,
        max_wait_s=batch_wait_ms / 1000,
        max_body_bytes=max_body,
        kafka=KafkaOptions(kafka, topic, group) if kafka and topic else None,
    )
    shown = f"[{host}]" if ":" in host else host
    say(ctx, f"kg serve: {settings.backend} graph on http://{shown}:{port}/ (POST /events needs the token)")
    if generated:
        say(ctx, f"token: {token}  (generated; set {TOKEN_ENV} to choose it)")
    if kafka:
        say(ctx, f"consuming topic {topic!r} from {kafka} as group {group!r}")
    try:
        uvicorn.run(
            create_app(service), host=host, port=port, log_level="warning", access_log=False, server_header=False
        )
    except OSError as e:
        fail(f"cannot listen on {host}:{port}: {e}", hint="choose another --port or --host")


def register(app: typer.Typer) -> None:
    """Add ``kg serve`` to the root app."""
    app.command("serve")(serve_cmd)
