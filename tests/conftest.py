"""Shared fixtures: one real embedded FalkorDB server and one real Neo4j 5 per test session.

Every test that takes ``settings``/``store`` (or ``backend_settings``/``any_store``) runs on both
backends: FalkorDB gets a fresh graph per test; Neo4j (Community has one database) is cleared before
and after each test. The session's Neo4j is started from Maven Central's jars by
:class:`kg.store.neo4j_server.LocalNeo4j` (Java 17 + Maven), or is the server ``KG_TEST_NEO4J_URI`` (and
``KG_TEST_NEO4J_PASSWORD``) names: a disposable one, since tests clear it (``KG_NEO4J_URI`` is never used,
so a developer's own database is never cleared). Without Java/Maven the Neo4j cases skip, saying why, unless
``KG_TEST_NEO4J=required`` (CI), where that is an error. A test that can only run on FalkorDB
carries ``@pytest.mark.falkordb_only("why")``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.foundation.settings import Settings
from kg.store import GraphStore, open_store
from kg.store.falkordb_server import EmbeddedServer, free_port
from kg.store.neo4j_server import LocalNeo4j
from tests.helpers import neo4j_settings
from tests.planted_graph import CATALOGUE, GRAPH

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
AMAZON = SHARED_DATA / "amazon_gift_cards_5core_2018"

os.environ.setdefault("PYSTOW_HOME", str(Path(os.environ.get("TMPDIR", "/tmp")) / "kg-pystow"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--skip-slow", action="store_true", help="skip tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--skip-slow"):
        skip = pytest.mark.skip(reason="--skip-slow given")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip)
    for item in items:
        only = item.get_closest_marker("falkordb_only")
        callspec = getattr(item, "callspec", None)
        on_neo4j = callspec is not None and any(v == "neo4j" for v in callspec.params.values())
        if only and on_neo4j:
            reason = only.args[0] if only.args else only.kwargs.get("reason", "")
            if not reason:
                raise pytest.UsageError(f"{item.nodeid}: falkordb_only needs a reason")
            item.add_marker(pytest.mark.skip(reason=f"FalkorDB only: {reason}"))


NEO4J_TEST_PASSWORD = "kg-test-password"


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One real Neo4j 5 for the session: ``{"uri", "password"}`` (see the module docstring)."""
    external = os.environ.get("KG_TEST_NEO4J_URI")  # never KG_NEO4J_URI: the tests clear the database
    if external:
        yield {"uri": external, "password": os.environ.get("KG_TEST_NEO4J_PASSWORD", "")}
        return
    home = tmp_path_factory.mktemp("neo4jserver")
    settings = Settings(
        home=home,
        neo4j_password=NEO4J_TEST_PASSWORD,
        neo4j_bolt_port=free_port(),
        neo4j_http_port=free_port(),
        explore_port=free_port(),
        neo4j_heap="1g",
        neo4j_pagecache="256m",
    )
    server = LocalNeo4j(settings)
    try:
        server.start(timeout=180)
    except Exception as e:  # noqa: BLE001 - no Java/Maven here: skip (or fail where Neo4j is required)
        if os.environ.get("KG_TEST_NEO4J") == "required":
            pytest.fail(f"KG_TEST_NEO4J=required but the local Neo4j did not start: {e}")
        pytest.skip(f"no Neo4j for the Neo4j cases ({e}); install Java 17 + Maven or set KG_TEST_NEO4J_URI")
    yield {
        "uri": server.uri,
        "password": NEO4J_TEST_PASSWORD,
        "home": str(server.home),
        "http": str(server.http_port),
        "explore_port": str(settings.explore_port),
    }
    server.stop()


@pytest.fixture(scope="session")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kgserver")


@pytest.fixture(scope="session")
def falkordb_server(server_home: Path) -> Iterator[EmbeddedServer]:
    """A real redis-server + FalkorDB module on a free loopback port, for the whole session."""
    settings = Settings(home=server_home, falkordb_port=free_port(), pseudonym_key="test-key")
    server = EmbeddedServer(settings)
    server.start()
    yield server
    server.stop()


BACKENDS = ("falkordb", "neo4j")


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings with a private KG_HOME on each backend: the session FalkorDB with a fresh graph name, or
    the session Neo4j (cleared before the test)."""
    if request.param == "neo4j":
        settings = neo4j_settings(request.getfixturevalue("neo4j_server"), tmp_path / "home")
        settings.home.mkdir(parents=True)
        with open_store(settings) as graph:
            graph.clear()
        return settings
    falkordb_server: EmbeddedServer = request.getfixturevalue("falkordb_server")
    home = tmp_path / "home"
    db_dir = home / "db"
    db_dir.mkdir(parents=True)
    # share the session server: same password/pid/state files, so open_store finds it running
    for name in ("password", "redis.pid", "server.json"):
        (db_dir / name).write_bytes((falkordb_server.dir / name).read_bytes())
    return Settings(home=home, graph=f"t_{uuid.uuid4().hex[:12]}", pseudonym_key="test-key", batch_size=500)


@pytest.fixture
def store(settings: Settings) -> Iterator[GraphStore]:
    """An empty graph on the session server of each backend, deleted after the test."""
    graph = open_store(settings, start=False)
    yield graph
    graph.clear()
    graph.close()


@pytest.fixture
def backend_settings(settings: Settings) -> Settings:
    """The same as ``settings`` (both backends); kept for the tests that name it."""
    return settings


@pytest.fixture
def any_store(store: GraphStore) -> GraphStore:
    """The same as ``store`` (both backends); kept for the tests that name it."""
    return store


@pytest.fixture
def graph(store: GraphStore) -> GraphStore:
    """``store`` holding the small planted graph of tests/planted_graph.py (users, products, brands,
    categories), with the schema ensured: the embeddings and ``kg embed`` tests' graph."""
    store.ensure_schema()
    store.execute(GRAPH)
    store.execute(CATALOGUE)
    return store


@pytest.fixture(scope="session")
def amazon_dir() -> Path:
    """The shared Amazon Gift Cards data, or a skip saying why."""
    if not (AMAZON / "Gift_Cards_5.json").is_file():
        pytest.skip(f"shared Amazon data not found at {AMAZON} (clone next to ../shared to run this test)")
    return AMAZON
