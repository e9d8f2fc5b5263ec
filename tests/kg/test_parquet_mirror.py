"""``kg lake sync``: the ledger's events as Parquet day partitions, equal to the ledger, incremental (only days
with new events are written; nothing new writes nothing; no event twice), and ``kg forget`` leaves the person in
no file. Real parts throughout: events ingested through the CLI into a real ledger and graph, files read back
with pyarrow."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ledger import EventLedger
from kg.ledger.parquet_mirror import STATE_FILE
from tests.helpers import run_cli, settings_env

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.falkordb_only("the mirror is written from the ledger alone: no backend shows more than one")

GONE = "XLAKEFORGET01"  # the person forgotten below: a raw id no file would hold by chance
KEPT = ("YLAKEKEEP0002", "ZLAKEKEEP0003")
ALONE = "WLAKEALONE004"  # the only person with events on 2024-06-04
FIRST = [
    # (raw user, item, type, time, rating)
    (GONE, "P1", "view", "2024-06-01T09:00:00Z", ""),
    (GONE, "P1", "purchase", "2024-06-01T09:05:00Z", ""),
    (GONE, "P2", "view", "2024-06-02T10:00:00Z", ""),
    (KEPT[0], "P1", "view", "2024-06-01T11:00:00Z", ""),
    (KEPT[0], "P1", "rating", "2024-06-02T12:00:00.250Z", "4.5"),
    (KEPT[1], "P3", "cart", "2024-06-03T23:59:59.999Z", ""),
    (ALONE, "P4", "view", "2024-06-04T00:00:00Z", ""),
]
SECOND = [
    (GONE, "P1", "view", "2024-06-01T09:00:00Z", ""),  # known: stored once
    (KEPT[1], "P3", "cart", "2024-06-03T08:00:00Z", ""),  # new, on a known day, in a pair with older events
    (KEPT[0], "P1", "view", "2024-06-05T07:00:00Z", ""),  # new day, in a pair whose other events are on 06-01
]
DAYS = ["2024-06-01", "2024-06-02", "2024-06-03", "2024-06-04"]


def _csv(path: Path, rows: list[tuple[str, ...]]) -> Path:
    lines = ["user_id,item_id,event_type,timestamp,rating"] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ingest(settings: Settings, path: Path) -> None:
    result = run_cli(settings, "ingest", "events", str(path), "--no-update", "--json")
    assert result.exit_code == 0, result.output


def _sync(settings: Settings, *args: str) -> dict[str, Any]:
    result = run_cli(settings, "lake", "sync", "--json", *args)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def _files(root: Path) -> list[Path]:
    """EVERY Parquet file under ``root`` (hidden and temporary names included)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and (".parquet" in p.name or p.suffix == ".tmp"))


def _rows(root: Path) -> list[tuple[Any, ...]]:
    """The rows of every Parquet file under ``root``, as ledger tuples (user, item, type, at ms, rating), each
    checked against the day folder it lies in."""
    rows = []
    for path in _files(root):
        table = pq.ParquetFile(path).read()
        assert table.schema.field("event_time").type == pa.timestamp("ms", tz="UTC")
        assert table.schema.names == ["user_id", "item_id", "event_type", "event_time", "rating"]
        ats = table.column("event_time").cast(pa.int64()).to_pylist()
        for row, at in zip(table.to_pylist(), ats, strict=True):
            assert path.parent.name == f"day={row['event_time'].date().isoformat()}"
            rows.append((row["user_id"], row["item_id"], row["event_type"], at, row["rating"]))
    return rows


def _ledger(settings: Settings) -> list[tuple[Any, ...]]:
    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        return [tuple(e) for e in ledger.events_between()]


def _stamps(root: Path) -> dict[str, int]:
    """Each file's modification time (ns), by path: what a rewrite changes."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def _pseudonym(settings: Settings, raw: str) -> str:
    return Pseudonymiser.from_settings(settings).user_id(raw)


@pytest.fixture
def shop(settings: Settings, tmp_path: Path) -> Settings:
    """A graph and ledger holding FIRST, ingested through the CLI."""
    _ingest(settings, _csv(tmp_path / "first.csv", FIRST))
    return settings


def test_mirror_equals_the_ledger_with_pseudonyms_not_raw_ids(shop: Settings) -> None:
    report = _sync(shop)
    root = shop.lake_dir / "events"
    assert report["path"] == str(root) and report["mode"] == "full"
    assert report["days_written"] == DAYS and report["rows"] == report["new_rows"] == len(FIRST)
    rows, ledger = _rows(root), _ledger(shop)
    assert len(rows) == len(ledger) == len(FIRST)
    assert sorted(rows, key=repr) == sorted(ledger, key=repr)
    assert sorted(p.parent.name for p in _files(root)) == [f"day={d}" for d in DAYS]
    raw_ids = {GONE, *KEPT, ALONE}
    assert {r[0] for r in rows} == {_pseudonym(shop, raw) for raw in raw_ids}  # the ledger's pseudonyms
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(raw.encode() in data for raw in raw_ids), path
    rating = [r for r in rows if r[2] == "rating"]
    assert rating == [(_pseudonym(shop, KEPT[0]), "P1", "rating", 1_717_329_600_250, 4.5)]
    assert all(r[4] is None for r in rows if r[2] != "rating")
    # the hive layout reads as one data set, day a partition column
    import pyarrow.dataset as ds

    table = ds.dataset(root, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == len(FIRST) and "day" in table.schema.names
    assert (root / STATE_FILE).stat().st_mode & 0o777 == 0o600
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in _files(root))


def test_an_incremental_sync_writes_only_the_days_with_new_events(shop: Settings, tmp_path: Path) -> None:
    _sync(shop)
    root = shop.lake_dir / "events"
    before = _stamps(root)
    _ingest(shop, _csv(tmp_path / "second.csv", SECOND))
    report = _sync(shop)
    assert report["mode"] == "incremental"
    # 06-03 gains an event; 06-05 is new; 06-01 is read (a touched pair has events there) but gains nothing
    assert report["days_written"] == ["2024-06-03", "2024-06-05"]
    assert report["new_rows"] == 2 and report["rows_written"] == 3 and report["rows"] == len(FIRST) + 2
    after = _stamps(root)
    for day in ("2024-06-01", "2024-06-02", "2024-06-04"):
        key = f"day={day}/events.parquet"
        assert after[key] == before[key], f"{day} was rewritten"
    assert after["day=2024-06-03/events.parquet"] != before["day=2024-06-03/events.parquet"]
    rows = _rows(root)
    assert len(rows) == len(set(rows)) == len(_ledger(shop)) == len(FIRST) + 2  # nothing twice
    assert sorted(rows, key=repr) == sorted(_ledger(shop), key=repr)


def test_a_rerun_with_nothing_new_writes_nothing(shop: Settings, tmp_path: Path) -> None:
    _sync(shop)
    root = shop.lake_dir / "events"
    before = _stamps(root)
    again = _sync(shop)
    assert again["mode"] == "unchanged" and again["days_written"] == [] and again["rows"] == len(FIRST)
    assert _stamps(root) == before  # not even the state file
    # a new ledger batch of events the ledger already held: touched pairs, no new event, nothing written
    _ingest(shop, _csv(tmp_path / "repeat.csv", FIRST[:3]))
    repeat = _sync(shop)
    assert repeat["mode"] == "incremental" and repeat["days_written"] == [] and repeat["new_rows"] == 0
    assert {k: v for k, v in _stamps(root).items() if k != STATE_FILE} == {
        k: v for k, v in before.items() if k != STATE_FILE
    }
    assert len(_rows(root)) == len(FIRST)


def test_a_sync_interrupted_before_its_bookmark_is_finished_without_duplicates(shop: Settings, tmp_path: Path) -> None:
    _sync(shop)
    root = shop.lake_dir / "events"
    old_state = (root / STATE_FILE).read_text(encoding="utf-8")
    _ingest(shop, _csv(tmp_path / "second.csv", SECOND))
    _sync(shop)
    # as if killed after writing the partitions, before the bookmark: the state says the old batch, and a
    # temporary file is left behind
    (root / STATE_FILE).write_text(old_state, encoding="utf-8")
    (root / "day=2024-06-01" / ".events.parquet.1.abcd.tmp").write_bytes(b"half a file")
    report = _sync(shop)
    assert report["mode"] == "incremental" and report["new_rows"] == 0 and report["days_written"] == []
    assert not (root / "day=2024-06-01" / ".events.parquet.1.abcd.tmp").exists()
    rows = _rows(root)
    assert len(rows) == len(set(rows)) == len(_ledger(shop))


def test_full_rewrites_every_day_and_drops_days_the_ledger_lacks(shop: Settings, tmp_path: Path) -> None:
    root = tmp_path / "elsewhere" / "events"
    _sync(shop, "--path", str(root))
    shutil.copytree(root / "day=2024-06-04", root / "day=2020-01-01")  # a day the ledger does not have
    (root / "day=2024-06-02" / "events.parquet").unlink()  # a day lost by hand
    report = _sync(shop, "--path", str(root), "--full")
    assert report["mode"] == "full" and report["days_written"] == DAYS and report["days_removed"] == ["2020-01-01"]
    assert sorted(_rows(root), key=repr) == sorted(_ledger(shop), key=repr)


def test_forget_removes_the_person_from_every_mirror_file(shop: Settings, tmp_path: Path) -> None:
    default = shop.lake_dir / "events"
    outside = tmp_path / "spark" / "events"  # a mirror outside KG_HOME: recorded, so forget finds it
    _ingest(shop, _csv(tmp_path / "alone.csv", [(ALONE, "P5", "view", "2024-06-04T01:00:00Z", "")]))
    _sync(shop)
    _sync(shop, "--path", str(outside))
    gone, alone = _pseudonym(shop, GONE), _pseudonym(shop, ALONE)
    for raw, rows in ((GONE, 3), (ALONE, 2)):
        result = run_cli(shop, "forget", raw, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["files"]["lake_rows"] == 2 * rows  # in both mirrors
    for root in (default, outside):
        files = _files(root)
        assert files and not any(p.name.startswith(".") for p in files)
        for path in files:  # every file: neither in the values nor anywhere in the bytes
            assert gone not in pq.ParquetFile(path).read().column("user_id").to_pylist(), path
            assert gone.encode() not in path.read_bytes() and alone.encode() not in path.read_bytes(), path
        assert not (root / "day=2024-06-04").exists()  # ALONE's only day: nothing left, so the folder went
        assert sorted(_rows(root), key=repr) == sorted(_ledger(shop), key=repr)
        state = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))
        assert state["rows"] == len(_ledger(shop))
    again = _sync(shop)  # the ledger no longer has them: a sync cannot bring them back
    assert again["mode"] == "unchanged" and gone not in {r[0] for r in _rows(default)}


def test_a_forget_dry_run_counts_and_changes_nothing(shop: Settings) -> None:
    _sync(shop)
    root = shop.lake_dir / "events"
    before = _stamps(root)
    result = run_cli(shop, "forget", GONE, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    assert (files["lake_partitions"], files["lake_rows"]) == (2, 3)
    assert _stamps(root) == before


def test_forget_without_a_mirror_does_nothing_extra(shop: Settings) -> None:
    result = run_cli(shop, "forget", GONE, "--json")
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    assert (files["lake_partitions"], files["lake_rows"]) == (0, 0)
    assert not (shop.home / "lake").exists()


def test_refusals_are_one_line_with_a_hint(shop: Settings, tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    result = run_cli(shop, "lake", "sync", "--path", str(foreign))
    assert result.exit_code == 2 and "is not empty and holds no kg events mirror" in result.stderr
    assert "hint:" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert os.listdir(foreign) == ["holiday.jpg"]
    other = shop.model_copy(update={"graph": shop.graph + "_other"})
    missing = run_cli(other, "lake", "sync")
    assert missing.exit_code == 3 and "no event ledger" in missing.stderr and "ingest events first" in missing.stderr
    EventLedger(other.ledger_path).close()  # another graph's (empty) ledger
    _sync(shop, "--path", str(tmp_path / "m"))
    mixed = run_cli(other, "lake", "sync", "--path", str(tmp_path / "m"))
    assert mixed.exit_code == 2 and "was made from the ledger" in mixed.stderr and "--full" in mixed.stderr


def test_forget_with_a_mirror_but_no_pyarrow_stops_before_changing_anything(shop: Settings) -> None:
    from tests.test_extras import run_blocked

    _sync(shop)
    before = _stamps(shop.lake_dir / "events")
    [run] = run_blocked(["pyarrow"], [["forget", GONE]], env=settings_env(shop))["runs"]
    lines = run["stderr"].strip().splitlines()
    assert run["exit_code"] == 2 and len(lines) == 1 and "pip install 'kg[lake]'" in lines[0], run
    assert _pseudonym(shop, GONE) in {e[0] for e in _ledger(shop)}  # the ledger still holds them: nothing done
    assert _stamps(shop.lake_dir / "events") == before
