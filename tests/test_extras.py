"""Optional extras: the table of kg/foundation/extras.py agrees with pyproject.toml and with every import of
the library; with the packages of other extras made unimportable (a meta-path finder in a child process,
no second virtualenv), every ``--help`` works, a command of a missing extra names it in one line and exits 2,
and the core commands work with every extra missing."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
import uuid
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest

from kg.foundation.extras import CORE, EXTRAS, extra_for
from kg.foundation.settings import Settings
from kg.store import open_store
from kg.store.falkordb_server import EmbeddedServer
from tests.helpers import settings_env

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: every import name of every extra
OPTIONAL = sorted({m for names in EXTRAS.values() for m in names})
#: packages imported by the library that come with a core dependency rather than being listed themselves
TRANSITIVE = {"redis": "falkordb"}

#: the child: block the top-level modules named in the request, then run kg's CLI in-process
CHILD = r"""
import importlib, importlib.abc, json, pkgutil, sys

request = json.loads(sys.argv[1])
blocked = set(request["block"])


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, Blocker())
from typer.main import get_command
from typer.testing import CliRunner

import kg.cli

for info in pkgutil.iter_modules(kg.cli.__path__):
    if info.name != "__main__":  # it runs the CLI
        importlib.import_module(f"kg.cli.{info.name}")
runner = CliRunner()


def paths(command, prefix):
    yield prefix
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from paths(sub, prefix + [name])


helps = {}
if request["help"]:
    for path in paths(get_command(kg.cli.app), []):
        result = runner.invoke(kg.cli.app, path + ["--help"])
        helps[" ".join(path)] = [result.exit_code, result.output[:300]]
runs = []
for args in request["runs"]:
    result = runner.invoke(kg.cli.app, args)
    runs.append({"args": args, "exit_code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr})
leaked = sorted(m for m in sys.modules if m.split(".")[0] in blocked)
print(json.dumps({"help": helps, "runs": runs, "leaked": leaked}))
"""


def run_blocked(
    block: list[str],
    runs: list[list[str]],
    *,
    help_: bool = False,
    env: dict[str, str] | None = None,
    home: Path | None = None,
) -> dict[str, Any]:
    """Run the child with ``block`` unimportable; ``home`` (or ``env``) is its KG_HOME."""
    import os

    child_env = {**os.environ, "KG_PSEUDONYM_KEY": "test-key", **(env or {})}
    if home is not None:
        child_env["KG_HOME"] = str(home)
    request = json.dumps({"block": block, "help": help_, "runs": runs})
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, request], capture_output=True, text=True, timeout=300, cwd=ROOT, env=child_env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the table -----------------------------------------------------------------------------------------------
def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> the files that import it, for every import under kg/, ingest/, embeddings/."""
    found: dict[str, set[str]] = {}
    for folder in ("kg", "ingest", "embeddings"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ("kg", "__future__"):
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_core_or_an_extra() -> None:
    imports = _third_party_imports()
    assert {"torch", "spacy", "fastapi", "neo4j"} <= set(imports)  # the walk sees lazy imports too
    unknown = {m: sorted(files) for m, files in imports.items() if m not in CORE and m not in OPTIONAL}
    assert not unknown, f"add these to kg/foundation/extras.py (CORE or an extra): {unknown}"
    assert not CORE & set(OPTIONAL), "a package is either core or optional"


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def _extra_names(extra: str) -> set[str]:
    """The distributions an extra installs, self-references (kg[...]) expanded."""
    names: set[str] = set()
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        included = re.fullmatch(r"kg\[([^\]]+)\]", requirement.strip())
        if included:
            for other in included.group(1).split(","):
                names |= _extra_names(other.strip())
        else:
            names |= _requirement_names([requirement])
    return names


def _distributions(module: str) -> set[str]:
    return {d.lower().replace("_", "-") for d in packages_distributions().get(module, [])}


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_pyproject_extra_installs_every_package_of_the_table(extra: str) -> None:
    declared = _extra_names(extra)
    for module in EXTRAS[extra]:
        dists = _distributions(module)
        if not dists:
            continue  # not installed here (py2neo): nothing to compare
        assert dists & declared, f"pyproject.toml's {extra!r} extra lacks {module!r} (distribution {dists})"


def test_core_dependencies_match_the_table_and_all_is_every_feature() -> None:
    core = _requirement_names(PYPROJECT["project"]["dependencies"])
    for module in sorted(CORE):
        dists = _distributions(module)
        assert dists & core or module in TRANSITIVE, f"core {module!r} ({dists}) is not in [project] dependencies"
    optional = PYPROJECT["project"]["optional-dependencies"]
    assert set(optional) == set(EXTRAS) | {"all", "test"}
    features = set(EXTRAS) - {"compat"}  # py2neo: for users' scripts, kg never imports it
    assert set().union(*(_extra_names(e) for e in features)) <= _extra_names("all")
    for heavy in ("torch", "spacy", "fastapi", "scikit-learn", "duckdb"):
        assert heavy not in core


def test_extra_for_prefers_the_commands_extra() -> None:
    assert extra_for("sklearn", command="embed") == "embeddings"
    assert extra_for("sklearn", command="profiles") == "profiles"
    assert extra_for("spacy.lang.en") == "reviews"
    assert extra_for("numpy") is None and extra_for("nope") is None


# -- the CLI without the packages of other extras ------------------------------------------------------------
def _others(kept: str | None) -> list[str]:
    own = set(EXTRAS[kept]) if kept else set()
    return [m for m in OPTIONAL if m not in own]


#: kept extra -> a command of another (missing) extra and the extra its message must name
CASES = [
    (None, ["profile", "alice"], "profiles"),
    ("reviews", ["embed", "train"], "embeddings"),
    ("languages", ["explore"], "explore"),
    ("embeddings", ["profiles"], "profiles"),
    ("profiles", ["ingest", "events", "--sql", "SELECT * FROM 'x.csv'"], "sql"),
    ("explore", ["embed", "export", "out"], "embeddings"),
    ("sql", ["recommend", "alice"], "profiles"),
    ("sql", ["lake", "sync"], "lake"),
    ("profiles", ["profiles", "--engine", "spark"], "spark"),
]


@pytest.mark.parametrize(("kept", "args", "extra"), CASES, ids=[str(c[0]) for c in CASES])
def test_help_everywhere_and_one_line_naming_the_missing_extra(
    kept: str | None, args: list[str], extra: str, tmp_path: Path
) -> None:
    result = run_blocked(_others(kept), [args], help_=kept is None, home=tmp_path / "home")
    assert not result["leaked"]
    if kept is None:  # every command's --help (and the CLI modules' import) with no extra at all
        assert len(result["help"]) > 30
        bad = {path: out for path, (code, out) in result["help"].items() if code != 0 or "Usage:" not in out}
        assert not bad, bad
    [run] = result["runs"]
    lines = [line for line in run["stderr"].splitlines() if line.strip()]
    assert run["exit_code"] == 2, run
    assert len(lines) == 1 and lines[0].startswith("kg: error: "), run
    assert f"pip install 'kg[{extra}]'" in lines[0] and "Traceback" not in run["stderr"], run


@pytest.fixture
def core_env(falkordb_server: EmbeddedServer, tmp_path: Path) -> Any:
    """KG_* variables of a fresh graph on the session FalkorDB (as conftest's ``settings`` fixture)."""
    db_dir = tmp_path / "home" / "db"
    db_dir.mkdir(parents=True)
    for name in ("password", "redis.pid", "server.json"):
        (db_dir / name).write_bytes((falkordb_server.dir / name).read_bytes())
    settings = Settings(
        home=tmp_path / "home", graph=f"t_{uuid.uuid4().hex[:12]}", pseudonym_key="test-key", batch_size=500
    )
    yield settings_env(settings)
    with open_store(settings, start=False) as graph:
        graph.clear()


def test_core_commands_work_without_any_extra(core_env: dict[str, str], tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "user_id,item_id,event_type,timestamp\nalice,p1,view,1700000000\n"
        "alice,p2,purchase,1700000001\nbob,p1,view,1700000002\n",
        encoding="utf-8",
    )
    products = tmp_path / "products.csv"
    products.write_text("item_id,title,brand,category,price\np1,Red shoe,Acme,Shoes,3.5\n", encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "events__later.csv").write_text(
        "user_id,item_id,event_type,timestamp\ncarol,p2,cart,1700000003\n", encoding="utf-8"
    )
    reviews = tmp_path / "reviews.jsonl"
    reviews.write_text('{"user_id": "alice", "item_id": "p1", "text": "Great shoe", "rating": 5}\n', encoding="utf-8")
    commands = [
        ["ingest", "events", str(events)],
        ["ingest", "products", str(products)],
        ["stats", "--json"],
        ["cypher", "MATCH (p:Product) RETURN count(p) AS n", "--json"],
        ["user", "alice", "--json"],
        ["query", "list"],
        ["runs"],
        ["forget", "bob"],
        ["schedule", "--inbox", str(inbox), "--once", "--settle", "0", "--json"],
        ["stats", "--json"],
        ["ingest", "reviews", str(reviews)],  # a command of the missing reviews extra, on a real graph
    ]
    result = run_blocked(OPTIONAL, commands, env=core_env)
    assert not result["leaked"]
    *core, missing = result["runs"]
    for run in core:
        assert run["exit_code"] == 0, run
    stats = json.loads(core[2]["stdout"])
    assert stats["nodes"]["User"] == 2 and stats["nodes"]["Product"] == 2
    assert json.loads(core[3]["stdout"])[0]["n"] == 2
    assert (inbox / "done").is_dir() and not (inbox / "events__later.csv").exists()
    assert json.loads(core[-1]["stdout"])["nodes"]["User"] == 2  # bob forgotten, carol scheduled in
    assert missing["exit_code"] == 2 and missing["stderr"].count("\n") == 1, missing
    assert "pip install 'kg[reviews]'" in missing["stderr"], missing
