"""Log dialects of marketplaces (issue 20): pv/fav/cart/buy, numeric codes with ``--event-types``, local
times with ``--time-format`` and ``--tz``, year-less dates refused naming ``--time-format``, and the
favourite behaviour type end to end (ledger, FAVORITED edges, profiles' weights, the Cypher that lists
behaviour types)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kg.foundation.errors import ConfigError
from kg.foundation.schema import BEHAVIOUR_TYPES
from kg.foundation.settings import Settings
from kg.ingest import ingest_file
from kg.ingest.event_readers import EVENT_READERS, parse_event_types
from kg.ingest.records import EVENT_TYPES, BadRow, Event, FormatMismatch
from kg.ingest.source import LineSource
from kg.store import GraphStore
from tests.helpers import run_cli

TAOBAO = (
    "user_id,item_id,category_id,behavior_type,timestamp\n"
    "1,10,5,pv,1511544070\n"
    "1,11,5,fav,1511544071\n"
    "2,10,5,cart,1511544072\n"
    "2,12,6,buy,1511544073\n"
    "3,11,5,collect,1511544074\n"
    "3,12,6,wishlist,1511544075\n"
)
CODED = (
    "user_id,item_id,behavior_type,time\n"
    "1,10,0,2017-11-25 08:00\n"
    "1,11,2,2017-11-25 09:30\n"
    "2,10,3,2017-11-26 00:00\n"
    "2,12,1,2017-11-26 23:59\n"
)
CODES = "0=view,1=purchase,2=favorite,3=cart"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _read(path: Path, fmt: str = "csv", **options: object) -> list:  # type: ignore[type-arg]
    with LineSource(path) as source:
        return list(EVENT_READERS[fmt](source, **options))


def _local_ms(text: str, zone: ZoneInfo = SHANGHAI) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=zone).timestamp() * 1000)


def test_taobao_style_log_reads_pv_fav_cart_buy_and_synonyms(tmp_path: Path) -> None:
    path = tmp_path / "UserBehavior.csv"
    path.write_text(TAOBAO, encoding="utf-8")
    rows = _read(path, columns={"event_type": "behavior_type"})
    assert all(isinstance(r, Event) for r in rows), rows
    assert [r.type for r in rows] == ["view", "favorite", "cart", "purchase", "favorite", "favorite"]
    assert rows[0].at == 1511544070000
    assert EVENT_TYPES["favorite"] == "FAVORITED" and "FAVORITED" in BEHAVIOUR_TYPES


def test_numeric_codes_with_event_types_and_local_time(tmp_path: Path) -> None:
    path = tmp_path / "coded.csv"
    path.write_text(CODED, encoding="utf-8")
    rows = _read(
        path,
        columns={"event_type": "behavior_type", "timestamp": "time"},
        event_types=CODES,
        time_format="%Y-%m-%d %H:%M",
        tz="Asia/Shanghai",
    )
    assert [(r.type, r.at) for r in rows] == [
        ("view", _local_ms("2017-11-25 08:00")),
        ("favorite", _local_ms("2017-11-25 09:30")),
        ("cart", _local_ms("2017-11-26 00:00")),
        ("purchase", _local_ms("2017-11-26 23:59")),
    ]
    assert rows[0].at == 1511568000000  # 2017-11-25T00:00:00Z: 08:00 in Shanghai is midnight UTC
    # the same times without --tz are UTC, as before (naive ISO-8601 text needs no --time-format)
    utc = _read(path, columns={"event_type": "behavior_type", "timestamp": "time"}, event_types=CODES)
    assert [r.at for r in utc] == [
        _local_ms(t, ZoneInfo("UTC"))
        for t in ("2017-11-25 08:00", "2017-11-25 09:30", "2017-11-26 00:00", "2017-11-26 23:59")
    ]
    # --tz alone applies to naive ISO times; epoch numbers are absolute whatever the zone
    assert (
        _read(
            path, columns={"event_type": "behavior_type", "timestamp": "time"}, event_types=CODES, tz="Asia/Shanghai"
        )[0].at
        == 1511568000000
    )
    # without --event-types the codes are unknown, and the reason says how to map them
    bad = _read(path, columns={"event_type": "behavior_type", "timestamp": "time"})
    assert all(isinstance(r, BadRow) for r in bad)
    assert "--event-types" in bad[0].reason


def test_jsonl_takes_the_same_options(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(
        json.dumps({"user_id": "u", "item_id": "p", "event_type": 2, "timestamp": "2017-11-25 08:00"}) + "\n",
        encoding="utf-8",
    )
    rows = _read(path, "jsonl", event_types={"2": "fav"}, time_format="%Y-%m-%d %H:%M", tz="Asia/Shanghai")
    assert [(r.type, r.at) for r in rows] == [("favorite", 1511568000000)]


def test_year_less_dates_are_bad_rows_naming_time_format(tmp_path: Path) -> None:
    path = tmp_path / "yearless.csv"
    path.write_text(
        "user_id,item_id,event_type,timestamp\n1,10,pv,6-4\n1,11,buy,2017-06-04 10:00\n2,10,fav,6-4 08:00\n",
        encoding="utf-8",
    )
    rows = _read(path)
    assert isinstance(rows[1], Event)
    bad = [r for r in rows if isinstance(r, BadRow)]
    assert [r.line for r in bad] == [2, 4]
    assert all("no year" in r.reason and "--time-format" in r.reason for r in bad)
    # a layout without a year is refused up front, naming the option
    with pytest.raises(ConfigError, match="--time-format"):
        _read(path, time_format="%m-%d")
    # rows that do not match the layout name it
    rows = _read(path, time_format="%Y-%m-%d %H:%M")
    assert [type(r).__name__ for r in rows] == ["BadRow", "Event", "BadRow"]
    assert "--time-format" in rows[0].reason


def test_bad_options_are_config_errors() -> None:
    assert parse_event_types(CODES) == {"0": "view", "1": "purchase", "2": "favorite", "3": "cart"}
    assert parse_event_types({"a": "pv", "b": "buy"}) == {"a": "view", "b": "purchase"}
    with pytest.raises(ConfigError, match="--event-types"):
        parse_event_types("0=view,1")
    with pytest.raises(ConfigError, match="--event-types"):
        parse_event_types("0=teleport")
    with pytest.raises(ConfigError, match="--tz"):
        _read(Path(__file__), tz="Mars/Olympus")


def test_favorites_land_as_favorited_edges_and_year_less_rows_are_quarantined(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    views = tmp_path / "views.csv"  # an existing ledger, before the new type
    views.write_text("user_id,item_id,event_type,timestamp\n1,10,view,1511544000\n", encoding="utf-8")
    assert ingest_file(store, settings, views, kind="events", fmt="csv").rows_ok == 1
    path = tmp_path / "UserBehavior.csv"
    path.write_text(TAOBAO + "4,13,7,fav,6-4\n", encoding="utf-8")
    report = ingest_file(
        store, settings, path, kind="events", fmt="csv", columns={"event_type": "behavior_type"}, max_bad_ratio=0.5
    )
    assert (report.rows_ok, report.rows_bad) == (6, 1)
    rows = store.execute("MATCH (:User)-[r:FAVORITED]->(p:Product) RETURN p.id AS id, sum(r.count) AS n ORDER BY id")
    assert [(r["id"], r["n"]) for r in rows] == [("11", 2), ("12", 1)]
    assert store.execute("MATCH (:User)-[r:VIEWED]->(:Product) RETURN sum(r.count) AS n")[0]["n"] == 2
    quarantined = [json.loads(line) for line in Path(report.quarantine).read_text(encoding="utf-8").splitlines()]
    assert len(quarantined) == 1
    text = json.dumps(quarantined[0])
    assert "UserBehavior.csv" in text and "--time-format" in text and "no year" in text
    assert 8 in quarantined[0].values()  # the file's line number


def test_a_log_of_only_year_less_dates_stops_with_one_line(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "yearless.csv"
    path.write_text(
        "user_id,item_id,event_type,timestamp\n" + "".join(f"{i},10,pv,6-{i % 28 + 1}\n" for i in range(50)),
        encoding="utf-8",
    )
    with pytest.raises(FormatMismatch, match="--time-format"):
        ingest_file(store, settings, path, kind="events", fmt="csv")


def test_cli_event_types_time_format_and_tz(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "coded.csv"
    path.write_text(CODED, encoding="utf-8")
    result = run_cli(
        settings,
        "ingest",
        "events",
        str(path),
        "--map",
        "event_type=behavior_type,timestamp=time",
        "--event-types",
        CODES,
        "--time-format",
        "%Y-%m-%d %H:%M",
        "--tz",
        "Asia/Shanghai",
        "--no-update",
    )
    assert result.exit_code == 0, result.output
    rows = store.execute("MATCH (:User)-[r:FAVORITED]->(p:Product) RETURN p.id AS id, r.first_at AS at")
    assert [(r["id"], r["at"]) for r in rows] == [("11", _local_ms("2017-11-25 09:30"))]
    bad = run_cli(settings, "ingest", "events", str(path), "--tz", "Nowhere/Else", "--force", "--no-update")
    assert bad.exit_code != 0 and "--tz" in bad.output and "Traceback" not in bad.output


def test_profiles_weigh_favourites_between_view_and_cart() -> None:
    from kg.profiles.data import EVENT_TYPES as PROFILE_TYPES
    from kg.profiles.interests import InterestWeights
    from kg.profiles.recommenders.signals import TYPE_WEIGHTS

    assert PROFILE_TYPES[:4] == ("view", "cart", "purchase", "rating")  # existing codes unchanged
    weights = dict(zip(PROFILE_TYPES, InterestWeights().per_type(), strict=True))
    assert weights["view"] < weights["favorite"] < weights["cart"]
    assert TYPE_WEIGHTS["view"] < TYPE_WEIGHTS["favorite"] < TYPE_WEIGHTS["cart"]


def test_cypher_that_lists_behaviour_types_includes_favorited() -> None:
    root = Path(__file__).resolve().parents[2] / "cypher"
    listing = [p for p in root.rglob("*.cypher") if "VIEWED|" in p.read_text(encoding="utf-8")]
    assert listing
    assert [p.name for p in listing if "FAVORITED" not in p.read_text(encoding="utf-8")] == []


def test_a_scheduled_file_takes_the_dialect_as_sidecar_keys(tmp_path: Path) -> None:
    from kg.operations.scheduler import SIDECAR, classify

    path = tmp_path / "coded.csv"
    path.write_text(CODED, encoding="utf-8")
    spec = {
        "kind": "events",
        "format": "csv",
        "columns": {"event_type": "behavior_type", "timestamp": "time"},
        "event_types": {"0": "view", "1": "purchase", "2": "favorite", "3": "cart"},
        "time_format": "%Y-%m-%d %H:%M",
        "tz": "Asia/Shanghai",
    }
    path.with_name(path.name + SIDECAR).write_text(json.dumps(spec), encoding="utf-8")
    kind, fmt, options = classify(path)
    assert (kind, fmt) == ("events", "csv")
    rows = _read(path, **options)
    assert [r.type for r in rows] == ["view", "favorite", "cart", "purchase"] and rows[0].at == 1511568000000
