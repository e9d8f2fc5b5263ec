"""``kg ingest ... --sql``: a SELECT over a relational export (orders, items, customers, reviews), run by DuckDB.

The export is hand-made, Olist-style: ``customer_id`` is one per order, ``customer_unique_id`` the person;
reviews hang off orders and expand to the order's products.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.store import GraphStore
from tests.helpers import run_cli

pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parents[2]

ORDERS = """order_id,customer_id,order_status,order_purchase_timestamp
o1,c1,delivered,2017-10-02 10:56:33
o2,c2,delivered,2018-07-24 20:41:37
o3,c3,delivered,2018-08-08 08:38:49
o4,c4,delivered,2017-11-18 19:28:06
"""
ITEMS = """order_id,order_item_id,product_id,seller_id,price
o1,1,p1,s1,29.99
o2,1,p2,s1,118.70
o2,2,p3,s2,45.00
o3,1,p1,s1,29.99
o3,2,p1,s1,29.99
o4,1,p4,s2,12.50
"""
# c1 and c3 are one person (u1) buying twice
CUSTOMERS = """customer_id,customer_unique_id,customer_city
c1,u1,sao paulo
c2,u2,rio de janeiro
c3,u1,sao paulo
c4,u3,curitiba
"""
REVIEWS = """review_id,order_id,review_score,review_comment_title,review_comment_message,review_creation_date
r1,o1,5,Ótimo,"Produto excelente, entrega rápida. Recomendo!",2017-10-11 00:00:00
r2,o2,2,,"A cadeira chegou quebrada e o vendedor não respondeu.",2018-08-08 00:00:00
r3,o4,4,,,2017-11-30 00:00:00
"""
PRODUCTS = """product_id,product_category_name,product_weight_g
p1,beleza_saude,300
p2,moveis_decoracao,12000
p3,moveis_decoracao,800
p4,esporte_lazer,150
"""

EVENTS_SQL = (
    "SELECT c.customer_unique_id AS user_id, i.product_id AS item_id, 'purchase' AS event_type, "
    "o.order_purchase_timestamp AS timestamp FROM 'orders.csv' o JOIN 'order_items.csv' i USING (order_id) "
    "JOIN 'customers.csv' c USING (customer_id)"
)


@pytest.fixture
def export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The export's five tables in a folder, which is the current directory (the SQL's paths are relative)."""
    folder = tmp_path / "olist"
    folder.mkdir()
    for name, text in {
        "orders.csv": ORDERS,
        "order_items.csv": ITEMS,
        "customers.csv": CUSTOMERS,
        "order_reviews.csv": REVIEWS,
        "products.csv": PRODUCTS,
    }.items():
        (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(folder)
    return folder


def _ms(text: str) -> int:
    from kg.ingest.timeparse import to_epoch_ms

    return to_epoch_ms(text)


def _purchases(store: GraphStore) -> dict[tuple[str, str], tuple[int, int, int]]:
    rows = store.execute(
        "MATCH (u:User)-[r:PURCHASED]->(p:Product) "
        "RETURN u.id AS user, p.id AS item, r.count AS count, r.first_at AS first_at, "
        "r.last_at AS last_at"
    )
    return {(r["user"], r["item"]): (r["count"], r["first_at"], r["last_at"]) for r in rows}


def test_events_from_a_join_land_with_the_right_people_items_and_times(
    settings: Settings, store: GraphStore, export: Path
) -> None:
    result = run_cli(settings, "ingest", "events", "--sql", EVENTS_SQL, "--json", "--no-update")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == "sql" and report["file"].startswith("sql: SELECT c.customer_unique_id")
    assert (report["rows_ok"], report["rows_bad"]) == (6, 0)
    user = Pseudonymiser.from_settings(settings).user_id
    # u1 bought p1 in o1 and (twice in one order, one event) in o3; no raw id reaches the graph
    assert _purchases(store) == {
        (user("u1"), "p1"): (2, _ms("2017-10-02 10:56:33"), _ms("2018-08-08 08:38:49")),
        (user("u2"), "p2"): (1, _ms("2018-07-24 20:41:37"), _ms("2018-07-24 20:41:37")),
        (user("u2"), "p3"): (1, _ms("2018-07-24 20:41:37"), _ms("2018-07-24 20:41:37")),
        (user("u3"), "p4"): (1, _ms("2017-11-18 19:28:06"), _ms("2017-11-18 19:28:06")),
    }
    assert not list((settings.home / "sql").iterdir())  # the materialised rows (raw ids) are gone

    # the same query again: skipped by the manifest; with --force: reloaded, nothing added
    before = store.stats()
    again = json.loads(run_cli(settings, "ingest", "events", "--sql", EVENTS_SQL, "--json", "--no-update").stdout)
    assert again["skipped"] is True and again["run_id"] == report["run_id"]
    # the same rows in another order (and other whitespace) are the same run
    reordered = EVENTS_SQL + "\n ORDER BY timestamp DESC, item_id"
    assert (
        json.loads(run_cli(settings, "ingest", "events", "--sql", reordered, "--json", "--no-update").stdout)["skipped"]
        is True
    )
    forced = run_cli(settings, "ingest", "events", "--sql", EVENTS_SQL, "--force", "--json", "--no-update")
    assert forced.exit_code == 0 and json.loads(forced.stdout)["rows_ok"] == 6
    assert store.stats() == before
    assert _purchases(store)[(user("u1"), "p1")][0] == 2


def test_a_bad_row_is_quarantined_naming_the_query_and_its_row(
    settings: Settings, store: GraphStore, export: Path
) -> None:
    (export / "orders.csv").write_text(ORDERS + "o5,c2,delivered,soon\n", encoding="utf-8")
    (export / "order_items.csv").write_text(ITEMS + "o5,1,p4,s2,12.50\n", encoding="utf-8")
    sql = EVENTS_SQL + " ORDER BY o.order_id, i.order_item_id"
    result = run_cli(settings, "ingest", "events", "--sql", sql, "--max-bad-ratio", "0.5", "--json", "--no-update")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["rows_ok"], report["rows_bad"]) == (6, 1)
    rows = [json.loads(line) for line in Path(report["quarantine"]).read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1
    bad = rows[0]
    assert bad["source"] == "sql: " + " ".join(sql.split())
    assert bad["line"] == 7  # the 7th row of the result (o5 sorts last)
    assert "timestamp" in bad["reason"] and "soon" in bad["reason"]
    assert "u2" not in json.dumps(bad)  # the person is pseudonymised, as in a file's quarantine
    assert json.loads(bad["raw"])["user_id"] == Pseudonymiser.from_settings(settings).user_id("u2")


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT * FROM 'orders.csv') TO 'copy.csv'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "ATTACH 'other.duckdb'",
        "CREATE TABLE t AS SELECT * FROM 'orders.csv'",
        "SET enable_external_access = true",
        "SELECT 1; COPY (SELECT 1) TO 'copy.csv'",
    ],
)
def test_anything_but_one_select_is_refused_with_exit_2(settings: Settings, export: Path, sql: str) -> None:
    result = run_cli(settings, "ingest", "events", "--sql", sql)
    assert result.exit_code == 2, result.output
    assert "--sql runs one read-only SELECT" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (export / "copy.csv").exists() and not (export / "other.duckdb").exists()


def test_query_errors_and_misuse_are_one_line_exit_2(settings: Settings, export: Path) -> None:
    missing = run_cli(settings, "ingest", "events", "--sql", "SELECT * FROM 'nope.csv'")
    assert missing.exit_code == 2 and "nope.csv" in missing.output
    both = run_cli(settings, "ingest", "events", "orders.csv", "--sql", EVENTS_SQL)
    assert both.exit_code == 2 and "not both" in both.output
    unnamed = run_cli(settings, "ingest", "events", "--sql", "SELECT * FROM 'orders.csv'", "--no-update")
    assert unnamed.exit_code == 2 and "--sql" in unnamed.output and "user_id" in unnamed.output


def test_event_codes_and_local_times_map_as_for_files(settings: Settings, store: GraphStore, export: Path) -> None:
    (export / "log.csv").write_text("u,i,b,t\nu1,p1,0,2017-11-25 08:00\nu1,p2,1,2017-11-25 09:30\n", encoding="utf-8")
    sql = "SELECT u AS user_id, i AS item_id, b AS event_type, t AS timestamp FROM 'log.csv'"
    mapped = ("--event-types", "0=view,1=purchase", "--tz", "Asia/Shanghai", "--no-update")
    assert run_cli(settings, "ingest", "events", "--sql", sql, *mapped).exit_code == 0
    rows = store.execute("MATCH (:User)-[r]->(p:Product) RETURN p.id AS item, type(r) AS type, r.last_at AS at")
    # 08:00 in Shanghai (UTC+8) is 00:00 UTC
    assert {(r["item"], r["type"], r["at"]) for r in rows} == {
        ("p1", "VIEWED", _ms("2017-11-25T00:00:00Z")),
        ("p2", "PURCHASED", _ms("2017-11-25T01:30:00Z")),
    }
    layout = run_cli(settings, "ingest", "events", "--sql", sql, "--time-format", "%Y-%m-%d %H:%M")
    assert layout.exit_code == 2 and "--time-format does not apply to --sql" in layout.output
    assert "strptime(" in layout.output and len(layout.output.strip().splitlines()) == 1


def test_without_duckdb_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from kg.foundation.errors import ConfigError
    from kg.ingest.sql_source import check_query

    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb -> ImportError
    with pytest.raises(ConfigError) as caught:
        check_query("SELECT 1")
    assert "pip install 'kg[sql]'" in str(caught.value) and "\n" not in str(caught.value)


def _readme_recipe() -> list[list[str]]:
    """The commands of the README's relational-export recipe, each as argv (``kg`` and ``cd`` lines)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Relational exports (orders, items, customers)", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the README's relational-export section has no bash block"
    commands, pending = [], ""
    for line in block.group(1).splitlines():
        pending += line + "\n"
        try:
            argv = shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on
            continue
        if argv:
            commands.append(argv)
        pending = ""
    assert not pending.strip()
    return commands


def test_the_readme_recipe_runs_end_to_end(
    settings: Settings, store: GraphStore, tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = _readme_recipe()
    assert [c[:3] for c in commands if c[0] == "kg"] == [
        ["kg", "ingest", "products"],
        ["kg", "ingest", "events"],
        ["kg", "ingest", "reviews"],
        ["kg", "stats"],
    ]
    monkeypatch.chdir(tmp_path)
    outputs = []
    for argv in commands:
        if argv[0] == "cd":
            monkeypatch.chdir(export)  # the README's folder of tables is this test's export
            continue
        assert argv[0] == "kg", argv
        result = run_cli(settings, *argv[1:])
        assert result.exit_code == 0, (argv, result.output)
        outputs.append(result.output)
    user = Pseudonymiser.from_settings(settings).user_id
    assert set(_purchases(store)) == {(user("u1"), "p1"), (user("u2"), "p2"), (user("u2"), "p3"), (user("u3"), "p4")}
    categories = {
        r["id"]: r["category"]
        for r in store.execute("MATCH (p:Product)-[:IN_CATEGORY]->(c:Category) RETURN p.id AS id, c.name AS category")
    }
    assert categories == {
        "p1": "beleza_saude",
        "p2": "moveis_decoracao",
        "p3": "moveis_decoracao",
        "p4": "esporte_lazer",
    }
    # r2 was about order o2 (two products): one review of each; r1 of p1; r3 (no text) of p4
    reviews = store.execute(
        "MATCH (u:User)-[:WROTE]->(r:Review)-[:ABOUT]->(p:Product) "
        "RETURN u.id AS user, p.id AS item, r.rating AS rating ORDER BY item"
    )
    assert [(r["user"], r["item"], r["rating"]) for r in reviews] == [
        (user("u1"), "p1", 5.0),
        (user("u2"), "p2", 2.0),
        (user("u2"), "p3", 2.0),
        (user("u3"), "p4", 4.0),
    ]
    assert "u1" not in "".join(outputs)
    # the whole recipe again: every step is skipped, nothing changes
    before = store.stats()
    for argv in commands:
        if argv[0] == "kg" and argv[1] == "ingest":
            again = run_cli(settings, *argv[1:])
            assert again.exit_code == 0 and "already ingested" in again.output, again.output
    assert store.stats() == before


def test_parquet_json_gz_and_globs_give_the_same_rows_as_csv(export: Path, tmp_path: Path) -> None:
    """DuckDB reads the tables in any of its formats; the run's identity is the rows, not the files or their order."""
    import gzip

    import duckdb

    from kg.ingest.sql_source import _materialise, check_query, connect

    writer = duckdb.connect()
    writer.execute("COPY (SELECT * FROM 'orders.csv') TO 'orders.parquet' (FORMAT parquet)")
    writer.execute("COPY (SELECT * FROM 'customers.csv') TO 'customers.json' (FORMAT json)")
    writer.close()
    header, *lines = ITEMS.splitlines()
    for part, chunk in enumerate((lines[:3], lines[3:])):
        with gzip.open(export / f"items_{part}.csv.gz", "wt", encoding="utf-8") as handle:
            handle.write("\n".join([header, *chunk]) + "\n")
    other = (
        EVENTS_SQL.replace("'orders.csv'", "'orders.parquet'")
        .replace("'customers.csv'", "'customers.json'")
        .replace("'order_items.csv'", "'items_*.csv.gz'")
        + " ORDER BY item_id DESC"
    )
    work = tmp_path / "work"
    work.mkdir()
    results = []
    for number, sql in enumerate((EVENTS_SQL, other)):
        con = connect(work)
        try:
            rows, digest = _materialise(con, check_query(sql), work / f"{number}.jsonl")
        finally:
            con.close()
        lines_out = (work / f"{number}.jsonl").read_text(encoding="utf-8").splitlines()
        results.append((rows, digest, sorted(lines_out)))
    assert results[0] == results[1] and results[0][0] == 6
    assert json.loads(results[0][2][0])["timestamp"] == "2017-10-02T10:56:33"
