"""``kg.ingest.ingest_file``: one entry point over the format registry, options checked per format,
failed runs recorded as failed, empty input reported, several files and globs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from kg.foundation.errors import ConfigError, InputError
from kg.foundation.settings import Settings
from kg.ingest import ingest_file, ingest_files
from kg.ingest.formats import FORMATS, resolve_format
from kg.ingest.manifest import Manifest
from kg.store import GraphStore

HEADER = "user_id,item_id,event_type,timestamp\n"


def _events(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_every_kind_has_its_formats_and_unknown_ones_are_named() -> None:
    assert set(FORMATS) == {"events", "products", "reviews"}
    assert {"csv", "jsonl", "amazon", "retailrocket"} <= set(FORMATS["events"])
    with pytest.raises(ConfigError, match="unknown events format 'xml'") as err:
        resolve_format("events", "xml")
    assert "csv" in (err.value.hint or "")


def test_options_a_format_does_not_take_are_refused(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = _events(tmp_path / "e.csv", ["u1,p1,view,1700000000"])
    with pytest.raises(ConfigError, match="--lang"):
        ingest_file(store, settings, path, kind="events", fmt="csv", lang="de")
    with pytest.raises(ConfigError, match="--delimiter"):
        ingest_file(store, settings, path, kind="events", fmt="amazon", delimiter=";")


def test_several_files_and_globs_in_order(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    _events(tmp_path / "a.csv", ["u1,p1,view,1700000000"])
    _events(tmp_path / "b.csv", ["u2,p1,view,1700000000", "u2,p2,purchase,1700000100"])
    reports = ingest_files(store, settings, [str(tmp_path / "*.csv")], kind="events", fmt="csv")
    assert [Path(r.file).name for r in reports] == ["a.csv", "b.csv"]
    assert [r.rows_ok for r in reports] == [1, 2]
    with pytest.raises(InputError, match="no file matches"):
        ingest_files(store, settings, [str(tmp_path / "*.nothing")], kind="events")


def test_a_failed_run_is_recorded_as_failed_with_its_reason(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    data = gzip.compress((HEADER + "u1,p1,view,1700000000\n" * 2000).encode())
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError):
        ingest_file(store, settings, truncated, kind="events", fmt="csv")
    runs = Manifest(store).runs()
    assert [r["status"] for r in runs] == ["failed"]
    assert "decompress" in runs[0]["error"] or "read" in runs[0]["error"]


def test_empty_and_header_only_files_warn(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    for name, text in (("empty.csv", ""), ("header.csv", HEADER)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        report = ingest_file(store, settings, path, kind="events", fmt="csv")
        assert report.rows_ok == 0 and any("no data rows" in w for w in report.warnings), name


def test_report_renders_to_text_and_json(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    path = _events(tmp_path / "e.csv", ["u1,p1,view,1700000000", "u1,p1,view,not-a-time"])
    report = ingest_file(store, settings, path, kind="events", fmt="csv", max_bad_ratio=0.9)
    as_json = report.as_dict()
    assert (as_json["rows_ok"], as_json["rows_bad"], as_json["status"]) == (1, 1, "finished")
    text = "\n".join(report.lines())
    assert "1 rows ok, 1 bad" in text and str(report.quarantine) in text
