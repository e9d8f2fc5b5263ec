"""Queries owned by the package that runs them: every ``.cypher`` file of a query package (a ``cypher/``
subpackage of kg, ingest or embeddings) is a query named by its file (``NAME`` for ``name.cypher``) for the
dialects it has files for, every query is run somewhere in the library, and every name run has a file."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterable
from pathlib import Path

import pytest

from kg.foundation.errors import ConfigError
from kg.store import queries
from kg.store.queries import DIALECTS, Query

ROOT = Path(__file__).resolve().parents[1]
#: repository folder -> import prefix (pyproject's package-dir)
FOLDERS = {"kg": "kg", "ingest": "kg.ingest", "embeddings": "kg.embeddings"}


def query_packages() -> dict[str, Path]:
    """Import name -> folder of every query package."""
    found = {}
    for folder, prefix in FOLDERS.items():
        for init in (ROOT / folder).rglob("cypher/__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found[".".join((prefix, *parts))] = init.parent
    return found


def cypher_files(folder: Path) -> list[str]:
    """The package's ``.cypher`` files, relative to it (``name.cypher``, ``neo4j/name.cypher``)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.cypher"))


def layout_problems(package: str, files: Iterable[str]) -> list[str]:
    """What is wrong with a query package's files (empty: nothing): each is ``name.cypher`` or
    ``<dialect>/name.cypher`` with a lower-case name, so that ``NAME`` finds it."""
    problems = []
    for file in sorted(files):
        *folders, base = file.split("/")
        name = base.removesuffix(".cypher")
        if len(folders) > 1 or (folders and folders[0] not in DIALECTS):
            problems.append(f"{package}: {file} is in no dialect folder ({', '.join(DIALECTS)})")
        elif name != name.lower() or not name.isidentifier():
            problems.append(f"{package}: {file} is not named like a query (lower_case.cypher)")
    return problems


def used_constants(sources: Iterable[str]) -> set[tuple[str, str]]:
    """(package, constant) pairs the sources use: ``from PKG import NAME`` then ``NAME``, or
    ``from PARENT import cypher as M`` / ``import PKG as M`` then ``M.NAME``."""
    used = set()
    for source in sources:
        tree = ast.parse(source)
        names: dict[str, tuple[str, str]] = {}
        modules: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    names[alias.asname or alias.name] = (node.module, alias.name)
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        modules[alias.asname] = alias.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in names:
                used.add(names[node.id])
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
                used.add((modules[node.value.id], node.attr))
    return used


def _library_sources() -> list[str]:
    """Every module of the library (kg/, ingest/, embeddings/) outside the query packages."""
    return [
        p.read_text(encoding="utf-8")
        for folder in FOLDERS
        for p in sorted((ROOT / folder).rglob("*.py"))
        if "cypher" not in p.relative_to(ROOT).parts[:-1]
    ]


PACKAGES = query_packages()


def test_the_query_packages_are_found() -> None:
    assert {
        "kg.store.cypher",
        "kg.ingest.cypher",
        "kg.embeddings.cypher",
        "kg.analyst.cypher",
        "kg.profiles.cypher",
        "kg.operations.cypher",
    } <= set(PACKAGES)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_file_is_a_query_of_its_dialects(package: str) -> None:
    files = cypher_files(PACKAGES[package])
    assert files, f"{package} holds no query"
    assert layout_problems(package, files) == []
    module = importlib.import_module(package)
    assert dir(module) == sorted({f.rsplit("/", 1)[-1].removesuffix(".cypher").upper() for f in files})
    for constant in dir(module):
        query = getattr(module, constant)
        assert query == queries.find(package, constant)
        for dialect in query.dialects:
            assert queries.load(query, dialect).startswith(f"// name: {query.name}")


def test_every_query_is_run_by_the_library_and_every_name_it_runs_exists() -> None:
    used = used_constants(_library_sources())
    unused = [
        f"{package}.{constant}"
        for package in sorted(PACKAGES)
        for constant in queries.names(package)
        if (package, constant) not in used
    ]
    assert unused == [], "delete the query's files or run it"
    for package, constant in sorted(used):
        if package in PACKAGES and constant.isupper():
            queries.find(package, constant)  # raises for a name without a file


def test_the_checks_can_fail() -> None:
    pkg = "kg.example.cypher"
    assert layout_problems(pkg, ["a.cypher", "neo4j/b.cypher", "falkordb/a.cypher"]) == []
    assert layout_problems(pkg, ["mysql/a.cypher", "neo4j/x/b.cypher", "Big.cypher"]) == [
        f"{pkg}: Big.cypher is not named like a query (lower_case.cypher)",
        f"{pkg}: mysql/a.cypher is in no dialect folder (falkordb, neo4j)",
        f"{pkg}: neo4j/x/b.cypher is in no dialect folder (falkordb, neo4j)",
    ]
    with pytest.raises(ImportError, match="NO_SUCH_QUERY"):
        exec("from kg.store.cypher import NO_SUCH_QUERY")
    with pytest.raises(AttributeError, match="no no_such_query.cypher"):
        queries.find("kg.store.cypher", "NO_SUCH_QUERY")
    with pytest.raises(AttributeError):
        queries.find("kg.store.cypher", "stats_nodes")  # constants are capitals
    source = (
        "from kg.ingest.cypher import EVENTS_MERGE, EVENTS_SET\nfrom kg.profiles import cypher as q\n"
        "store.write(EVENTS_MERGE, rows)\nstore.query(q.USER_SEGMENT)\n"
    )
    used = used_constants([source])
    assert {("kg.ingest.cypher", "EVENTS_MERGE"), ("kg.profiles.cypher", "USER_SEGMENT")} <= used
    assert ("kg.ingest.cypher", "EVENTS_SET") not in used  # imported, never run


def test_queries_are_named_by_constants_not_strings() -> None:
    with pytest.raises(TypeError):
        queries.load("stats_nodes", "falkordb")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no Cypher file"):
        queries.load(Query("kg.store.cypher", "no_such_query"), "falkordb")
