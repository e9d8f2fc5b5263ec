"""Layers that show in the folders: the foundation imports no feature package, features do not import
each other, the CLI sits on top, and dialect knowledge stays in kg/store and cypher/<dialect>/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the top layer: may import anything
TOP = ("kg.cli", "kg.demo", "kg.scheduler", "kg.forget")
#: package -> packages it must never import
FORBIDDEN = {
    "kg": ("ingest", "embeddings", "profiles"),
    "ingest": ("embeddings", "profiles", "kg.cli", "kg.demo"),
    "embeddings": ("ingest", "profiles", "kg.cli", "kg.demo"),
    # profiles reads what ingest wrote through the graph and the ledger, and learned vectors via embeddings
    "profiles": ("ingest", "kg.cli", "kg.demo"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
    return found


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _crossings() -> list[str]:
    bad = []
    for package, banned in FORBIDDEN.items():
        for path in _python_files(package):
            module = _module_name(path)
            if module.startswith(TOP):
                continue
            for line, imported in _imports(path):
                if any(imported == b or imported.startswith(b + ".") for b in banned):
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    return bad


def test_no_layer_is_crossed() -> None:
    assert _crossings() == []


def test_the_check_catches_a_crossing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule itself can fail: a foundation module importing ingest is reported."""
    fake = ROOT / "kg" / "_layer_probe_tmp.py"
    fake.write_text("from ingest.api import ingest_file\n", encoding="utf-8")
    try:
        assert any("_layer_probe_tmp.py:1 imports ingest.api" in c for c in _crossings())
    finally:
        fake.unlink()


def test_no_import_cycles_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    modules = {_module_name(p): p for pkg in ("kg", "ingest", "embeddings", "profiles") for p in _python_files(pkg)}
    for name, path in modules.items():
        graph[name] = {m for _, m in _imports(path) if m in modules and m != name}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # a package importing its own submodules from __init__ is not a cycle of concern
    real = [c for c in cycles if not any(m == c[0].rsplit(".", 1)[0] for m in c)]
    assert real == []


_DIALECT_ONLY = re.compile(r"vecf32|db\.idx\.|db\.index\.vector|elementId\(|\bid\(|GRAPH\.|SHOW |IF NOT EXISTS|"
                           r"CREATE CONSTRAINT|CREATE VECTOR INDEX|datetime\(|db\.indexes|dbms\.", re.IGNORECASE)


def test_top_level_cypher_is_the_portable_subset() -> None:
    offenders = []
    for path in sorted((ROOT / "cypher").glob("*.cypher")):
        body = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                         if not line.lstrip().startswith("//"))
        if _DIALECT_ONLY.search(body):
            offenders.append(f"{path.name}: {_DIALECT_ONLY.search(body).group(0)}")
    assert offenders == [], "move dialect-bound queries to cypher/falkordb/ or cypher/neo4j/"


def test_dialect_names_appear_only_in_the_store() -> None:
    """Only kg/store knows backends' dialect words (index states, dialect names in branches)."""
    pattern = re.compile(r"\"(OPERATIONAL|ONLINE)\"|dialect\s*==|\.dialect\b")
    bad = []
    for package in ("kg", "ingest", "embeddings", "profiles"):
        for path in _python_files(package):
            if path.is_relative_to(ROOT / "kg" / "store"):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if pattern.search(line):
                    bad.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert bad == []


def test_neo4j_queries_use_element_ids_not_the_deprecated_id() -> None:
    offenders = [p.name for p in sorted((ROOT / "cypher" / "neo4j").glob("*.cypher"))
                 if re.search(r"(?<![A-Za-z])id\(", "\n".join(
                     line for line in p.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("//")))]
    assert offenders == []
