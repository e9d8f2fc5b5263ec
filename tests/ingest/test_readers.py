"""Readers: every format, gzip, bad rows with line numbers and reasons."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from kg.foundation.errors import InputError
from kg.ingest.event_readers import EVENT_READERS, normalise_event_type
from kg.ingest.product_readers import PRODUCT_READERS, clean_category_path, is_sparse, parse_price
from kg.ingest.records import BadRow, Event, ProductRecord
from kg.ingest.source import LineSource
from kg.ingest.timeparse import to_epoch_ms


def write_lines(path: Path, lines: list[Any]) -> Path:
    """JSON lines (dicts dumped, strings as they are); local so the readers' tests need no CLI."""
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def read(reader_name: str, path: Path, readers=EVENT_READERS) -> list:  # type: ignore[no-untyped-def]
    with LineSource(path) as source:
        return list(readers[reader_name](source))


def test_csv_events_with_synonyms_and_time_formats(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        "user_id,item_id,event_type,timestamp,rating\n"
        "u1,p1,page_view,2024-01-02T03:04:05Z,\n"
        "u1,p1,add_to_cart,1704164645,\n"
        "u2,p2,Purchase,1704164645000,\n"
        "u2,p2,rating,2024-01-02 03:04:05,4\n"
        "u3,,view,1704164645,\n"
        "u3,p3,teleport,1704164645,\n"
        "u3,p3,view,yesterday,\n"
        "u3,p3,rating,1704164645,\n"
    )
    rows = read("csv", path)
    events = [r for r in rows if isinstance(r, Event)]
    bad = [r for r in rows if isinstance(r, BadRow)]
    assert [e.type for e in events] == ["view", "cart", "purchase", "rating"]
    assert {e.at for e in events} == {1704164645000}
    assert events[3].rating == 4.0
    assert [(b.line, b.reason.split(" (")[0]) for b in bad] == [
        (6, "missing item_id"),
        (7, "unknown event type 'teleport'"),
        (8, "bad timestamp 'yesterday'"),
        (9, "rating event without a rating"),
    ]


def test_jsonl_events_gzip_and_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write('{"user_id": "u1", "item_id": "p1", "event_type": "buy", "timestamp": 1700000000}\n')
        handle.write('{"user_id": "u1", "item_id": \n')
        handle.write("[1, 2]\n")
    rows = read("jsonl", path)
    assert rows[0] == Event("u1", "p1", "purchase", 1_700_000_000_000)
    assert isinstance(rows[1], BadRow) and rows[1].line == 2 and rows[1].reason.startswith("bad JSON")
    assert isinstance(rows[2], BadRow) and "JSON object" in rows[2].reason


def test_amazon_reviews_become_rated_and_purchased(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "r.json",
        [
            {"reviewerID": "A1", "asin": "B1", "overall": 5.0, "unixReviewTime": 1529193600, "reviewText": "x"},
            {"reviewerID": "A1", "asin": "B2", "overall": 5.0},
            {"asin": "B3", "overall": 1.0, "unixReviewTime": 1},
        ],
    )
    rows = read("amazon", path)
    assert rows[0] == Event("A1", "B1", "rating", 1_529_193_600_000, 5.0)
    assert rows[1] == Event("A1", "B1", "purchase", 1_529_193_600_000)
    assert [r.reason for r in rows[2:]] == ["missing timestamp", "missing reviewerID"]


def test_retailrocket(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "timestamp,visitorid,event,itemid,transactionid\n"
        "1433221332117,257597,view,355908,\n"
        "1433224214164,992329,addtocart,248676,\n"
        "1433221999827,111016,transaction,5411,4000\n"
        "1433221999827,111016,refund,5411,\n"
    )
    rows = read("retailrocket", path)
    assert [getattr(r, "type", None) for r in rows[:3]] == ["view", "cart", "purchase"]
    assert rows[0].at == 1433221332117 and rows[0].user == "257597"
    assert isinstance(rows[3], BadRow) and rows[3].line == 5


def test_products_csv_and_amazon_meta(tmp_path: Path) -> None:
    csv_path = tmp_path / "p.csv"
    csv_path.write_text(
        "item_id,title,brand,category,price\n"
        "p1,Phone &amp; Case,Acme,Electronics > Phones,$199.00\n"
        "p2,,,,\n"
        ",orphan,,,\n"
        "p3,x,,,cheap\n"
    )
    rows = read("csv", csv_path, PRODUCT_READERS)
    assert rows[0] == ProductRecord(
        id="p1", title="Phone & Case", brand="Acme", category=["Electronics", "Phones"], price=199.0
    )
    # an id with every catalogue column empty is a sparse product (issue 20), not a bad row; a file without
    # any catalogue column is what an events/reviews file looks like read as products (tests/ingest/test_hostile_input)
    assert rows[1] == ProductRecord(id="p2") and is_sparse(rows[1]) and not is_sparse(rows[0])
    assert isinstance(rows[2], BadRow) and rows[2].reason == "missing item_id"
    assert isinstance(rows[3], BadRow) and "bad price" in rows[3].reason
    meta = write_lines(
        tmp_path / "m.json",
        [
            {
                "asin": "B1",
                "title": " Amazon eGift Card",
                "brand": "",
                "price": "",
                "category": ["Gift Cards", "Gift Cards", "</span></span></span>"],
                "main_cat": "<img src=x>",
                "also_buy": ["B2", "B3", "B2"],
                "also_view": [],
            },
        ],
    )
    (record,) = read("amazon-meta", meta, PRODUCT_READERS)
    assert record == ProductRecord(
        id="B1",
        title="Amazon eGift Card",
        brand=None,
        category=["Gift Cards"],
        price=None,
        also_bought=["B2", "B3"],
        also_viewed=[],
    )


def test_helpers() -> None:
    assert parse_price("$1,234.50 - $2,000.00") == 1234.5
    assert parse_price(".a-box{display:block}") is None
    assert clean_category_path(["A", "No expiration, no fees.", "B"]) == ["A"]
    assert normalise_event_type("Add To Cart") == "cart"
    assert to_epoch_ms("2018-06-17") == 1529193600000
    with pytest.raises(ValueError):
        to_epoch_ms(-5)


def test_missing_file_and_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        LineSource(tmp_path / "absent.csv")
    path = tmp_path / "e.csv"
    path.write_text("user,item\nu,i\n")
    with pytest.raises(InputError, match=r"e.csv:1: missing CSV column\(s\) user_id, item_id"):
        read("csv", path)
