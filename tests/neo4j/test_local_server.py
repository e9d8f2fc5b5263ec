"""`kg db start|stop|status --backend neo4j`: a local Neo4j under KG_HOME, and its one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.foundation.settings import Settings
from kg.store.falkordb_server import free_port
from kg.store.neo4j_server import LocalNeo4j

pytestmark = pytest.mark.skipif(
    not (shutil.which("java") and shutil.which("mvn")),
    reason="a local Neo4j needs Java 17+ and Maven (apt-get install openjdk-17-jre-headless maven)",
)


def _env(home: Path, bolt: int, http: int, password: str, **extra: str) -> dict[str, str]:
    return {
        "KG_HOME": str(home),
        "KG_NEO4J_PASSWORD": password,
        "KG_NEO4J_BOLT_PORT": str(bolt),
        "KG_NEO4J_HTTP_PORT": str(http),
        "KG_NEO4J_URI": "",
        "KG_NEO4J_HEAP": "512m",
        "KG_NEO4J_PAGECACHE": "64m",
        "KG_PSEUDONYM_KEY": "test-key",
        **extra,
    }


def _kg(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def test_start_stop_restart_keeps_data_and_refuses_another_password(tmp_path: Path) -> None:
    bolt, http = free_port(), free_port()
    env = _env(tmp_path / "home", bolt, http, "first-password")
    started = _kg(env, "db", "start", "--backend", "neo4j", "--json")
    try:
        assert started.exit_code == 0, started.output
        status = json.loads(started.stdout)
        assert status["running"] and status["uri"] == f"bolt://127.0.0.1:{bolt}"
        assert status["browser"] == f"http://127.0.0.1:{http}/browser/"
        conf = (tmp_path / "home" / "neo4j" / "conf" / "neo4j.conf").read_text()
        assert "dbms.security.auth_enabled=true" in conf and f"127.0.0.1:{bolt}" in conf
        assert oct((tmp_path / "home" / "neo4j" / "conf" / "neo4j.conf").stat().st_mode)[-3:] == "600"
        use = {**env, "KG_NEO4J_URI": status["uri"]}
        assert _kg(use, "cypher", "--write", "CREATE (:Product {id: 'kept'})").exit_code == 0
        # a second start is a no-op; status names the local server
        assert _kg(env, "db", "start", "--backend", "neo4j").exit_code == 0
        shown = json.loads(_kg(use, "db", "status", "--json").stdout)
        assert shown["running"] and shown["local"] and shown["version"].startswith("Neo4j Kernel 5.26")
        # the port is taken now: a second home on it is a one-line error, exit 3
        other = _kg(_env(tmp_path / "other", bolt, free_port(), "first-password"), "db", "start", "--backend", "neo4j")
        assert other.exit_code == 3 and other.stderr.count("\n") == 1
        assert f"port {bolt} on 127.0.0.1 is taken" in other.stderr
        # a wrong password from a client: one line, exit 3
        wrong = _kg({**use, "KG_NEO4J_PASSWORD": "not-the-password"}, "stats")
        assert wrong.exit_code == 3 and "refused user 'neo4j'" in wrong.stderr and wrong.stderr.count("\n") == 1
        assert _kg(env, "db", "stop", "--backend", "neo4j").stdout.strip() == "stopped"
        assert _kg(env, "db", "stop", "--backend", "neo4j").stdout.strip() == "not running"
        # the data directory survives a restart
        assert _kg(env, "db", "start", "--backend", "neo4j").exit_code == 0
        rows = json.loads(_kg(use, "cypher", "MATCH (p:Product) RETURN p.id AS id", "--json").stdout)
        assert rows == [{"id": "kept"}]
        _kg(env, "db", "stop", "--backend", "neo4j")
        # the data was set up with another password: the server refuses it, kg says so and stops it
        refused = _kg({**env, "KG_NEO4J_PASSWORD": "second-password"}, "db", "start", "--backend", "neo4j")
        assert refused.exit_code == 3 and "refused KG_NEO4J_PASSWORD" in refused.stderr
        assert LocalNeo4j(Settings(home=tmp_path / "home")).pid() is None
    finally:
        _kg(env, "db", "stop", "--backend", "neo4j")


def test_setting_errors_are_one_line_before_anything_starts(tmp_path: Path) -> None:
    short = _kg(_env(tmp_path / "a", free_port(), free_port(), "short"), "db", "start", "--backend", "neo4j")
    assert short.exit_code == 2 and "8 or more characters" in short.stderr and short.stderr.count("\n") == 1
    remote = _kg(
        _env(tmp_path / "b", free_port(), free_port(), "long-enough", KG_NEO4J_URI="bolt://db.example:7687"),
        "db",
        "start",
    )
    assert remote.exit_code == 2 and "not at this machine" in remote.stderr
    no_java = _kg(
        {**_env(tmp_path / "c", free_port(), free_port(), "long-enough"), "PATH": "/nonexistent"},
        "db",
        "start",
        "--backend",
        "neo4j",
    )
    assert no_java.exit_code == 3 and "needs Java 17+ and Maven" in no_java.stderr
    with socket.socket() as taken:  # a port another program holds
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = _kg(_env(tmp_path / "d", port, free_port(), "long-enough"), "db", "start", "--backend", "neo4j")
    assert busy.exit_code == 3 and f"port {port}" in busy.stderr
    assert not os.path.exists(tmp_path / "d" / "neo4j" / "neo4j.pid")
