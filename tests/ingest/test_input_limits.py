"""Issue 18 items 1 and 8: limits on what a hostile file can make kg send to the server or hold in memory.

1. Every key that reaches the server is at most :data:`kg.foundation.schema.MAX_KEY_BYTES`, derived ones included:
   a review holding a 6,000-letter "word" once crashed the embedded FalkorDB (SIGSEGV in its
   unique-constraint check) and a 3,000-letter one stored a 3,000-byte ``Aspect.name``. Over-long
   category parts quarantine the row (file, line, reason) instead of vanishing.
8. A gzip bomb: a line over :data:`kg.ingest.source.MAX_LINE_CHARS` is quarantined (the rest still lands)
   without being held in memory, and a ``.gz`` that decompresses to more than
   :data:`kg.ingest.source.MAX_GZIP_RATIO` times its size stops the ingest with one InputError line.
"""

from __future__ import annotations

import gzip
import json
import random
import tracemalloc
from pathlib import Path

import pytest

from kg.foundation.errors import InputError
from kg.foundation.schema import MAX_KEY_BYTES
from kg.foundation.settings import Settings
from kg.ingest.api import ingest_file
from kg.ingest.product_readers import PRODUCT_READERS
from kg.ingest.records import BadRow
from kg.ingest.source import GZIP_FLOOR_BYTES, MAX_GZIP_RATIO, MAX_LINE_CHARS, LineSource
from kg.store import GraphStore


def _reviews(path: Path, texts: list[str]) -> Path:
    rows = [
        {
            "review_id": f"r{i}",
            "user_id": f"u{i % 7}",
            "item_id": f"p{i % 5}",
            "rating": 1 + i % 5,
            "text": text,
            "timestamp": 1_700_000_000 + i,
        }
        for i, text in enumerate(texts)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _quarantined(report: object) -> list[dict]:
    return [json.loads(line) for line in Path(report.quarantine).read_text().splitlines()]  # type: ignore[attr-defined]


# -- 1. derived keys -------------------------------------------------------------------------------
def test_overlong_words_never_become_keys(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    normal = ["Fast delivery and the battery is great.", "The screen is bad.", "Great price, slow delivery."]
    hostile = [f"The {'q' * 3000} is great.", f"Great {'z' * 6000}! The battery is great."]
    path = _reviews(tmp_path / "reviews.jsonl", normal * 12 + hostile * 2)
    report = ingest_file(
        store, settings, path, kind="reviews", fmt="jsonl", sentiment="lexicon", lang="en", max_bad_ratio=1
    )
    assert report.status == "finished" and report.rows_ok == 40 and report.rows_bad == 0
    names = [r["name"] for r in store.execute("MATCH (a:Aspect) RETURN a.name AS name")]
    assert {"delivery", "battery", "screen", "price"} <= set(names)
    assert max(len(n.encode("utf-8")) for n in names) <= MAX_KEY_BYTES
    longest = store.execute("MATCH (n) RETURN max(size(coalesce(n.id, n.name, n.path, n.type))) AS n")[0]["n"]
    assert longest <= MAX_KEY_BYTES
    dropped = {w: n for w, n in report.warnings.items() if "key limit" in w}
    assert dropped and sum(dropped.values()) == 4, report.warnings  # two reviews of each hostile text
    # the reviews themselves landed, with their other aspects
    assert store.execute("MATCH (r:Review) RETURN count(r) AS n")[0]["n"] == 40


def test_overlong_category_parts_are_quarantined(tmp_path: Path) -> None:
    part = ("Very long category name " * 4).strip()  # 95 characters: over the 60-character limit of a part
    path = tmp_path / "p.jsonl"
    path.write_text(
        "".join(
            json.dumps(r) + "\n"
            for r in [
                {"item_id": "p1", "title": "ok", "category": ["A", "B"]},
                {"item_id": "p2", "title": "t", "category": ["A", part, "C"]},
                {"item_id": "p3", "title": "t", "category": f"A > {part}"},
            ]
        ),
        encoding="utf-8",
    )
    with LineSource(path) as source:
        rows = list(PRODUCT_READERS["jsonl"](source))
    assert [r.id for r in rows if not isinstance(r, BadRow)] == ["p1"]
    reasons = {r.line: r.reason for r in rows if isinstance(r, BadRow)}
    assert set(reasons) == {2, 3}
    assert all(r.startswith("category part is 95 characters, over the 60-character limit") for r in reasons.values())


def test_overlong_category_parts_end_to_end(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"item_id,title,category\np1,One,A > B\np2,Two,A > {'x' * 80} > C\np3,Three,A\n", encoding="utf-8")
    report = ingest_file(store, settings, path, kind="products", fmt="csv", max_bad_ratio=1)
    assert (report.rows_ok, report.rows_bad) == (2, 1)
    [row] = _quarantined(report)
    assert row["source"] == str(path) and row["line"] == 3
    assert row["reason"].startswith("category part is 80 characters, over the 60-character limit")
    paths = sorted(r["p"] for r in store.execute("MATCH (c:Category) RETURN c.path AS p"))
    assert paths == ["A", "A > B"]


# -- 8. gzip bombs and over-long lines --------------------------------------------------------------------
def _bomb(path: Path, megabytes: int) -> Path:
    """A .gz of one line of ``megabytes`` MiB of 'x' (about 1,000 times its size), written member by
    member so the test never holds it."""
    member = gzip.compress(b"x" * (1 << 20), compresslevel=9)
    with open(path, "wb") as handle:
        for _ in range(megabytes):
            handle.write(member)
    return path


def test_limits_are_documented_constants() -> None:
    assert MAX_LINE_CHARS == 1 << 20
    assert MAX_GZIP_RATIO == 200 and GZIP_FLOOR_BYTES == 64 << 20
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "1 MiB" in readme and "200 times" in readme


def test_gzip_bomb_stops_in_bounded_memory(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "events.jsonl.gz", 256)  # 256 MiB in one line, ~260 KB on disk
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with LineSource(path) as source, pytest.raises(InputError) as caught:
            for _ in source.lines():
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, f"peak {peak:,} bytes"
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and f"{MAX_GZIP_RATIO} times" in message


def test_gzip_bomb_fails_the_ingest(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = _bomb(tmp_path / "events.jsonl.gz", 100)
    with pytest.raises(InputError, match="times its compressed size"):
        ingest_file(store, settings, path, kind="events", fmt="jsonl", max_bad_ratio=1)
    assert store.execute("MATCH (u:User) RETURN count(u) AS n")[0]["n"] == 0


def _random_text(n: int, seed: int = 1) -> str:
    """``n`` characters that barely compress (so only the line limit applies, not the ratio)."""
    return random.Random(seed).randbytes(n // 2).hex()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_overlong_line_is_quarantined_and_good_rows_land(
    store: GraphStore, settings: Settings, tmp_path: Path, fmt: str
) -> None:
    def row(i: int) -> str:
        if fmt == "csv":
            return f"u{i},p{i % 3},view,{1_700_000_000 + i}\n"
        return (
            json.dumps(
                {"user_id": f"u{i}", "item_id": f"p{i % 3}", "event_type": "view", "timestamp": 1_700_000_000 + i}
            )
            + "\n"
        )

    long_value = _random_text(MAX_LINE_CHARS + 500_000)
    path = tmp_path / f"events.{fmt}.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        if fmt == "csv":
            handle.write("user_id,item_id,event_type,timestamp\n")
        for i in range(10):
            handle.write(row(i))
        if fmt == "csv":
            handle.write(f"{long_value},p1,view,1700000000\n")
        else:
            handle.write(
                json.dumps({"user_id": long_value, "item_id": "p1", "event_type": "view", "timestamp": 1_700_000_000})
                + "\n"
            )
        for i in range(10, 20):
            handle.write(row(i))
    report = ingest_file(store, settings, path, kind="events", fmt=fmt, max_bad_ratio=1)
    assert (report.rows_ok, report.rows_bad) == (20, 1)
    [bad] = _quarantined(report)
    line = 12 if fmt == "csv" else 11
    assert bad["source"] == str(path) and bad["line"] == line
    assert bad["reason"].startswith("line is ") and f"over the {MAX_LINE_CHARS:,}-character line limit" in bad["reason"]
    assert len(bad["raw"]) <= 2_000
    assert store.execute("MATCH (u:User) RETURN count(u) AS n")[0]["n"] == 20


def test_normal_gzip_and_lines_at_the_limit_still_work(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt.gz"
    at_limit = "y" * MAX_LINE_CHARS
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("first\r\n" + at_limit + "\n" + "third")
    with LineSource(path) as source:
        assert list(source.numbered()) == [(1, "first"), (2, at_limit), (3, "third")]
        assert source.bad_lines == []
    plain = tmp_path / "plain.txt"
    plain.write_text("a\n" + "z" * (MAX_LINE_CHARS + 1) + "\nb\n", encoding="utf-8")
    with LineSource(plain) as source:
        assert list(source.numbered()) == [(1, "a"), (3, "b")]
        [bad] = source.bad_lines
        assert bad.line == 2 and bad.reason.startswith(f"line is {MAX_LINE_CHARS + 1:,} characters")


def test_overlong_csv_header_is_one_error(tmp_path: Path) -> None:
    from kg.ingest.event_readers import EVENT_READERS

    path = tmp_path / "events.csv"
    path.write_text("user_id," + "c" * (MAX_LINE_CHARS + 10) + "\nu1,p1\n", encoding="utf-8")
    with LineSource(path) as source, pytest.raises(InputError, match=r":1: the CSV header line is "):
        list(EVENT_READERS["csv"](source))
