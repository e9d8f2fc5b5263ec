"""``kg cypher``: typed parameters, read-only by default, EXPLAIN/PROFILE, values printed as text."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kg.analyst.statements import parse_param
from kg.foundation.errors import InputError
from kg.foundation.settings import Settings
from kg.store import GraphStore
from tests.helpers import run_cli


def _count(store: GraphStore, label: str) -> int:
    return store.execute(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"]


def test_parameters_are_text_unless_typed(store: GraphStore, settings: Settings) -> None:
    store.execute("CREATE (:Product {id: '1234567890', price: 3.0}), (:Product {id: 'p2', price: 1.0})")
    by_id = run_cli(
        settings, "cypher", "MATCH (p:Product {id: $id}) RETURN p.id AS id", "-p", "id=1234567890", "--json"
    )
    assert by_id.exit_code == 0, by_id.output
    assert json.loads(by_id.stdout) == [{"id": "1234567890"}]
    typed = run_cli(
        settings, "cypher", "MATCH (p:Product) WHERE p.price > $min RETURN p.id AS id", "-p", "min:float=2", "--json"
    )
    assert json.loads(typed.stdout) == [{"id": "1234567890"}]
    listed = run_cli(
        settings,
        "cypher",
        "MATCH (p:Product) WHERE p.id IN $ids RETURN p.id AS id ORDER BY id",
        "-p",
        'ids:json=["p2","nope"]',
        "--json",
    )
    assert json.loads(listed.stdout) == [{"id": "p2"}]


@pytest.mark.parametrize(
    "text, reason",
    [
        ("x:float=NaN", "not a finite number"),
        ("x:json=NaN", "not valid JSON"),
        ("x:int=99999999999999999999999", "beyond 64 bits"),
        ("x:json=[1e400]", "not a finite number"),
        ("x`y=1", "not a parameter name"),
        ("x:date=1", "unknown type"),
        ("novalue", "not name=value"),
    ],
)
def test_bad_parameters_are_one_line_errors(text: str, reason: str, settings: Settings) -> None:
    with pytest.raises(InputError, match=reason):
        parse_param(text)
    result = run_cli(settings, "cypher", "RETURN 1 AS x", "-p", text)
    assert result.exit_code == 2 and reason in result.stderr and result.stderr.count("\n") == 1


def test_queries_are_read_only_unless_write(store: GraphStore, settings: Settings) -> None:
    refused = run_cli(settings, "cypher", "CREATE (:Thing {id: 'a'})")
    assert refused.exit_code == 2 and "--write" in refused.stderr
    assert _count(store, "Thing") == 0
    allowed = run_cli(settings, "cypher", "CREATE (:Thing {id: 'a'})", "--write")
    assert allowed.exit_code == 0, allowed.output
    assert _count(store, "Thing") == 1


def test_explain_never_runs_and_profile_refuses_writes(store: GraphStore, settings: Settings) -> None:
    explained = run_cli(settings, "cypher", "EXPLAIN CREATE (:Thing {id: 'x'})", "--write")
    assert explained.exit_code == 0, explained.output
    assert "Create" in explained.stdout and _count(store, "Thing") == 0
    refused = run_cli(settings, "cypher", "PROFILE CREATE (:Thing {id: 'x'})")
    assert refused.exit_code == 2 and _count(store, "Thing") == 0
    profiled = run_cli(settings, "cypher", "PROFILE MATCH (n) RETURN count(n) AS n", "--json")
    assert profiled.exit_code == 0 and json.loads(profiled.stdout)["mode"] == "profile"


def test_values_print_as_text_never_markup(store: GraphStore, settings: Settings) -> None:
    store.execute(
        "CREATE (:Product {id: 'g', title: 'Gift Card [pack of 3]'}), (:Product {id: 'h', title: 'Card [/b] x'})"
    )
    result = run_cli(settings, "cypher", "MATCH (p:Product) RETURN p.title AS title, count(p) AS n ORDER BY title")
    assert result.exit_code == 0, result.output
    assert "Gift Card [pack of 3]" in result.stdout and "Card [/b] x" in result.stdout
    # counts print as integers, not 1.0
    assert result.stdout.splitlines()[1].endswith("\t1")


def test_errors_are_one_line_with_the_reason(settings: Settings) -> None:
    syntax = run_cli(settings, "cypher", "MATCH (p:Product RETURN p")
    server = "Neo4j" if settings.backend == "neo4j" else "FalkorDB"
    assert syntax.exit_code == 2 and syntax.stderr.startswith(f"kg: error: {server}:")
    assert syntax.stderr.count("\n") == 1
    missing = run_cli(settings, "cypher", "MATCH (p:Product {id: $pid}) RETURN p")
    assert missing.exit_code == 2 and "$pid" in missing.stderr and "-p pid=" in missing.stderr


def test_unreachable_server_and_bad_home_are_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env_url = {"KG_FALKORDB_URL": "redis://127.0.0.1:1", "KG_HOME": str(tmp_path / "h")}
    url = subprocess.run(
        [sys.executable, "-m", "kg.cli", "stats"],
        capture_output=True,
        text=True,
        env={**_base_env(), **env_url},
        timeout=60,
    )
    assert url.returncode == 3 and url.stderr.count("\n") == 1 and "KG_FALKORDB_URL" in url.stderr
    a_file = tmp_path / "file"
    a_file.write_text("x")
    home = subprocess.run(
        [sys.executable, "-m", "kg.cli", "stats"],
        capture_output=True,
        text=True,
        env={**_base_env(), "KG_HOME": str(a_file)},
        timeout=60,
    )
    assert home.returncode == 2 and home.stderr.count("\n") == 1 and "not a directory" in home.stderr


def test_cli_starts_without_heavy_libraries() -> None:
    code = (
        "import sys; from kg.cli import app; from typer.testing import CliRunner; "
        "r = CliRunner().invoke(app, ['--version']); print(r.stdout.strip()); "
        "print(sorted(m for m in ('torch', 'pykeen', 'spacy', 'transformers', 'sklearn') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    version, heavy = done.stdout.strip().splitlines()
    assert version.startswith("kg ") and heavy == "[]"


def test_verbose_takes_a_number(settings: Settings) -> None:
    assert run_cli(settings, "-v", "stats").exit_code == 0
    from kg.cli import _normalise_argv

    assert _normalise_argv(["-v", "2", "stats"]) == ["-v", "-v", "stats"]


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("KG_")}


def _index_count(store: GraphStore, settings: Settings) -> int:
    if settings.backend == "neo4j":
        return len(store.execute("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name"))
    return len(store.execute("CALL db.indexes() YIELD label RETURN label"))


def test_profile_gets_the_read_only_check_of_the_bare_query(store: GraphStore, settings: Settings) -> None:
    """PROFILE runs the query: a procedure or schema statement that writes is refused without --write."""
    store.execute("CREATE (:Product {id: 'a', title: 'x'})")
    before = _index_count(store, settings)
    writers = ["CREATE INDEX FOR (p:Product) ON (p.title)"]
    writers.append(
        "CREATE FULLTEXT INDEX kg_t FOR (n:Product) ON EACH [n.title]"
        if settings.backend == "neo4j"
        else "CALL db.idx.fulltext.createNodeIndex('Product', 'title')"
    )
    for text in writers:
        for mode in ("", "PROFILE ", "profile\n"):
            refused = run_cli(settings, "cypher", mode + text)
            assert refused.exit_code == 2, (mode, text, refused.output)
            assert refused.stderr.count("\n") == 1 and "report it" not in refused.stderr
        assert _index_count(store, settings) == before, text
        explained = run_cli(settings, "cypher", "EXPLAIN " + text)
        assert explained.exit_code in (0, 2) and "report it" not in explained.stderr, explained.output
        assert explained.exit_code == 0 or explained.stderr.count("\n") == 1
    assert _index_count(store, settings) == before
    if settings.backend != "neo4j":
        store.execute("CALL db.idx.fulltext.createNodeIndex('Product', 'title')")
        dropped = run_cli(settings, "cypher", "PROFILE CALL db.idx.fulltext.drop('Product')")
        assert dropped.exit_code == 2 and _index_count(store, settings) == before + 1
    read = run_cli(settings, "cypher", "PROFILE CALL db.labels() YIELD label RETURN label", "--json")
    assert read.exit_code == 0 and json.loads(read.stdout)["mode"] == "profile"


def test_limits_beyond_what_the_backend_takes_are_refused_not_empty(store: GraphStore, settings: Settings) -> None:
    """FalkorDB takes LIMIT and SKIP as 32-bit counts (2^32 wraps to 0 rows): refused with a word there."""
    text = "UNWIND range(1, 3) AS x RETURN x LIMIT $n"
    for n in (2**32 - 1, 2**32, 2**63 - 1):
        result = run_cli(settings, "cypher", text, "-p", f"n:int={n}", "--json")
        if result.exit_code == 0:
            assert json.loads(result.stdout) == [{"x": 1}, {"x": 2}, {"x": 3}], n
        else:
            assert settings.backend == "falkordb" and n >= 2**32
            assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "LIMIT" in result.stderr
    skipped = run_cli(
        settings, "cypher", "UNWIND range(1, 3) AS x RETURN x SKIP $s LIMIT 5", "-p", "s:int=4294967297", "--json"
    )
    assert skipped.exit_code == 2 or json.loads(skipped.stdout) == []
    literal = run_cli(settings, "cypher", "UNWIND range(1, 3) AS x RETURN x LIMIT 4294967296", "--json")
    assert literal.exit_code == 2 or len(json.loads(literal.stdout)) == 3


def test_map_keys_a_backend_cannot_take_are_bad_input(store: GraphStore, settings: Settings) -> None:
    result = run_cli(settings, "cypher", "RETURN $m AS m", "-p", 'm:json={"a`b": 1}', "--json")
    assert "report it" not in result.stderr
    if settings.backend == "neo4j":
        assert result.exit_code == 0 and json.loads(result.stdout) == [{"m": {"a`b": 1}}]
    else:
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "backtick" in result.stderr


def test_control_characters_are_escaped_in_tables_and_faithful_in_json(store: GraphStore, settings: Settings) -> None:
    title = "A\x1b]0;owned\x07B\x9bC\rD"
    store.execute("CREATE (:Product {id: 'e', title: $t})", {"t": title})
    table = run_cli(settings, "cypher", "MATCH (p:Product) RETURN p.title AS title")
    assert table.exit_code == 0, table.output
    assert table.stdout == "title\nA\\x1b]0;owned\\x07B\\x9bC\\rD\n"
    as_json = run_cli(settings, "cypher", "MATCH (p:Product) RETURN p.title AS title", "--json")
    assert json.loads(as_json.stdout) == [{"title": title}]
