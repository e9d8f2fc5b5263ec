"""Format detection from a file's extension and first line, and the advice when a format is wrong."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from kg.foundation.errors import ConfigError, InputError
from kg.ingest.detect import check_fields, detect_format, first_line, guard_format, suggest_format
from kg.ingest.event_readers import EVENT_READERS
from kg.ingest.product_readers import PRODUCT_READERS
from kg.ingest.records import BadRow, FormatMismatch
from kg.ingest.reviews.readers import REVIEW_READERS
from kg.ingest.source import LineSource

REVIEW = {"overall": 5.0, "reviewerID": "A1", "asin": "B1", "reviewText": "good", "unixReviewTime": 1529193600}
META = {"asin": "B1", "title": "Gift card", "brand": "Amazon", "also_buy": ["B2"], "price": "$25.00"}


def write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "kind", "expected"),
    [
        ("r.json", json.dumps(REVIEW) + "\n", "reviews", "amazon"),
        ("r.json.gz", "\n\n" + json.dumps(REVIEW) + "\n", "events", "amazon"),
        ("r.json", json.dumps(REVIEW) + "\n", "products", None),  # reviews are no catalogue
        ("m.json", json.dumps(META) + "\n", "products", "amazon-meta"),
        ("m.json", json.dumps(META) + "\n", "events", None),
        ("events.csv", "timestamp,visitorid,event,itemid,transactionid\n1,2,view,3,\n", "events", "retailrocket"),
        ("e.csv", '{"user_id": "u", "item_id": "p"}\n', "events", "jsonl"),  # content beats the extension
        ("e.txt", "\ufeffuser_id;item_id\n", "events", "csv"),
        ("e.ndjson", '{"user_id": "u"}\n', "reviews", "jsonl"),
        ("empty.tsv.gz", "", "events", "csv"),
        ("empty.jsonl", "\n", "products", "jsonl"),
        ("empty.dat", "", "events", None),
        ("array.json", '[{"user_id": "u"}]\n', "events", None),
    ],
)
def test_detect_format(tmp_path: Path, name: str, text: str, kind: str, expected: str | None) -> None:
    assert detect_format(write(tmp_path / name, text), kind) == expected


def test_detected_formats_are_registered() -> None:
    for kind, readers in (("events", EVENT_READERS), ("products", PRODUCT_READERS), ("reviews", REVIEW_READERS)):
        assert {"csv", "jsonl"} <= set(readers), kind
    with pytest.raises(ConfigError, match="unknown kind"):
        detect_format(Path("x.csv"), "orders")


def test_first_line_is_bounded(tmp_path: Path) -> None:
    path = write(tmp_path / "big.csv", "a" * 5000 + "\n")
    assert first_line(path, max_bytes=100) == "a" * 100


def test_suggest_format(tmp_path: Path) -> None:
    reviews = write(tmp_path / "Gift_Cards_5.json", json.dumps(REVIEW) + "\n")
    assert suggest_format(reviews, "products", "amazon-meta") == (
        "Gift_Cards_5.json holds Amazon review lines (reviewerID, asin, overall), not products: "
        "ingest it as events or reviews with --format amazon"
    )
    assert suggest_format(reviews, "reviews", "jsonl") == (
        "Gift_Cards_5.json looks like Amazon review lines (reviewerID, asin, overall): use --format amazon"
    )
    assert suggest_format(reviews, "reviews", "amazon") is None
    lines = write(tmp_path / "e.json", '{"user_id": "u", "item_id": "p"}\n')
    assert suggest_format(lines, "events", "csv") == "e.json looks like JSON lines: use --format jsonl"


def test_json_read_as_csv_names_the_format_instead_of_dumping_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "events.json", json.dumps({"user_id": "u", "item_id": "p", "secret": "x" * 300}) + "\n")
    with LineSource(path) as source, pytest.raises(FormatMismatch) as caught:
        list(EVENT_READERS["csv"](source))
    assert "found a JSON line, not a CSV header" in str(caught.value) and "secret" not in str(caught.value)
    assert isinstance(caught.value, InputError)
    assert suggest_format(path, "events", "csv") == "events.json looks like JSON lines: use --format jsonl"


def test_check_fields_and_guard(tmp_path: Path) -> None:
    path = write(tmp_path / "r.json", "".join(json.dumps({**REVIEW, "reviewerID": f"A{i}"}) + "\n" for i in range(150)))
    with LineSource(path) as source:
        with pytest.raises(FormatMismatch, match=r"r.json: none of the first 100 rows .* --format amazon-meta"):
            list(guard_format(PRODUCT_READERS["amazon-meta"](source), path, "products", "amazon-meta"))
    with LineSource(path) as source:  # the right format passes every record through, in order
        records = list(guard_format(REVIEW_READERS["amazon"](source), path, "reviews", "amazon", first=10))
    assert [r.user for r in records] == [f"A{i}" for i in range(150)]
    # bad rows that are not a format mismatch (a NUL byte, a bad time) do not blame the format
    check_fields(path, "events", "csv", [BadRow(1, "NUL byte", ""), BadRow(2, "bad timestamp", "")])
    check_fields(path, "events", "csv", [])
