"""compose.yaml's ``neo4j`` settings on a real Neo4j 5.26 Community: the ``NEO4J_*`` environment of the
Docker image, turned back into ``neo4j.conf`` names, starts a local server (strict config validation refuses any
name it does not know), and the server then reports them to its clients (``dbms.listConfig()``, and
``dbms.clientConfig()``: what Neo4j Browser reads on connect).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import neo4j
import pytest
import yaml

from kg.foundation.errors import ServerError
from kg.foundation.settings import Settings
from kg.store.falkordb_server import free_port
from kg.store.neo4j_server import ADMIN, LocalNeo4j

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "compose-test-password"
#: memory settings kept smaller than compose.yaml's (1G/2G heap, 1G page cache) to fit a test machine: the
#: names are applied as they are; only the sizes differ
SMALLER = {
    "server.memory.heap.initial_size": "512M",
    "server.memory.heap.max_size": "512M",
    "server.memory.pagecache.size": "128M",
}
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation: ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?err}``,
    ``$VAR`` and ``$$``.

    >>> interpolate("guide http://localhost:${PORT:-7475}/g $${X}", {})
    'guide http://localhost:7475/g ${X}'
    """

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        op, arg = match.group(2), match.group(3) or ""
        have = env.get(name)
        if op in (":-", ":?") and not have or op in ("-", "?") and have is None:
            if op.endswith("?"):
                raise KeyError(f"{name}: {arg}")
            return arg
        return have or ""

    return _VARIABLE.sub(one, value)


def neo4j_conf_name(env_name: str) -> str:
    """The Docker image's naming: after ``NEO4J_``, ``__`` stands for ``_`` and ``_`` for ``.``.

    >>> neo4j_conf_name("NEO4J_browser_post__connect__cmd")
    'browser.post_connect_cmd'
    """
    return env_name.removeprefix("NEO4J_").replace("__", "\0").replace("_", ".").replace("\0", "_")


def compose_settings(env: dict[str, str]) -> dict[str, str]:
    """compose.yaml's ``neo4j`` service environment as ``neo4j.conf`` settings (NEO4J_AUTH left out: the image
    turns it into the initial password, not a setting)."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    environment = compose["services"]["neo4j"]["environment"]
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {
        neo4j_conf_name(k): interpolate(str(v), env)
        for k, v in environment.items()
        if k.startswith("NEO4J_") and k != "NEO4J_AUTH"
    }


def _bytes(text: str) -> int:
    """``512M`` / ``512.00MiB`` as bytes."""
    number, unit = re.fullmatch(r"([0-9.]+)\s*([kmgKMG]?)(?:i?B)?", text.strip()).groups()  # type: ignore[union-attr]
    return int(float(number) * 1024 ** " KMG".index(unit.upper() or " "))


def test_compose_names_map_to_neo4j_conf() -> None:
    conf = compose_settings({"KG_EXPLORE_PORT": "17475"})
    assert conf["browser.post_connect_cmd"] == "guide http://localhost:17475/guide/kg.md"
    assert compose_settings({})["browser.post_connect_cmd"] == "guide http://localhost:7475/guide/kg.md"
    assert {
        "server.memory.heap.initial_size",
        "server.memory.heap.max_size",
        "server.memory.pagecache.size",
        "dbms.security.procedures.unrestricted",
        "browser.remote_content_hostname_whitelist",
    } <= set(conf)
    assert not any("$" in v for v in conf.values()), conf


def _skip_without_neo4j(error: Exception) -> None:
    """Skip where Java or Maven is missing (as the session's Neo4j does), unless KG_TEST_NEO4J=required."""
    missing = "not installed" in str(error) or "Maven could not resolve" in str(error)
    if missing and os.environ.get("KG_TEST_NEO4J") != "required":
        pytest.skip(f"no local Neo4j here ({error}); install Java 17 + Maven")


@pytest.fixture
def compose_neo4j(tmp_path: Path) -> LocalNeo4j:
    explore_port = free_port()
    settings = Settings(
        home=tmp_path / "kg",
        neo4j_password=PASSWORD,
        neo4j_bolt_port=free_port(),
        neo4j_http_port=free_port(),
        explore_port=explore_port,
        neo4j_heap="512m",
        neo4j_pagecache="128m",
    )
    conf = {**compose_settings({"KG_EXPLORE_PORT": str(explore_port)}), **SMALLER}
    return LocalNeo4j(settings, extra_conf=conf)


def test_compose_neo4j_settings_start_a_neo4j_5_26_and_reach_its_clients(compose_neo4j: LocalNeo4j) -> None:
    server = compose_neo4j
    conf = server.extra_conf
    explore_port = server.settings.explore_port
    try:
        try:
            server.start(timeout=180)
        except ServerError as e:
            _skip_without_neo4j(e)
            raise
        written = (server.conf_dir / "neo4j.conf").read_text()
        for name, value in conf.items():  # every compose setting is in the server's neo4j.conf ...
            assert f"{name}={value}\n" in written, name
        with neo4j.GraphDatabase.driver(server.uri, auth=("neo4j", PASSWORD)) as driver:
            version = driver.execute_query("CALL dbms.components() YIELD versions RETURN versions[0] AS v").records
            assert version[0]["v"].startswith("5.26"), version
            listed = {
                r["name"]: r["value"]
                for r in driver.execute_query("CALL dbms.listConfig() YIELD name, value RETURN name, value").records
            }
            client = {
                r["name"]: r["value"]
                for r in driver.execute_query("CALL dbms.clientConfig() YIELD name, value RETURN name, value").records
            }
        # ... strict validation is on (an unknown name would have stopped the start) ...
        assert listed["server.config.strict_validation.enabled"] == "true"
        # ... and the server reports each one with the value given
        for name, value in conf.items():
            assert name in listed, name
            if name.startswith("server.memory."):
                assert _bytes(listed[name]) == _bytes(value), (name, listed[name])
            else:
                assert listed[name] == value, (name, listed[name])
        # what Neo4j Browser reads on connect: it opens kg's guide, from an allowed host
        assert client["browser.post_connect_cmd"] == f"guide http://localhost:{explore_port}/guide/kg.md"
        allowed = [h.strip() for h in client["browser.remote_content_hostname_whitelist"].split(",")]
        # Browser compares the guide URL's host (or scheme://host), never a port, with these entries
        assert "localhost" in allowed or "http://localhost" in allowed, allowed
        assert listed["dbms.security.procedures.unrestricted"] == "db.*"
    finally:
        server.stop()
    assert server.pid() is None

    # compose.yaml's own sizes (not started here) pass the same validation: `neo4j-admin server validate-config`
    home = server.home.parent / "validate"
    (home / "conf").mkdir(parents=True)
    literal = compose_settings({"KG_EXPLORE_PORT": str(explore_port)})
    assert literal.keys() == conf.keys()
    (home / "conf" / "neo4j.conf").write_text("".join(f"{k}={v}\n" for k, v in literal.items()))
    java = shutil.which("java") or "java"
    done = subprocess.run(
        [java, "-cp", server.classpath(), ADMIN, "server", "validate-config"],
        env={**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "validation successful" in done.stdout, done.stdout + done.stderr


def test_strict_validation_refuses_a_misspelt_name(compose_neo4j: LocalNeo4j) -> None:
    """The control: a name Neo4j does not know stops the start (so a start proves the names)."""
    server = compose_neo4j
    server.extra_conf["browser.post_connect_command"] = server.extra_conf["browser.post_connect_cmd"]
    try:
        with pytest.raises(ServerError) as refused:
            server.start(timeout=120)
    except BaseException:
        server.stop()
        raise
    _skip_without_neo4j(refused.value)
    assert server.pid() is None
    log = " ".join(p.read_text(errors="replace") for p in server.home.rglob("*.log"))
    assert "browser.post_connect_command" in str(refused.value) + log, refused.value
