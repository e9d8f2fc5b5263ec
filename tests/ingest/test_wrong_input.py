"""Wrong or empty input does not "succeed": a file in another format stops with the --format that fits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.foundation.errors import InputError
from kg.foundation.settings import Settings
from kg.ingest import ingest_file
from kg.ingest.records import FormatMismatch
from kg.store import GraphStore

REVIEW = {"reviewerID": "A1", "asin": "B1", "overall": 5.0, "reviewText": "great", "unixReviewTime": 1500000000}


def test_a_reviews_file_read_as_a_catalogue_stops(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "reviews.json"
    path.write_text("\n".join(json.dumps({**REVIEW, "asin": f"B{i}"}) for i in range(150)) + "\n")
    with pytest.raises(FormatMismatch) as err:
        ingest_file(store, settings, path, kind="products", fmt="amazon-meta")
    assert "reviews.json" in str(err.value)
    assert store.execute("MATCH (p:Product) RETURN count(p) AS n")[0]["n"] == 0


def test_json_without_format_is_detected(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(
        json.dumps({"user_id": "u1", "item_id": "p1", "event_type": "view", "timestamp": 1700000000}) + "\n"
    )
    report = ingest_file(store, settings, path, kind="events")
    assert report.format == "jsonl" and report.rows_ok == 1


def test_json_read_as_csv_names_the_format_that_fits(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"user_id": "u1", "item_id": "p1", "event_type": "view", "timestamp": 1}) + "\n")
    with pytest.raises(InputError) as err:
        ingest_file(store, settings, path, kind="events", fmt="csv")
    assert "--format jsonl" in str(err.value) and "user_id" not in str(err.value).split("hint")[0][-40:]


def test_self_links_are_dropped_with_a_warning(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({"asin": "B1", "title": "Card", "also_buy": ["B1", "B2"]}) + "\n")
    report = ingest_file(store, settings, path, kind="products", fmt="amazon-meta")
    links = store.execute("MATCH (a:Product)-[:ALSO_BOUGHT]->(b:Product) RETURN a.id AS a, b.id AS b")
    assert links == [{"a": "B1", "b": "B2"}]
    assert any("self" in w for w in report.warnings)
