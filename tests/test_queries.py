"""Queries owned by the package that runs them: every ``.cypher`` file of a query package (a ``cypher/``
subpackage of kg, ingest or embeddings) is bound by one :class:`~kg.store.queries.Query` constant, every
constant has a file for each of its dialects, and every constant is run somewhere in the library."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterable, Mapping
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


def constants_of(package: str) -> dict[str, Query]:
    """The UPPER_CASE Query constants a query package binds."""
    module = importlib.import_module(package)
    return {name: value for name, value in vars(module).items() if isinstance(value, Query) and name.isupper()}


def cypher_files(folder: Path) -> list[str]:
    """The package's ``.cypher`` files, relative to it (``name.cypher``, ``neo4j/name.cypher``)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.cypher"))


def binding_problems(package: str, files: Iterable[str], constants: Mapping[str, Query]) -> list[str]:
    """What is wrong between a query package's files and its constants (empty: nothing)."""
    problems = []
    files = set(files)
    by_name = {q.name: q for q in constants.values()}
    for const, query in sorted(constants.items()):
        if const != query.name.upper():
            problems.append(f"{package}.{const} binds {query.name!r}: name it {query.name.upper()}")
        if query.package != package:
            problems.append(f"{package}.{const} points at package {query.package}")
        for dialect in query.dialects:
            if dialect not in DIALECTS:
                problems.append(f"{package}.{const}: unknown dialect {dialect!r}")
            elif not {f"{query.name}.cypher", f"{dialect}/{query.name}.cypher"} & files:
                problems.append(f"{package}.{const}: no {query.name}.cypher nor {dialect}/{query.name}.cypher")
    for file in sorted(files):
        *folders, base = file.split("/")
        query = by_name.get(base.removesuffix(".cypher"))
        if query is None:
            problems.append(f"{package}: {file} is bound by no constant")
        elif folders and (len(folders) > 1 or folders[0] not in query.dialects):
            problems.append(f"{package}: {file} is for a dialect {query.name} does not declare")
        elif not folders and query.dialects != DIALECTS:
            problems.append(f"{package}: {file} is common but {query.name} declares only {query.dialects}")
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
def test_every_file_has_a_constant_and_every_constant_its_files(package: str) -> None:
    constants = constants_of(package)
    assert constants, f"{package} binds no query"
    assert binding_problems(package, cypher_files(PACKAGES[package]), constants) == []
    for query in constants.values():
        for dialect in query.dialects:
            assert queries.load(query, dialect).startswith(f"// name: {query.name}")


def test_every_constant_is_run_by_the_library() -> None:
    used = used_constants(_library_sources())
    unused = [
        f"{package}.{const}"
        for package in sorted(PACKAGES)
        for const in sorted(constants_of(package))
        if (package, const) not in used
    ]
    assert unused == [], "delete the query (and its files) or run it"


def test_the_checks_can_fail() -> None:
    pkg = "kg.example.cypher"
    both, neo4j_only = Query(pkg, "a"), Query(pkg, "b", ("neo4j",))
    good = ["a.cypher", "neo4j/b.cypher"]
    assert binding_problems(pkg, good, {"A": both, "B": neo4j_only}) == []
    assert binding_problems(pkg, [*good, "stray.cypher"], {"A": both, "B": neo4j_only}) == [
        f"{pkg}: stray.cypher is bound by no constant"
    ]
    assert binding_problems(pkg, ["neo4j/a.cypher", "neo4j/b.cypher"], {"A": both, "B": neo4j_only}) == [
        f"{pkg}.A: no a.cypher nor falkordb/a.cypher"
    ]
    assert binding_problems(pkg, [*good, "falkordb/b.cypher"], {"A": both, "B": neo4j_only}) == [
        f"{pkg}: falkordb/b.cypher is for a dialect b does not declare"
    ]
    assert binding_problems(pkg, good, {"A": both, "B": neo4j_only, "C": Query(pkg, "c")}) == [
        f"{pkg}.C: no c.cypher nor falkordb/c.cypher",
        f"{pkg}.C: no c.cypher nor neo4j/c.cypher",
    ]
    assert binding_problems(pkg, good, {"A": both, "BEE": neo4j_only}) == [f"{pkg}.BEE binds 'b': name it B"]
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
