"""``kg query list|show|run|export``: the analyst library on the command line."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from kg.foundation.settings import Settings
from kg.store import GraphStore
from tests.helpers import run_cli
from tests.shop_fixtures import ALICE, alice_profile, load_shop


@pytest.fixture
def shop_settings(store: GraphStore, settings: Settings) -> Settings:
    load_shop(store)
    return settings


def _one_line_error(result, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("kg: error: ")
    for needle in needles:
        assert needle in result.stderr


def test_list_names_every_query(settings: Settings) -> None:
    listed = run_cli(settings, "query", "list", "--json")
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.stdout)
    assert len(entries) >= 15
    profile = next(e for e in entries if e["name"] == "user_profile")
    assert profile["subject"] == "user" and profile["columns"][0] == "user"
    assert [(p["name"], p["type"], p["required"], p["raw_user_id"]) for p in profile["params"]] == [
        ("user", "text", True, True),
        ("top", "int", False, False),
    ]
    table = run_cli(settings, "query", "list")
    assert table.stdout.splitlines()[0] == "name\tsubject\tparameters\tdescription"
    assert "user_profile\tuser\tuser [top]\tOne person at a glance" in table.stdout


def test_show_prints_parameters_and_the_backend_text(settings: Settings) -> None:
    shown = run_cli(settings, "query", "show", "similar_products")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("similar_products: The products nearest one product")
    assert "  -p k=...  k (int, default 10, e.g. 5): neighbours wanted" in lines
    assert "example: kg query run similar_products -p product=B004LLIKVU" in lines
    # the backend's own variant
    assert ("db.index.vector.queryNodes" if settings.backend == "neo4j" else "db.idx.vector.queryNodes") in shown.stdout
    neo4j = run_cli(settings, "query", "show", "similar_products", "--dialect", "neo4j", "--json")
    assert "db.index.vector.queryNodes" in json.loads(neo4j.stdout)["text"]
    _one_line_error(run_cli(settings, "query", "show", "nope"), "unknown query 'nope'", "user_profile")


def test_run_prints_a_table_json_or_csv(shop_settings: Settings) -> None:
    table = run_cli(shop_settings, "query", "run", "product_aspects", "-p", "product=P1", "-p", "limit=2")
    assert table.exit_code == 0, table.output
    assert table.stdout == ("aspect\tmentions\tpositive\tnegative\tscore\nbattery\t2\t0\t2\t-0.5\nfit\t1\t1\t0\t0.5\n")
    as_json = run_cli(
        shop_settings, "query", "run", "user_profile", "-p", "user=alice", "-p", "top=1", "--format", "json"
    )
    assert json.loads(as_json.stdout) == [alice_profile("Category:Electronics > Audio > Headphones")]
    by_pseudonym = run_cli(
        shop_settings, "query", "run", "user_profile", "-p", f"pseudonym={ALICE}", "-p", "top=1", "--format", "json"
    )
    assert by_pseudonym.stdout == as_json.stdout
    # RFC 4180: CRLF, fields with commas or quotes quoted, quotes doubled; lists as JSON, null as nothing
    as_csv = run_cli(shop_settings, "query", "run", "segment_sizes", "--format", "csv")
    assert as_csv.stdout_bytes.decode("utf-8") == (
        "segment,label,size,share,top_interests\r\n"
        '1,Audio fans,3,0.6,"[""Category:Electronics > Audio > Headphones"", ""Brand:Sonic""]"\r\n'
        '2,Home cooks,2,0.4,"[""Category:Home > Kitchen"", ""Brand:Chef""]"\r\n'
    )
    empty = run_cli(shop_settings, "query", "run", "product_overview", "-p", "product=nope", "--format", "csv")
    assert empty.stdout_bytes.decode("utf-8") == (
        "product,title,price,brand,category,viewers,buyers,events,reviews,avg_rating\r\n"
    )
    stub = run_cli(shop_settings, "query", "run", "product_overview", "-p", "product=P8", "--format", "csv")
    assert stub.stdout.splitlines()[1] == "P8,,,,,0,0,0,0,"


def test_output_files_are_never_overwritten_without_force(shop_settings: Settings, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "volume.csv"
    first = run_cli(
        shop_settings,
        "query",
        "run",
        "review_volume",
        "-p",
        "from_month=2024-03",
        "--format",
        "csv",
        "--output",
        str(target),
    )
    assert first.exit_code == 0, first.output
    assert first.stdout == ""
    assert target.read_bytes() == b"month,reviews,avg_rating,avg_sentiment\r\n2024-03,2,3.5,0.05\r\n"
    again = run_cli(shop_settings, "query", "run", "review_volume", "--format", "csv", "--output", str(target))
    _one_line_error(again, "exists", "--force")
    assert target.read_bytes().count(b"\r\n") == 2
    forced = run_cli(
        shop_settings, "query", "run", "review_volume", "--format", "json", "--output", str(target), "--force"
    )
    assert forced.exit_code == 0, forced.output
    assert [r["month"] for r in json.loads(target.read_text())] == ["2023-12", "2024-02", "2024-03"]
    tsv = out_dir / "runs.tsv"
    run_cli(shop_settings, "query", "run", "ingest_runs", "-p", "limit=1", "-o", str(tsv))
    assert tsv.read_text().splitlines()[1].startswith("events:csv:ccc\tevents\tevents-2024-02.csv\tfinished\t95\t0")
    assert sorted(p.name for p in out_dir.iterdir()) == ["runs.tsv", "volume.csv"]  # no temporary files left


@pytest.mark.parametrize(
    "args, needles",
    [
        (["nope"], ["unknown query 'nope'", "bought_together"]),
        (["product_aspects"], ["missing parameter product", "expects: product (text, e.g. B004LLIKVU), limit (int"]),
        (["product_aspects", "-p", "product=P1", "-p", "limit=many"], ["parameter limit: 'many' is not an integer"]),
        (["product_aspects", "-p", "product=P1", "-p", "color=red"], ["unknown parameter(s) color"]),
        (["product_aspects", "-p", "product"], ["'product' is not name=value"]),
        (["product_aspects", "-p", "product=P1", "-p", "product=P2"], ["product given twice"]),
        (["user_profile", "-p", "pseudonym=zz"], ["not a pseudonym"]),
        (["segment_sizes", "--format", "xml"], ["unknown --format 'xml'", "table, json, csv"]),
    ],
)
def test_bad_runs_are_one_line_errors(settings: Settings, args: list[str], needles: list[str]) -> None:
    result = run_cli(settings, "query", "run", *args)
    _one_line_error(result, *needles)


def test_export_writes_the_favourites_zip_and_the_guide(settings: Settings, tmp_path: Path) -> None:
    zipped, guide = tmp_path / "fav.zip", tmp_path / "guide.md"
    result = run_cli(settings, "query", "export", "--zip", str(zipped), "--guide", str(guide))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(zipped) as archive:
        assert "user_profile.cypher" in archive.namelist()
    assert guide.read_text().startswith("# kg: the analyst query library")
    _one_line_error(run_cli(settings, "query", "export", "--zip", str(zipped)), "exists")
    assert run_cli(settings, "query", "export", "--zip", str(zipped), "--force").exit_code == 0
    _one_line_error(run_cli(settings, "query", "export"), "nothing to export")


def test_csv_keeps_formula_like_text_as_text(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    """A spreadsheet would run ``=HYPERLINK(...)`` or ``@SUM(...)``: text cells starting like a formula get
    a leading ``'`` (as the explorer's download does); numbers, JSON and the table format stay as they are."""
    store.execute(
        "CREATE (p:Product {id: 'F1', title: '=HYPERLINK(\"http://x.test\",\"a\")', price: -1.5})"
        "-[:HAS_BRAND]->(:Brand {name: '@SUM(1+1)'})"
    )
    target = tmp_path / "x.csv"
    written = run_cli(
        settings, "query", "run", "product_overview", "-p", "product=F1", "--format", "csv", "--output", str(target)
    )
    assert written.exit_code == 0, written.output
    row = target.read_bytes().decode("utf-8").splitlines()[1]
    assert row == """F1,"'=HYPERLINK(""http://x.test"",""a"")",-1.5,'@SUM(1+1),,0,0,0,0,"""
    as_json = run_cli(settings, "query", "run", "product_overview", "-p", "product=F1", "--format", "json")
    assert json.loads(as_json.stdout)[0]["brand"] == "@SUM(1+1)"


def test_a_limit_the_backend_cannot_count_is_refused_not_empty(shop_settings: Settings) -> None:
    result = run_cli(
        shop_settings,
        "query",
        "run",
        "product_aspects",
        "-p",
        "product=P1",
        "-p",
        "limit=4294967296",
        "--format",
        "json",
    )
    if shop_settings.backend == "neo4j":
        assert result.exit_code == 0 and len(json.loads(result.stdout)) == 3
    else:  # FalkorDB counts LIMIT in 32 bits: 2^32 would be 0 rows
        _one_line_error(result, "LIMIT $limit = 4294967296", "4294967295")
