"""Shared fixtures: one real embedded FalkorDB server per test session, a fresh graph per test.

Set ``KG_NEO4J_URI`` (and user/password) to run the ``neo4j``-marked tests against a real Neo4j.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.server import EmbeddedServer, free_port
from kg.settings import Settings
from kg.store import GraphStore, open_store

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


@pytest.fixture
def settings(falkordb_server: EmbeddedServer, tmp_path: Path) -> Settings:
    """Settings with a private KG_HOME whose embedded server is the session server, and a fresh graph name."""
    home = tmp_path / "home"
    db_dir = home / "db"
    db_dir.mkdir(parents=True)
    # share the session server: same password/pid/state files, so open_store finds it running
    for name in ("password", "redis.pid", "server.json"):
        (db_dir / name).write_bytes((falkordb_server.dir / name).read_bytes())
    return Settings(home=home, graph=f"t_{uuid.uuid4().hex[:12]}", pseudonym_key="test-key", batch_size=500)


@pytest.fixture
def store(settings: Settings) -> Iterator[GraphStore]:
    """An empty graph on the session server, deleted after the test."""
    graph = open_store(settings, start=False)
    yield graph
    graph.clear()
    graph.close()


BACKENDS = ("falkordb", "neo4j")


@pytest.fixture(params=BACKENDS)
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for every configured backend: the embedded FalkorDB always, Neo4j when KG_NEO4J_URI is set
    (point it at a disposable database: tests clear it)."""
    if request.param == "falkordb":
        return request.getfixturevalue("settings")
    settings = Settings(home=tmp_path / "home", pseudonym_key="test-key", batch_size=500)
    if not settings.neo4j_uri:
        pytest.skip("KG_NEO4J_URI is not set: start Neo4j with `docker compose up -d neo4j` to run the Neo4j cases")
    return settings


@pytest.fixture
def any_store(backend_settings: Settings) -> Iterator[GraphStore]:
    """An empty graph on each configured backend (see ``backend_settings``), cleared after the test."""
    graph = open_store(backend_settings, start=False) if not backend_settings.neo4j_uri else open_store(
        backend_settings)
    graph.clear()
    yield graph
    graph.clear()
    graph.close()


@pytest.fixture(scope="session")
def amazon_dir() -> Path:
    """The shared Amazon Gift Cards data, or a skip saying why."""
    if not (AMAZON / "Gift_Cards_5.json").is_file():
        pytest.skip(f"shared Amazon data not found at {AMAZON} (clone next to ../shared to run this test)")
    return AMAZON
