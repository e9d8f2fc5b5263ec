"""The ingest fast paths give what the general paths give: CSV events without row dicts, the ledger's
view text (add_view) against its aggregates (add), and cached dictionary ids across connections."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from kg.foundation.errors import StoreError
from kg.ingest.event_readers import _csv_events, _events
from kg.ingest.events_view import GRAPH_FIELDS, VIEW_SEPARATOR, ViewBatch, add_view, view_rows
from kg.ingest.records import BadRow, Event
from kg.ingest.source import LineSource
from kg.ingest.tabular import csv_rows
from kg.ledger import EventLedger

TRICKY = """\ufeffUser_ID;item_id;event_type;timestamp;rating;user_id
x;  p1 ;view;1700000000000;;u1
x;p2;Add To Cart;1700000000;;u2
x;p3;purchase;1700000000000000;;u3
x;p4;rating;2023-11-14T10:00:00Z;4.5;u4
x;p5;rating;1700000000000;;u5
x;p6;view;１７００００００００;;u6
x;p7;view;99999999999999999999999;;u7
x;p8;teleport;1700000000000;;u8
x;p9;view;1700000000000;;\x20\x20\x20
x;;view;1700000000000;;u10
x;p11;rating;1700000000000;11;u11
x;p12;view; 1700000000001 ;;u12
x;p13;view;0;;u13
x;p14;view;1700000000000;;u14;extra

x;p15;VIEW;+1700000000;;u15
"""


def read_both(path: Path, **options: Any) -> tuple[list[Any], list[Any]]:
    with LineSource(path) as fast_source:
        fast = list(_csv_events(fast_source, options.get("delimiter"), options.get("columns", {})))
    with LineSource(path) as slow_source:
        slow = list(
            _events(
                csv_rows(
                    slow_source,
                    ("user_id", "item_id", "event_type", "timestamp"),
                    delimiter=options.get("delimiter"),
                    columns=options.get("columns"),
                    kind="events",
                )
            )
        )
    return fast, slow


def test_csv_fast_path_equals_the_row_dict_path(tmp_path: Path) -> None:
    path = tmp_path / "tricky.csv"
    path.write_text(TRICKY, encoding="utf-8")
    fast, slow = read_both(path)
    assert fast == slow
    events = [r for r in fast if isinstance(r, Event)]
    # the last user_id column wins; ms, s and µs epochs; ISO text; a synonym; +-signed seconds via float
    assert [(e.user, e.item, e.type, e.at) for e in events[:4]] == [
        ("u1", "p1", "view", 1_700_000_000_000),
        ("u2", "p2", "cart", 1_700_000_000_000),
        ("u3", "p3", "purchase", 1_700_000_000_000),
        ("u4", "p4", "rating", 1_699_956_000_000),
    ]
    assert events[3].rating == 4.5
    by_item = {e.item: e for e in events}
    assert by_item["p6"].at == 1_700_000_000_000  # full-width digits: read by float(), as before
    assert by_item["p12"].at == 1_700_000_000_001 and by_item["p13"].at == 0
    assert by_item["p15"].at == 1_700_000_000_000
    reasons = sorted(r.reason for r in fast if isinstance(r, BadRow))
    assert reasons == sorted(
        [
            "rating event without a rating",
            "timestamp '99999999999999999999999' out of range 1970-01-01..9999-12-31",
            "unknown event type 'teleport' (want view/favorite/cart/purchase/rating)",
            "missing user_id",
            "missing item_id",
            "rating '11' out of range 0-10",
            "expected 6 fields, got 7",
        ]
    )


def test_csv_fast_path_with_a_column_mapping_and_no_rating_column(tmp_path: Path) -> None:
    path = tmp_path / "mapped.csv"
    path.write_text("customer,sku,what,when\nc1,s1,view,1700000000\nc2,s2,rating,1700000000\n", encoding="utf-8")
    columns = {"user_id": "customer", "item_id": "sku", "event_type": "what", "timestamp": "when"}
    fast, slow = read_both(path, columns=columns)
    assert fast == slow
    assert fast[0] == Event("c1", "s1", "view", 1_700_000_000_000, None)
    assert isinstance(fast[1], BadRow) and json.loads(fast[1].raw)["user_id"] == "c2"


def merged(view: ViewBatch) -> dict[str, str]:
    """Every pair a batch touched, ``{type: rows text}``, fresh or not."""
    out = dict(view.known)
    for kind, text in view.fresh.items():
        out[kind] = out[kind] + VIEW_SEPARATOR + text if kind in out else text
    return out


def as_graph_rows(view: dict[str, str]) -> dict[str, set[tuple[Any, ...]]]:
    return {kind: {tuple(row) for row in view_rows(text)} for kind, text in view.items()}


def test_add_view_rows_are_the_aggregates_of_add(tmp_path: Path) -> None:
    third = 1 / 3  # 16 significant digits: exact through the JSON text
    events = [
        (
            f"u{i % 7}",
            f'p"{i % 5}\\' if i % 11 == 0 else f"p{i % 5}",
            "rating" if i % 2 else "view",
            1000 + i,
            third if i % 2 else None,
        )
        for i in range(300)
    ]
    with EventLedger(tmp_path / "a.sqlite3") as a, EventLedger(tmp_path / "b.sqlite3") as b:
        for chunk in (events[:200], events[100:]):  # the second batch repeats 100 known events
            pairs = a.add(chunk)
            view = merged(add_view(b, chunk))
            assert a.last_new_events == b.last_new_events
            expected: dict[str, set[tuple[Any, ...]]] = {}
            for pair in pairs:
                expected.setdefault(pair.type, set()).add(tuple(getattr(pair, f) for f in GRAPH_FIELDS))
            assert as_graph_rows(view) == expected
        assert {row[7] for row in as_graph_rows(view)["rating"]} == {third}
        assert b.last_new_events == 100 and set(a.pairs()) == set(b.pairs())


class TextRows:
    """A store that takes row texts as they are (the ``json_rows`` hook FalkorDB's store may offer)."""

    def json_rows(self, texts: list[str]) -> list[str]:
        return [f"<{t}>" for t in texts]


def test_view_rows_go_to_a_json_rows_hook_unless_an_escape_occurs() -> None:
    plain = VIEW_SEPARATOR.join(['["u","p",1,2,3,"1970-01-01","1970-01-01",null]', '["v","q",2,2,3,"x","y",4.0]'])
    assert view_rows(plain, TextRows()) == [
        '<["u","p",1,2,3,"1970-01-01","1970-01-01",null]>',  # type: ignore[arg-type]
        '<["v","q",2,2,3,"x","y",4.0]>',
    ]
    assert view_rows(plain) == [
        ["u", "p", 1, 2, 3, "1970-01-01", "1970-01-01", None],
        ["v", "q", 2, 2, 3, "x", "y", 4.0],
    ]
    escaped = '["u\\"1","p",1,2,3,"d","d",null]'
    assert view_rows(escaped, TextRows()) == [['u"1', "p", 1, 2, 3, "d", "d", None]]  # type: ignore[arg-type]


def test_cached_ids_follow_another_connection_forgetting_and_clearing(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite3"
    with EventLedger(path) as ingest, EventLedger(path) as other:
        ingest.add([("u1", "p1", "view", 1, None), ("u2", "p1", "view", 2, None)])
        other.delete_user("u1", vacuum=False)  # u1's id is gone; a new name could take it
        other.add([("u3", "p9", "view", 3, None)])
        touched = ingest.add([("u1", "p1", "view", 4, None), ("u2", "p1", "view", 5, None)])
        assert {(p.user, p.count) for p in touched} == {("u1", 1), ("u2", 2)}
        assert {(p.user, p.item, p.count) for p in other.pairs()} == {("u1", "p1", 1), ("u2", "p1", 2), ("u3", "p9", 1)}
        other.clear()
        assert [(p.user, p.item, p.count) for p in ingest.add([("u2", "p2", "cart", 6, None)])] == [("u2", "p2", 1)]
        assert list(other.events_of_users(["u2"])) == [("u2", "p2", "cart", 6, None)]


def test_a_failed_batch_does_not_leave_stale_ids_in_the_cache(tmp_path: Path) -> None:
    with EventLedger(tmp_path / "g.sqlite3") as ledger:
        with pytest.raises(StoreError, match="write failed"):  # the batch rolls back, u1's new id with it
            ledger.add([("u1", "p1", "view", 1, None), ("u1", "p1", "view", "later", None)])
        ledger.add([("u9", "p9", "view", 1, None)])  # could take the rolled-back id
        ledger.add([("u1", "p1", "view", 2, None)])
        assert {(p.user, p.item) for p in ledger.pairs()} == {("u9", "p9"), ("u1", "p1")}


def test_pair_days_are_utc_days_of_the_exact_time_for_any_sign(tmp_path: Path) -> None:
    from datetime import datetime

    times = [-86_400_001, -86_400_000, -1001, -1000, -500, -1, 0, 999, 86_399_999, 86_400_000, 1_700_000_000_123]
    with EventLedger(tmp_path / "d.sqlite3") as ledger:
        pairs = ledger.add([(f"u{i}", "p", "view", at, None) for i, at in enumerate(times)])
    for pair in pairs:
        day = datetime.fromtimestamp(pair.first_at / 1000, tz=UTC).date().isoformat()
        assert pair.first_date == pair.last_date == day, pair
