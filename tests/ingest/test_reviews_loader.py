"""ReviewLoader's library API: from_settings (validated options), details(), date/month buckets."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kg.foundation.errors import ConfigError, InputError
from kg.foundation.settings import Settings
from kg.ingest.api import ingest_file
from kg.ingest.reviews.loader import ReviewLoader, review_day
from kg.ingest.reviews.synthetic import synthetic_reviews
from kg.store import GraphStore

#: one row per calendar month, oldest first (Review.month is stored at ingest: FalkorDB has no epoch datetime)
REVIEWS_PER_MONTH = """MATCH (r:Review)
WHERE r.month IS NOT NULL
RETURN r.month AS month, count(r) AS reviews, count(r.rating) AS rated, avg(r.rating) AS avg_rating,
       avg(r.sentiment) AS avg_sentiment
ORDER BY month"""

COLUMNS = ["review_id", "user_id", "item_id", "rating", "text", "timestamp"]
#: month and day boundaries in the three timestamp forms the readers take (ISO, epoch s, epoch ms)
EDGES = [
    ("U1", "P1", "5", "Fast delivery and nice packaging.", "2023-12-31T23:59:59Z"),
    ("U2", "P1", "4", "Great card.", "2024-01-01T00:00:00Z"),
    ("U3", "P2", "", "The battery life is not great.", "2024-02-29T23:30:00-02:00"),  # 2024-03-01 UTC
    ("U4", "P2", "2", "Slow delivery.", "1706745599"),  # 2024-01-31T23:59:59Z in epoch seconds
    ("U5", "P3", "1", "Terrible packaging.", "1706745600000"),  # 2024-02-01T00:00:00Z in epoch ms
    ("U6", "P3", "3", "", "2024-02-15 12:00:00"),  # naive ISO is UTC; empty text is still a review
]


def _write_reviews(path: Path, n: int = 300) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in synthetic_reviews(n, users=60, products=40, seed=9, days=120):  # epoch ms, 4-5 months
            writer.writerow([row[c] for c in COLUMNS])
        for user, item, rating, text, at in EDGES:
            writer.writerow(["", user, item, rating, text, at])
    return path


def _utc_month(value: str) -> str:
    """The test's own reading of a timestamp cell (independent of ingest.timeparse)."""
    try:
        number = float(value)
    except ValueError:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).strftime("%Y-%m")
    seconds = number / 1000 if number >= 1e11 else number
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m")


def _expected_per_month(path: Path) -> tuple[Counter[str], Counter[str]]:
    reviews, rated = Counter(), Counter()
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            month = _utc_month(row["timestamp"])
            reviews[month] += 1
            rated[month] += row["rating"] != ""
    return reviews, rated


def test_reviews_per_month_matches_an_independent_count(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    path = _write_reviews(tmp_path / "reviews.csv")
    report = ingest_file(store, settings, path, kind="reviews", fmt="csv", sentiment="lexicon")
    assert report.rows_ok == 300 + len(EDGES) and report.rows_bad == 0
    reviews, rated = _expected_per_month(path)
    rows = store.execute(REVIEWS_PER_MONTH)
    assert [r["month"] for r in rows] == sorted(reviews)  # oldest first
    assert {r["month"]: r["reviews"] for r in rows} == dict(reviews)
    assert {r["month"]: r["rated"] for r in rows} == dict(rated)
    assert len(rows) >= 5 and sum(r["reviews"] for r in rows) == report.rows_ok
    assert all(1 <= r["avg_rating"] <= 5 and -1 <= r["avg_sentiment"] <= 1 for r in rows)
    # the day and month edges land on the right side in UTC
    days = store.execute(
        "MATCH (u:User)-[:WROTE]->(r:Review) RETURN r.date AS date, r.month AS month, r.created_at AS at"
    )
    assert all(d["date"] == review_day(d["at"]) and d["month"] == d["date"][:7] for d in days)
    assert {"2023-12-31", "2024-01-01", "2024-01-31", "2024-02-01", "2024-03-01", "2024-02-15"} <= {
        d["date"] for d in days
    }


def test_review_day_is_utc() -> None:
    assert review_day(0) == "1970-01-01"
    assert review_day(1704067199999) == "2023-12-31" and review_day(1704067200000) == "2024-01-01"
    assert review_day(253_402_300_799_999) == "9999-12-31"


def test_details_are_json_ready_and_match_the_graph(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    path = _write_reviews(tmp_path / "reviews.csv", n=120)
    report = ingest_file(store, settings, path, kind="reviews", fmt="csv", sentiment="lexicon")
    details = report.details
    assert json.loads(json.dumps(details)) == details
    assert set(details) == {
        "languages",
        "reviews_analysed",
        "aspect_mentions",
        "catalogue_mentions",
        "sentiment_method",
        "sentiment_reason",
        "oof_auc",
        "sentiment_by_language",
    }
    by_lang = details["sentiment_by_language"]
    assert set(by_lang) <= set(details["languages"]) and by_lang
    assert {(v["method"], v["reason"], v["oof_auc"]) for v in by_lang.values()} == {
        ("lexicon", "lexicon requested", None)
    }
    assert details["reviews_analysed"] == report.rows_ok == sum(details["languages"].values())
    aspects = store.execute("MATCH (:Review)-[m:MENTIONS]->(:Aspect) RETURN count(m) AS n")[0]["n"]
    assert details["aspect_mentions"] == aspects > 100
    assert details["catalogue_mentions"] == 0  # no catalogue in this graph
    assert (details["sentiment_method"], details["sentiment_reason"], details["oof_auc"]) == (
        "lexicon",
        "lexicon requested",
        None,
    )


def test_from_settings_applies_options(settings: Settings, tmp_path: Path) -> None:
    synonyms = tmp_path / "syn.json"
    synonyms.write_text(json.dumps({"Parcel": "Delivery"}), encoding="utf-8")
    loader = ReviewLoader.from_settings(
        settings, lang="DE", store_text=True, sentiment="lexicon", folds=3, synonyms=synonyms
    )
    assert (loader.lang, loader.store_text, loader.sentiment, loader.folds) == ("de", True, "lexicon", 3)
    assert loader.synonyms == {"parcel": "delivery"}
    assert loader.pseudonymiser.user_id("U1") != "U1"
    default = ReviewLoader.from_settings(
        settings, lang=None, store_text=None, sentiment=None, folds=None, synonyms=None
    )
    assert (default.lang, default.store_text, default.sentiment, default.folds, default.synonyms) == (
        "en",
        False,
        "auto",
        5,
        {},
    )
    assert default.details()["reviews_analysed"] == 0


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"sentiment": "vader"}, "unknown sentiment method 'vader'"),
        ({"folds": 1}, "folds must be an integer from 2 to 20"),
        ({"folds": "5"}, "folds must be an integer"),
        ({"folds": True}, "folds must be an integer"),
        ({"lang": "english!"}, "not a language code"),
        ({"lang": ""}, "not a language code"),
        ({"store_text": "yes"}, "store_text must be true or false"),
        ({"synonyms": 42}, "synonyms must be a JSON file path or a mapping"),
        ({"delimiter": ";"}, "unknown reviews option(s): delimiter"),
    ],
)
def test_from_settings_rejects_bad_options(settings: Settings, options: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        ReviewLoader.from_settings(settings, **options)
    assert fragment in str(err.value) and err.value.hint


def test_from_settings_unreadable_synonyms_is_an_input_error(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "syn.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="must be a JSON object of strings"):
        ReviewLoader.from_settings(settings, synonyms=bad)
    with pytest.raises(InputError, match="cannot read synonym map"):
        ReviewLoader.from_settings(settings, synonyms=tmp_path / "missing.json")


def test_constructor_validates_too(settings: Settings) -> None:
    from kg.foundation.privacy import Pseudonymiser

    with pytest.raises(ConfigError, match="unknown sentiment method"):
        ReviewLoader(settings, pseudonymiser=Pseudonymiser.from_settings(settings), sentiment="bert")
    with pytest.raises(ConfigError, match="folds"):
        ReviewLoader(settings, pseudonymiser=Pseudonymiser.from_settings(settings), folds=0)


def test_backfill_dates_of_reviews_ingested_before(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    from kg.ingest.reviews.loader import backfill_review_dates

    path = _write_reviews(tmp_path / "reviews.csv", n=50)
    ingest_file(store, settings, path, kind="reviews", fmt="csv", sentiment="lexicon")
    before = store.execute(REVIEWS_PER_MONTH)
    props = store.execute("MATCH (r:Review) RETURN r.id AS id, properties(r) AS p ORDER BY id")
    store.execute("MATCH (r:Review) WHERE r.rating >= 4 OR r.rating IS NULL REMOVE r.date, r.month")  # an older graph
    stripped = store.execute("MATCH (r:Review) WHERE r.month IS NULL RETURN count(r) AS n")[0]["n"]
    assert 0 < stripped < 56
    assert backfill_review_dates(store, batch_size=7) == stripped
    assert store.execute(REVIEWS_PER_MONTH) == before
    assert store.execute("MATCH (r:Review) RETURN r.id AS id, properties(r) AS p ORDER BY id") == props
    assert backfill_review_dates(store) == 0
