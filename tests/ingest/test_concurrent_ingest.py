"""Two ingests into one KG_HOME at the same moment equal the same two run one after the other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kg.foundation.settings import Settings
from kg.ingest import ingest_file
from kg.ingest.synthetic import generate_shop
from kg.store import GraphStore
from tests.helpers import clean_twin, overlapped, release_together, settings_json

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from kg.ingest import ingest_file
from kg.foundation.settings import Settings
from kg.store import open_store
settings = Settings.model_validate_json(sys.argv[1])
with open_store(settings, start=False) as store:
    ingest_file(store, settings, sys.argv[2], kind="events", fmt="csv", force=True)
"""
SNAPSHOT = (
    "MATCH (u:User)-[r]->(p:Product) RETURN u.id AS u, type(r) AS t, p.id AS p, r.count AS c, "
    "r.first_at AS f, r.last_at AS l ORDER BY u, t, p"
)


def test_two_concurrent_ingests_equal_two_sequential(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    shop = generate_shop(tmp_path / "shop", users=80, products=50, events=8000, seed=5)
    lines = shop.events.read_text().splitlines()
    header, body = lines[0], lines[1:]
    # two files that overlap by half: the same pairs and events arrive from both at once
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("\n".join([header, *body[:6000]]) + "\n")
    second.write_text("\n".join([header, *body[2000:]]) + "\n")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, settings_json(settings), str(p)], cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        for p in (first, second)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    concurrent = store.execute(SNAPSHOT)
    with clean_twin(settings) as (other, sequential_settings):
        for path in (first, second):
            ingest_file(other, sequential_settings, path, kind="events", fmt="csv")
        assert other.execute(SNAPSHOT) == concurrent
    distinct = len({tuple(line.split(",")[:4]) for line in body})
    assert sum(row["c"] for row in concurrent) == distinct


_OPEN_AND_ADD = """
import json, sys, time
from pathlib import Path
from kg.ledger import EventLedger
print("ready", flush=True); sys.stdin.readline()  # released with the others (release_together)
began = time.monotonic()
with EventLedger(Path(sys.argv[1])) as ledger:
    opened = time.monotonic()
    ledger.add([(f"u{sys.argv[2]}", "p", "view", 1000, None)])
print(json.dumps([began, opened]))
"""


def test_processes_creating_one_ledger_at_once_all_succeed(tmp_path: Path) -> None:
    from kg.ledger import EventLedger

    path = tmp_path / "ledger.sqlite3"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_AND_ADD, str(path), str(i)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    release_together(procs)
    opening = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        opening.append(json.loads(out))
    # the race was run: two processes were creating (opening) the new ledger at once
    assert any(overlapped([a, b]) for i, a in enumerate(opening) for b in opening[i + 1 :])
    with EventLedger(path, readonly=True) as ledger:
        assert ledger.counts()["events"] == 4
