"""Layers that show in the folders, in one ordered list; a module's folder tells what it may import.

A module may import its own layer and any layer ranked below it; layers of the same rank (ingest,
embeddings, analyst) never import each other. The check covers ``kg/``, ``ingest/``, ``embeddings/``
and ``bench/`` by file path, exempts no module by name and writes nothing into the source tree.
Dialect knowledge stays in ``kg/store`` and the query packages' ``cypher/<dialect>/`` folders.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (layer, rank, folder in the repository, import prefix), lowest first; docs/architecture.md draws it
LAYERS: tuple[tuple[str, int, str, str], ...] = (
    ("foundation", 0, "kg/foundation", "kg.foundation"),
    ("store", 1, "kg/store", "kg.store"),
    ("store", 1, "cypher", "kg.cypher"),
    ("ledger", 2, "kg/ledger", "kg.ledger"),
    ("ingest", 3, "ingest", "kg.ingest"),
    ("embeddings", 3, "embeddings", "kg.embeddings"),
    ("analyst", 3, "kg/analyst", "kg.analyst"),
    ("profiles", 4, "kg/profiles", "kg.profiles"),
    ("operations", 5, "kg/operations", "kg.operations"),
    ("service", 5, "kg/service", "kg.service"),
    ("cli", 6, "kg/cli", "kg.cli"),
    ("bench", 7, "bench", "bench"),
)
#: the distribution's own top-level names before it had one namespace; nothing may import them now
RETIRED_TOP_LEVEL = ("ingest", "embeddings", "profiles", "cypher")


def _layer_of_path(relative: str) -> tuple[str, int] | None:
    for name, rank, folder, _ in LAYERS:
        if relative.startswith(folder + "/"):
            return name, rank
    return None


def _layer_of_module(module: str) -> tuple[str, int] | None:
    if module == "kg":
        return "foundation", 0  # kg/__init__.py holds only the version
    for name, rank, _, prefix in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return name, rank
    return None


def _imports(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def crossings(sources: dict[str, str]) -> list[str]:
    """Every import in ``sources`` (repository path -> text) that goes up or sideways a layer."""
    bad = []
    for relative, source in sorted(sources.items()):
        own = _layer_of_path(relative)
        for line, imported in _imports(source):
            if imported.split(".")[0] in RETIRED_TOP_LEVEL:
                bad.append(f"{relative}:{line} imports the retired top-level name {imported}")
                continue
            target = _layer_of_module(imported)
            if own is None or target is None or target[0] == own[0]:
                continue
            if target[1] >= own[1]:
                bad.append(f"{relative}:{line} ({own[0]}) imports {imported} ({target[0]})")
    return bad


def _python_files() -> dict[str, str]:
    files = {}
    for folder in ("kg", "ingest", "embeddings", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            files[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return files


def test_no_layer_is_crossed() -> None:
    assert crossings(_python_files()) == []


def test_every_module_sits_in_a_layer_folder() -> None:
    loose = [p for p in _python_files() if p != "kg/__init__.py" and _layer_of_path(p) is None]
    assert loose == []


def test_tests_import_only_the_namespace() -> None:
    bad = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for line, imported in _imports(path.read_text(encoding="utf-8")):
            if imported.split(".")[0] in RETIRED_TOP_LEVEL:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert bad == []


def test_the_check_catches_crossings() -> None:
    """The rule itself can fail: upward, sideways and retired-name imports are each reported."""
    found = crossings(
        {
            "kg/foundation/probe.py": "from kg.store import GraphStore\n",
            "ingest/probe.py": "import kg.embeddings.train\nfrom kg.ledger import EventLedger\n",
            "kg/profiles/probe.py": "from ingest.api import ingest_file\nfrom kg import cli\n",
            "kg/cli/probe.py": "from kg.operations.demo import run_demo\n",
        }
    )
    assert found == [
        "ingest/probe.py:1 (ingest) imports kg.embeddings.train (embeddings)",
        "kg/foundation/probe.py:1 (foundation) imports kg.store.GraphStore (store)",
        "kg/profiles/probe.py:1 imports the retired top-level name ingest.api.ingest_file",
        "kg/profiles/probe.py:2 (profiles) imports kg.cli (cli)",
    ]


def _module_name(relative: str) -> str:
    for _, _, folder, prefix in LAYERS:
        if relative.startswith(folder + "/"):
            relative = prefix.replace(".", "/") + relative[len(folder) :]
            break
    parts = relative.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _known(imported: str, modules: dict[str, str]) -> str | None:
    """The module an import names: ``from a.b import c`` is ``a.b.c`` when that is a module, else ``a.b``."""
    while imported and imported not in modules:
        imported = imported.rpartition(".")[0]
    return imported or None


def test_no_import_cycles_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    sources = {p: s for p, s in _python_files().items() if not p.startswith("bench/")}
    modules = {_module_name(p): s for p, s in sources.items()}
    for name, source in modules.items():
        graph[name] = {_known(m, modules) for _, m in _imports(source)} - {None, name}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


_DIALECT_ONLY = re.compile(
    r"vecf32|db\.idx\.|db\.index\.vector|elementId\(|\bid\(|GRAPH\.|SHOW |IF NOT EXISTS|"
    r"CREATE CONSTRAINT|CREATE VECTOR INDEX|datetime\(|db\.indexes|dbms\.",
    re.IGNORECASE,
)


def _query_folders() -> list[Path]:
    """The query packages: a ``cypher/`` package beside the code that runs its queries."""
    return sorted(
        init.parent for folder in ("kg", "ingest", "embeddings") for init in (ROOT / folder).rglob("cypher/__init__.py")
    )


def test_top_level_cypher_is_the_portable_subset() -> None:
    offenders = []
    for path in sorted(p for folder in _query_folders() for p in folder.glob("*.cypher")):
        body = "\n".join(
            line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("//")
        )
        if _DIALECT_ONLY.search(body):
            offenders.append(f"{path.relative_to(ROOT)}: {_DIALECT_ONLY.search(body).group(0)}")
    assert offenders == [], "move dialect-bound queries to <package>/cypher/falkordb/ or neo4j/"


def test_dialect_names_appear_only_in_the_store() -> None:
    """Only kg/store knows backends' dialect words (index states, dialect names in branches)."""
    pattern = re.compile(r"\"(OPERATIONAL|ONLINE)\"|dialect\s*==|\.dialect\b")
    bad = []
    for relative, source in _python_files().items():
        if relative.startswith(("kg/store/", "bench/")):
            continue
        for number, line in enumerate(source.splitlines(), start=1):
            if pattern.search(line):
                bad.append(f"{relative}:{number}: {line.strip()}")
    assert bad == []


def test_neo4j_queries_use_element_ids_not_the_deprecated_id() -> None:
    neo4j_files = sorted(p for folder in _query_folders() for p in (folder / "neo4j").glob("*.cypher"))
    assert neo4j_files, "no Neo4j query files found"
    offenders = [
        p.name
        for p in neo4j_files
        if re.search(
            r"(?<![A-Za-z])id\(",
            "\n".join(
                line for line in p.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("//")
            ),
        )
    ]
    assert offenders == []
