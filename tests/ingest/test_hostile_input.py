"""Readers against hostile input and wrong files: every row that could hurt the graph (or the
server) is quarantined with a reason, every good row still lands.

Never send a key over ~4 KiB to the server: FalkorDB's unique-constraint check crashes on it. The
long keys here are 1.2-2 KB: over the readers' 1024-byte limit, safely under the crash.
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from kg.foundation.errors import ConfigError, InputError
from kg.foundation.settings import Settings
from kg.ingest.event_readers import EVENT_READERS
from kg.ingest.loaders import EventLoader, ProductLoader
from kg.ingest.product_readers import PRODUCT_READERS
from kg.ingest.records import BadRow, Event, ProductRecord
from kg.ingest.report import IngestReport
from kg.ingest.reviews.readers import REVIEW_READERS, ReviewRecord
from kg.ingest.runner import run_ingest
from kg.ingest.source import LineSource
from kg.ingest.timeparse import to_epoch_ms
from kg.store import GraphStore

LONG = "x" * 2000  # 2000 bytes: over the key limit, far under the server crash
LONG_UTF8 = "é" * 600  # 600 characters but 1200 UTF-8 bytes: the limit counts bytes


def read(readers: dict, fmt: str, path: Path, **options: Any) -> list:
    with LineSource(path) as source:
        return list(readers[fmt](source, **options))


def jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def good(rows: list) -> list:
    return [r for r in rows if not isinstance(r, BadRow)]


def bad(rows: list) -> dict[int, str]:
    return {r.line: r.reason for r in rows if isinstance(r, BadRow)}


def ingest(store: GraphStore, settings: Settings, path: Path, kind: str, fmt: str, **options: Any) -> IngestReport:
    readers = {"events": EVENT_READERS, "products": PRODUCT_READERS}[kind]
    loader = EventLoader.from_settings(settings) if kind == "events" else ProductLoader()
    reader = functools.partial(readers[fmt], **options) if options else readers[fmt]
    return run_ingest(store, settings, path, kind=kind, fmt=fmt, reader=reader, loader=loader, max_bad_ratio=1.0)


EVENTS_HEADER = "user_id,item_id,event_type,timestamp,rating\n"


# -- 1. keys over MAX_KEY_BYTES ------------------------------------------------------------------
def test_key_limit_helper() -> None:
    from kg.foundation.schema import MAX_KEY_BYTES, check_key

    assert MAX_KEY_BYTES == 1024
    assert check_key("a" * 1024, "item_id") is None
    assert check_key(LONG_UTF8, "brand") == "brand is 1200 bytes, over the 1024-byte key limit"


def test_long_event_ids_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        EVENTS_HEADER + f"u1,p1,view,1700000000,\n{LONG},p1,view,1700000000,\nu1,{LONG_UTF8},view,1700000000,\n",
        encoding="utf-8",
    )
    rows = read(EVENT_READERS, "csv", path)
    assert good(rows) == [Event("u1", "p1", "view", 1_700_000_000_000)]
    assert bad(rows) == {
        3: "user_id is 2000 bytes, over the 1024-byte key limit",
        4: "item_id is 1200 bytes, over the 1024-byte key limit",
    }


def test_long_product_keys_are_quarantined(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "p.jsonl",
        [
            {"item_id": "p1", "title": "ok", "brand": "Acme"},
            {"item_id": "p2", "title": "t", "brand": "B" * 5000},
            {"item_id": LONG, "title": "t"},
            {"item_id": "p4", "category": [f"level {i}" for i in range(200)]},  # a 1.8 KB path
            {"item_id": "p5", "title": "t", "also_bought": ["p1", LONG]},
            {"item_id": "p6", "title": "t", "also_viewed": [LONG_UTF8]},
        ],
    )
    rows = read(PRODUCT_READERS, "jsonl", path)
    assert [r.id for r in good(rows)] == ["p1"]
    reasons = bad(rows)
    assert reasons[2].startswith("brand is 5000 bytes") and reasons[3].startswith("item_id is 2000 bytes")
    assert reasons[4].startswith("category is ") and "1024-byte key limit" in reasons[4]
    assert reasons[5].startswith("also_bought target is 2000 bytes")
    assert reasons[6].startswith("also_viewed target is 1200 bytes")
    meta = jsonl(
        tmp_path / "m.json",
        [{"asin": "B1", "title": "t", "brand": "B" * 5000}, {"asin": "B2", "title": "t", "also_buy": [LONG]}],
    )
    assert [r.reason.split(" is ")[0] for r in read(PRODUCT_READERS, "amazon-meta", meta)] == [
        "brand",
        "also_buy target",
    ]


def test_long_review_keys_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "review_id,user_id,item_id,rating,text,timestamp\n"
        f"r1,u1,p1,5,fine,1700000000\n{LONG},u1,p1,5,fine,1700000000\n",
        encoding="utf-8",
    )
    rows = read(REVIEW_READERS, "csv", path)
    assert [r.review_id for r in good(rows)] == ["r1"]
    assert bad(rows) == {3: "review_id is 2000 bytes, over the 1024-byte key limit"}


def test_long_keys_end_to_end(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "item_id,title,brand,category,price,also_bought\n"
        "p1,One,Acme,A > B,1.00,p2\n"
        f"p2,Two,{'B' * 2000},A,2.00,\n"
        f"{LONG},Three,Acme,A,3.00,\n"
        f"p4,Four,Acme,A,4.00,{LONG}\n"
        "p5,Five,Acme,A,5.00,\n",
        encoding="utf-8",
    )
    summary = ingest(store, settings, path, "products", "csv")
    assert (summary.rows_ok, summary.rows_bad) == (2, 3)
    ids = [r["id"] for r in store.execute("MATCH (p:Product) RETURN p.id AS id ORDER BY id")]
    assert ids == ["p1", "p2", "p5"]  # p2 exists only as p1's also-bought target: no title, no brand
    longest = store.execute(
        "MATCH (n) WHERE n:Brand OR n:Product OR n:Category RETURN max(size(coalesce(n.id, n.name, n.path))) AS n"
    )[0]["n"]
    assert longest <= 1024


# -- 2. NUL bytes and deep nesting ------------------------------------------------------------------
def test_nul_byte_quarantines_only_its_row(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(
        (EVENTS_HEADER + "u1,p1,view,1700000000,\nu2,p\x002,view,1700000000,\nu3,p3,view,1700000000,\n").encode()
    )
    rows = read(EVENT_READERS, "csv", path)
    assert [e.user for e in good(rows)] == ["u1", "u3"] and bad(rows) == {3: "NUL byte"}
    lines = jsonl(
        tmp_path / "e.jsonl",
        [
            {"user_id": "u1", "item_id": "p1", "event_type": "view", "timestamp": 1700000000},
            {"user_id": "u\u0000", "item_id": "p1", "event_type": "view", "timestamp": 1700000000},  # escaped
            '{"user_id": "u3", "item_id": "p\x00", "event_type": "view", "timestamp": 1700000000}',  # raw
            {"user_id": "u4", "item_id": "p1", "event_type": "view", "timestamp": 1700000000},
        ],
    )
    rows = read(EVENT_READERS, "jsonl", lines)
    assert [e.user for e in good(rows)] == ["u1", "u4"] and bad(rows) == {2: "NUL byte", 3: "NUL byte"}
    reviews = jsonl(
        tmp_path / "r.jsonl",
        [
            {"user_id": "u1", "item_id": "p1", "text": "nice\u0000", "timestamp": 1700000000},
            {"user_id": "u2", "item_id": "p1", "text": "nice", "timestamp": 1700000000},
        ],
    )
    rows = read(REVIEW_READERS, "jsonl", reviews)
    assert [r.user for r in good(rows)] == ["u2"] and bad(rows) == {1: "NUL byte"}


def test_deeply_nested_json_is_quarantined(tmp_path: Path) -> None:
    deep = '{"user_id": "u2", "item_id": "p1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = jsonl(
        tmp_path / "e.jsonl",
        [
            {"user_id": "u1", "item_id": "p1", "event_type": "view", "timestamp": 1700000000},
            deep,
            {"user_id": "u3", "item_id": "p1", "event_type": "view", "timestamp": 1700000000},
        ],
    )
    rows = read(EVENT_READERS, "jsonl", path)
    assert [e.user for e in good(rows)] == ["u1", "u3"]
    assert bad(rows) == {2: "JSON nested too deeply"}
    assert len(next(r for r in rows if isinstance(r, BadRow)).raw) <= 200


def test_nul_and_nesting_end_to_end(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for i in range(20):
            handle.write(
                json.dumps({"user_id": f"u{i}", "item_id": "p1", "event_type": "view", "timestamp": 1700000000 + i})
                + "\n"
            )
        handle.write(
            json.dumps({"user_id": "evil\u0000", "item_id": "p1", "event_type": "view", "timestamp": 1700000000}) + "\n"
        )
        handle.write('{"user_id": "u\x00", "item_id": "p1", "event_type": "view", "timestamp": 1}\n')
        handle.write('{"a": ' + "[" * 50_000 + "\n")
    summary = ingest(store, settings, path, "events", "jsonl")
    assert (summary.rows_ok, summary.rows_bad) == (20, 3)
    assert summary.bad_reasons == {"NUL byte": 2, "JSON nested too deeply": 1}
    assert store.execute("MATCH (u:User) RETURN count(u) AS n")[0]["n"] == 20
    quarantined = [json.loads(line) for line in Path(summary.quarantine).read_text().splitlines()]
    assert [q["line"] for q in quarantined] == [21, 22, 23]


# -- 3. numbers beyond 64 bits and time bounds ---------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        1e23,
        "1e30",
        10**30,
        -5,
        "-5",
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+05:00",
        "1969-12-31T23:59:59Z",
        "inf",
        float("nan"),
    ],
)
def test_timestamps_out_of_bounds_are_rejected(value: Any) -> None:
    with pytest.raises(ValueError, match="out of range 1970-01-01..9999-12-31|bad timestamp"):
        to_epoch_ms(value)


def test_time_bounds_are_inclusive_in_every_form() -> None:
    assert to_epoch_ms("1970-01-01T00:00:00Z") == to_epoch_ms(0) == 0
    assert to_epoch_ms("9999-12-31T23:59:59.999Z") == 253_402_300_799_999
    assert to_epoch_ms(253_402_300_799_999_000) == 253_402_300_799_999  # microseconds
    assert to_epoch_ms(1_700_000_000) == to_epoch_ms("1700000000000") == to_epoch_ms(1_700_000_000_000_000)
    # ISO year 1 and epoch -5 are rejected with the same reason
    messages = set()
    for value in ("0001-01-01", -5):
        with pytest.raises(ValueError) as caught:
            to_epoch_ms(value)
        messages.add(str(caught.value).split("'")[-1])
    assert messages == {" out of range 1970-01-01..9999-12-31"}


def test_huge_numbers_end_to_end(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "e.jsonl",
        [
            {"user_id": "u1", "item_id": "p1", "event_type": "view", "timestamp": 1700000000},
            {"user_id": "u2", "item_id": "p1", "event_type": "view", "timestamp": 1e23},
            {"user_id": "u3", "item_id": "p1", "event_type": "view", "timestamp": "1e30"},
            '{"user_id": "u4", "item_id": "p1", "event_type": "view", "timestamp": 1' + "0" * 40 + "}",
            {"user_id": "u5", "item_id": "p1", "event_type": "view", "timestamp": -5},
            {"user_id": "u6", "item_id": "p1", "event_type": "view", "timestamp": "0001-01-01T00:00:00Z"},
        ],
    )
    summary = ingest(store, settings, path, "events", "jsonl")
    assert (summary.rows_ok, summary.rows_bad) == (1, 5)
    times = store.execute("MATCH ()-[r:VIEWED]->() RETURN r.first_at AS a, r.last_at AS b")
    assert times == [{"a": 1_700_000_000_000, "b": 1_700_000_000_000}]


# -- 4. data quality: self-links, negative prices, star ratings -----------------------------------------
def test_self_links_are_dropped_with_a_warning(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "m.json", [{"asin": "B1", "title": "t", "also_buy": ["B1", "B2"], "also_view": ["B1"]}])
    with LineSource(path) as source:
        (record,) = list(PRODUCT_READERS["amazon-meta"](source))
        assert record == ProductRecord(id="B1", title="t", also_bought=["B2"], also_viewed=[])
        assert source.warnings == {"also_buy self-link dropped": 1, "also_view self-link dropped": 1}


def test_negative_prices(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("item_id,title,price\np1,a,-5\np2,b,-$5.00\np3,c,$10 - $20\np4,d,5\n")
    rows = read(PRODUCT_READERS, "csv", path)
    assert [(r.id, r.price) for r in good(rows)] == [("p3", 10.0), ("p4", 5.0)]
    assert bad(rows) == {2: "negative price '-5'", 3: "negative price '-$5.00'"}
    meta = jsonl(
        tmp_path / "m.json", [{"asin": "B1", "title": "t", "price": -5}, {"asin": "B2", "title": "t", "price": "-$5"}]
    )
    with LineSource(meta) as source:
        records = list(PRODUCT_READERS["amazon-meta"](source))
        assert [(r.id, r.price) for r in records] == [("B1", None), ("B2", None)]  # price dropped, row kept
        assert source.warnings == {"negative price dropped": 2}


def test_amazon_ratings_are_stars(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "r.json",
        [
            {"reviewerID": f"A{i}", "asin": "B1", "overall": stars, "unixReviewTime": 1529193600, "reviewText": "x"}
            for i, stars in enumerate([0, 1, 5, 6, 4.5])
        ],
    )
    events = read(EVENT_READERS, "amazon", path)
    assert [e.rating for e in good(events) if e.type == "rating"] == [1.0, 5.0, 4.5]
    assert bad(events) == {1: "rating 0 out of range 1-5", 4: "rating 6 out of range 1-5"}
    reviews = read(REVIEW_READERS, "amazon", path)
    assert [r.rating for r in good(reviews)] == [1.0, 5.0, 4.5] and set(bad(reviews)) == {1, 4}
    generic = tmp_path / "e.csv"
    generic.write_text(EVENTS_HEADER + "u,p,rating,1700000000,0\nu,p,rating,1700000000,10\nu,p,rating,1700000000,11\n")
    assert [e.rating for e in good(read(EVENT_READERS, "csv", generic))] == [0.0, 10.0]


def test_data_quality_end_to_end(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "p.jsonl",
        [
            {"item_id": "p1", "title": "One", "also_bought": ["p1", "p2"], "also_viewed": "p1|p3"},
            {"item_id": "p2", "title": "Two", "price": -5},
            {"item_id": "p3", "title": "Three", "price": "$7.50"},
        ],
    )
    summary = ingest(store, settings, path, "products", "jsonl")
    assert (summary.rows_ok, summary.rows_bad) == (2, 1)
    assert summary.bad_reasons == {"negative price -5": 1}
    loops = store.execute("MATCH (p:Product)-[r]->(p) RETURN count(r) AS n")[0]["n"]
    assert loops == 0
    links = store.execute("MATCH (:Product {id: 'p1'})-[r]->(q:Product) RETURN type(r) AS t, q.id AS q ORDER BY t")
    assert links == [{"t": "ALSO_BOUGHT", "q": "p2"}, {"t": "ALSO_VIEWED", "q": "p3"}]
    prices = store.execute("MATCH (p:Product) WHERE p.price IS NOT NULL RETURN p.id AS id, p.price AS price")
    assert prices == [{"id": "p3", "price": 7.5}]


# -- 5. JSON objects and arrays as ids ---------------------------------------------------------------
def test_json_containers_as_ids_are_malformed(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "e.jsonl",
        [
            {"user_id": {"id": 1}, "item_id": "p1", "event_type": "view", "timestamp": 1700000000},
            {"user_id": "u1", "item_id": [1, 2], "event_type": "view", "timestamp": 1700000000},
            {"user_id": 42, "item_id": 7, "event_type": "view", "timestamp": 1700000000},
            {"user_id": True, "item_id": "p1", "event_type": "view", "timestamp": 1700000000},
        ],
    )
    rows = read(EVENT_READERS, "jsonl", path)
    assert good(rows) == [Event("42", "7", "view", 1_700_000_000_000)]
    assert bad(rows) == {
        1: "malformed user_id: a JSON object, not an id",
        2: "malformed item_id: a JSON array, not an id",
        4: "malformed user_id: a JSON boolean, not an id",
    }
    products = jsonl(tmp_path / "p.jsonl", [{"item_id": {"a": 1}, "title": "t"}, {"item_id": 5, "title": "t"}])
    rows = read(PRODUCT_READERS, "jsonl", products)
    assert [r.id for r in good(rows)] == ["5"] and bad(rows) == {1: "malformed item_id: a JSON object, not an id"}
    meta = jsonl(tmp_path / "m.json", [{"asin": ["B1"], "title": "t"}])
    assert bad(read(PRODUCT_READERS, "amazon-meta", meta)) == {1: "malformed asin: a JSON array, not an id"}
    reviews = jsonl(tmp_path / "r.json", [{"reviewerID": {"x": 1}, "asin": "B1", "overall": 5, "unixReviewTime": 1e9}])
    assert bad(read(REVIEW_READERS, "amazon", reviews)) == {1: "malformed reviewerID: a JSON object, not an id"}
    assert bad(read(EVENT_READERS, "amazon", reviews)) == {1: "malformed reviewerID: a JSON object, not an id"}


def test_json_ids_end_to_end(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "p.jsonl",
        [
            {"item_id": {"sku": "x"}, "title": "obj"},
            {"item_id": ["a"], "title": "arr"},
            {"item_id": 17, "title": "n"},
        ],
    )
    summary = ingest(store, settings, path, "products", "jsonl")
    assert (summary.rows_ok, summary.rows_bad) == (1, 2)
    assert store.execute("MATCH (p:Product) RETURN p.id AS id") == [{"id": "17"}]


# -- 6. CSV: BOM, delimiters, column mappings, reader options -----------------------------------------
def test_bom_is_stripped_and_delimiter_sniffed(tmp_path: Path) -> None:
    for delimiter in (",", ";", "\t", "|"):
        path = tmp_path / "e.csv"
        path.write_text(
            "\ufeff"
            + EVENTS_HEADER.replace(",", delimiter)
            + delimiter.join(["u1", "p1", "view", "1700000000", ""])
            + "\n",
            encoding="utf-8",
        )
        assert read(EVENT_READERS, "csv", path) == [Event("u1", "p1", "view", 1_700_000_000_000)], delimiter
    semi = tmp_path / "s.csv"
    semi.write_text("item_id;title;price\np1;Phone, black;3,50\n")
    (record,) = read(PRODUCT_READERS, "csv", semi)
    assert (record.title, record.price) == ("Phone, black", 350.0)  # the sniffed ';' keeps the comma in the title
    forced = read(PRODUCT_READERS, "csv", semi, delimiter=";")
    assert forced == [record]


def test_column_mapping(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("Customer,SKU,Action,When\nc1,s1,view,1700000000\n")
    columns = {"user_id": "customer", "item_id": "SKU", "event_type": "action", "timestamp": "when"}
    assert read(EVENT_READERS, "csv", path, columns=columns) == [Event("c1", "s1", "view", 1_700_000_000_000)]
    lines = jsonl(tmp_path / "e.jsonl", [{"who": "c1", "what": "s1", "event_type": "buy", "timestamp": 1700000000}])
    assert read(EVENT_READERS, "jsonl", lines, columns={"user_id": "who", "item_id": "what"}) == [
        Event("c1", "s1", "purchase", 1_700_000_000_000)
    ]
    reviews = tmp_path / "r.csv"
    reviews.write_text("author,product,body,date\na,p,great,2024-01-01\n")
    (review,) = read(
        REVIEW_READERS,
        "csv",
        reviews,
        columns={"user_id": "author", "item_id": "product", "text": "body", "timestamp": "date"},
    )
    assert isinstance(review, ReviewRecord) and review.text == "great"
    with pytest.raises(InputError, match=r"missing CSV column\(s\) user_id \(mapped from nobody\)"):
        read(EVENT_READERS, "csv", path, columns={**columns, "user_id": "nobody"})
    with pytest.raises(ConfigError, match="unknown field.*colour"):
        read(EVENT_READERS, "csv", path, columns={"colour": "x"})


def test_reader_options_are_checked() -> None:
    source = object()  # never read: options are checked when the reader is called
    for readers, fmt in (
        (EVENT_READERS, "amazon"),
        (EVENT_READERS, "retailrocket"),
        (PRODUCT_READERS, "amazon-meta"),
        (REVIEW_READERS, "amazon"),
    ):
        with pytest.raises(ConfigError, match=f"format '{fmt}' has no option delimiter"):
            readers[fmt](source, delimiter=";")
    with pytest.raises(ConfigError, match="events format 'jsonl' has no option delimiter"):
        EVENT_READERS["jsonl"](source, delimiter=";")
    with pytest.raises(ConfigError, match="products format 'csv' has no option colour"):
        PRODUCT_READERS["csv"](source, colour="red")
    with pytest.raises(ConfigError, match="CSV delimiter must be one character"):
        EVENT_READERS["csv"](source, delimiter=";;")
    assert EVENT_READERS["csv"].options == ("delimiter", "columns", "event_types", "time_format", "tz")
    assert REVIEW_READERS["jsonl"].options == ("columns",)


def test_csv_options_end_to_end(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "\ufeffcustomer;sku;event_type;timestamp\nc1;s1;buy;1700000000\nc2;s1;view;1700000001\nc3;;view;1700000002\n",
        encoding="utf-8",
    )
    summary = ingest(store, settings, path, "events", "csv", columns={"user_id": "customer", "item_id": "sku"})
    assert (summary.rows_ok, summary.rows_bad) == (2, 1)
    counts = store.execute("MATCH ()-[r]->(p:Product {id: 's1'}) RETURN type(r) AS t, count(r) AS n ORDER BY t")
    assert counts == [{"t": "PURCHASED", "n": 1}, {"t": "VIEWED", "n": 1}]


# -- 8. wrong input must not succeed -------------------------------------------------------------------
REVIEW_LINES = [
    {"reviewerID": f"A{i}", "asin": f"B{i % 3}", "overall": 5.0, "unixReviewTime": 1529193600, "reviewText": "good"}
    for i in range(12)
]


def test_id_only_rows_are_not_products(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "reviews.json", REVIEW_LINES)
    rows = read(PRODUCT_READERS, "amazon-meta", path)
    assert all(isinstance(r, BadRow) and r.mismatch and r.reason.startswith("no catalogue field") for r in rows)
    events = tmp_path / "events.csv"
    events.write_text(EVENTS_HEADER + "u1,p1,view,1700000000,\n")
    (row,) = read(PRODUCT_READERS, "csv", events)
    assert isinstance(row, BadRow) and row.mismatch


def test_empty_and_header_only_files_report_no_data(tmp_path: Path) -> None:
    for name, text, readers, fmt in (
        ("e.csv", "", EVENT_READERS, "csv"),
        ("h.csv", EVENTS_HEADER, EVENT_READERS, "csv"),
        ("b.jsonl", "\n\n", PRODUCT_READERS, "jsonl"),
    ):
        path = tmp_path / name
        path.write_text(text)
        with LineSource(path) as source:
            assert list(readers[fmt](source)) == []
            assert source.no_data and source.data_rows == 0
    path = tmp_path / "one.csv"
    path.write_text(EVENTS_HEADER + "u1,p1,teleport,1700000000,\n")
    with LineSource(path) as source:
        assert len(list(EVENT_READERS["csv"](source))) == 1
        assert source.data_rows == 1 and not source.no_data


def test_reviews_as_products_end_to_end(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    from kg.ingest.detect import guard_format
    from kg.ingest.records import FormatMismatch

    path = jsonl(tmp_path / "Gift_Cards_5.json", REVIEW_LINES)
    with pytest.raises(FormatMismatch):  # the runner guards every format
        ingest(store, settings, path, "products", "amazon-meta")
    assert store.execute("MATCH (p:Product) RETURN count(p) AS n")[0]["n"] == 0

    def guarded(source: LineSource):  # type: ignore[no-untyped-def]
        return guard_format(PRODUCT_READERS["amazon-meta"](source), path, "products", "amazon-meta")

    expected = "none of the first 12 rows is usable as products --format amazon-meta"
    with pytest.raises(FormatMismatch, match=expected) as e:
        run_ingest(
            store,
            settings,
            path,
            kind="products",
            fmt="amazon-meta",
            reader=guarded,
            loader=ProductLoader(),
            force=True,
        )
    assert "--format amazon" in str(e.value.hint) and "events or reviews" in str(e.value.hint)
