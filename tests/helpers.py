"""Small helpers for tests: run the CLI in-process, write input files."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from typer.testing import CliRunner

from kg.cli import app
from kg.foundation.settings import Settings
from kg.store import GraphStore, open_store


def neo4j_settings(neo4j_server: dict[str, str], home: Path, **extra: Any) -> Settings:
    """Settings of a private KG_HOME that uses the session's Neo4j (the ``neo4j_server`` fixture)."""
    return Settings(
        home=home,
        neo4j_uri=neo4j_server["uri"],
        neo4j_password=neo4j_server["password"],
        pseudonym_key="test-key",
        batch_size=500,
        **extra,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """``settings`` as the KG_* variables a ``kg`` process reads (both backends)."""
    return {
        "KG_HOME": str(settings.home),
        "KG_GRAPH": settings.graph,
        "KG_PSEUDONYM_KEY": settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else "",
        "KG_BATCH_SIZE": str(settings.batch_size),
        "KG_NEO4J_URI": settings.neo4j_uri or "",
        "KG_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
    }


def settings_json(settings: Settings) -> str:
    """``settings`` for a child process (``Settings.model_validate_json``), secrets included
    (``model_dump_json`` masks them)."""
    key = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else None
    return json.dumps(
        {
            **json.loads(settings.model_dump_json()),
            "pseudonym_key": key,
            "neo4j_password": settings.neo4j_password.get_secret_value(),
        }
    )


def settings_code(settings: Settings) -> str:
    """Python source that rebuilds ``settings`` in a child process (needs ``Settings`` imported)."""
    return f"Settings.model_validate_json({settings_json(settings)!r})"


def run_cli(settings: Settings, *args: str) -> Any:
    """Invoke ``kg`` with ``settings`` exported as KG_* variables; returns the click Result."""
    return CliRunner().invoke(app, list(args), env=settings_env(settings), catch_exceptions=False)


def write_lines(path: Path, lines: list[Any]) -> Path:
    """Write JSON lines (dicts are dumped, strings written as they are)."""
    with open(path, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


def readline_within(stream: IO[str], timeout: float) -> str:
    """One line of ``stream``: '' at its end, or when no line came within ``timeout`` seconds."""
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0] if box else ""


def release_together(procs: list[subprocess.Popen[str]], timeout: float = 120.0) -> None:
    """Wait until every child has printed ``ready``, then send each its go line: all start their raced step
    together, however long their imports took on a loaded machine (no guessed start time). A child (stdin and
    stdout pipes, text) runs ``print("ready", flush=True); sys.stdin.readline()`` where its race starts."""
    for proc in procs:
        assert proc.stdout is not None and proc.stdin is not None
        line = readline_within(proc.stdout, timeout)
        assert line == "ready\n", f"child {proc.pid} did not get ready within {timeout} s: {line!r}"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()


def overlapped(spans: list[tuple[float, float]]) -> bool:
    """Whether the (began, ended) spans (``time.monotonic()``, one clock for every process) all overlap: the
    last to begin began before the first to end ended. What a race test asserts to show its race was run."""
    return max(began for began, _ in spans) < min(ended for _, ended in spans)


def wait_until(
    predicate: Callable[[], Any],
    timeout: float = 60.0,
    what: str = "the condition",
    proc: subprocess.Popen[Any] | None = None,
) -> None:
    """Poll ``predicate`` until it holds; an AssertionError naming ``what`` at the deadline, or as soon as
    ``proc`` (a child the condition waits on) has exited."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"child {proc.pid} exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)  # the polling interval: the condition lies in another process or the database


@contextmanager
def clean_twin(settings: Settings) -> Iterator[tuple[GraphStore, Settings]]:
    """An empty graph with its own ledger, to rebuild a shop cleanly and compare: take what you compare
    from the first graph BEFORE entering. FalkorDB: another graph on the session server. Neo4j
    (Community holds one database): the same database, emptied on entry, under another KG_HOME."""
    if settings.neo4j_uri:
        home = settings.home.with_name(f"{settings.home.name}_clean_{uuid.uuid4().hex[:6]}")
        home.mkdir(parents=True)
        twin = settings.model_copy(update={"home": home})
        store = open_store(twin)
        store.clear()
    else:
        twin = settings.model_copy(update={"graph": f"t_{uuid.uuid4().hex[:12]}"})
        store = open_store(twin, start=False)
    try:
        yield store, twin
    finally:
        store.clear()
        store.close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def serve_app(app: Any, port: int) -> Iterator[str]:
    """``app`` (ASGI) served by uvicorn in a thread on 127.0.0.1:``port``; its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
