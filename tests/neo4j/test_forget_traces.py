"""kg forget on the session's local Neo4j: what its data directory still holds afterwards, and for how long.

The person is ingested with a long unique raw id, a product only they bought (a long id, > 40 characters:
short strings are stored packed and grep cannot see them) and a review kept as text (``store_text``).
After the forget, ``Neo4jStore.purge_traces`` has rebuilt the User.id and Review.id indexes (the pseudonym
leaves at once) and rotated the transaction log, so the log files with the deleted records are pruned at
the next checkpoint: the test polls the data directory, bounded by :data:`kg.store.neo4j_server.FORGET_WINDOW_S`.
Deleted records' bytes in the store files (``neostore.propertystore.db*``) stay until Neo4j reuses them:
no bound is asserted there (see ``purge_traces``'s ``stays``).
"""

from __future__ import annotations

import csv
import os
import time
import uuid
from pathlib import Path

import pytest

from kg.foundation.privacy import Pseudonymiser
from kg.ingest.api import ingest_file
from kg.operations.forget import forget_user
from kg.store import open_store
from kg.store.neo4j_server import FORGET_WINDOW_S
from tests.helpers import neo4j_settings

pytestmark = pytest.mark.neo4j

T0 = 1_704_067_200_000


def _holders(root: Path, needles: dict[str, bytes]) -> dict[str, list[str]]:
    """``{file relative to root: [names of the needles it holds]}`` (raw bytes, like grep -r)."""
    found: dict[str, list[str]] = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            try:
                data = path.read_bytes()
            except OSError:  # the server unlinked it while we walked
                continue
            hits = [key for key, needle in needles.items() if needle in data]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


def _poll(root: Path, needles: dict[str, bytes], done, bound: float) -> tuple[dict[str, list[str]], float]:
    """Grep ``root`` every half second until ``done(holders)`` or ``bound`` seconds; the last holders, seconds."""
    started = time.monotonic()
    while True:
        holders = _holders(root, needles)
        waited = time.monotonic() - started
        if done(holders) or waited > bound:
            return holders, waited
        time.sleep(0.5)  # (a) a poll of the real condition (the files' bytes) with a bound; the test measures the wait


def _in_logs(holders: dict[str, list[str]], key: str) -> list[str]:
    return [path for path, keys in holders.items() if key in keys and path.startswith("transactions/")]


def test_forget_leaves_the_neo4j_data_directory_within_the_window(neo4j_server: dict[str, str], tmp_path: Path) -> None:
    if "home" not in neo4j_server:
        pytest.skip("KG_TEST_NEO4J_URI names an external server: its data directory is not ours to read")
    data = Path(neo4j_server["home"]) / "data"
    tag = uuid.uuid4().hex
    raw = f"forget-me-{tag}-a-raw-user-id-long-enough"
    item = f"only-theirs-{tag}-a-product-id-long-enough"
    text = f"The battery life is great, says review {tag} that is long enough to be stored as plain text."
    settings = neo4j_settings(neo4j_server, tmp_path / "home")
    folder = tmp_path / "in"
    folder.mkdir()
    with open(folder / "events.csv", "w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["user_id", "item_id", "event_type", "timestamp", "rating"])
        w.writerow([raw, item, "purchase", T0, ""])
        w.writerow([raw, "P1", "purchase", T0 + 1000, ""])
        w.writerow([f"keep-{tag}", "P1", "purchase", T0 + 2000, ""])
    with open(folder / "reviews.csv", "w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["user_id", "item_id", "rating", "text", "timestamp"])
        w.writerow([raw, item, 5, text, T0 // 1000])
    pseudonym = Pseudonymiser.from_settings(settings).user_id(raw)
    needles = {
        "raw": raw.encode(),
        "pseudonym": pseudonym.encode(),
        "item": item.encode(),
        "review": f"review {tag}".encode(),
    }

    with open_store(settings) as store:
        ingest_file(store, settings, folder / "events.csv", kind="events", fmt="csv")
        ingest_file(
            store,
            settings,
            folder / "reviews.csv",
            kind="reviews",
            fmt="csv",
            sentiment="lexicon",
            lang="en",
            store_text=True,
        )
        # the check can fail: the review is in the transaction log at once, the pseudonym in the User.id
        # index once a checkpoint (every 20 s) has written its pages
        before, _ = _poll(
            data,
            needles,
            lambda h: any("pseudonym" in k for k in h.values()) and _in_logs(h, "review"),
            FORGET_WINDOW_S,
        )
        assert _in_logs(before, "review") and _in_logs(before, "item"), before
        assert any(p.startswith("databases/neo4j/schema/index/") for p, k in before.items() if "pseudonym" in k), before
        assert not any("raw" in k for k in before.values()), before  # pseudonymised at ingest: never sent

        report = forget_user(store, settings, raw)
        assert report.ok and report.found and report.graph["user"] == 1 and report.graph["reviews"] == 1
        disk = report.disk
        assert {"User.id", "Review.id"} <= set(disk["indexes_rebuilt"]), disk
        assert disk["log_rotations"] >= 1 and disk["log_pruned_within_s"] == FORGET_WINDOW_S, disk
        assert any("store files" in s for s in disk["stays"]), disk
        assert any(line.startswith("database keeps: ") for line in report.lines())

    # the pseudonym left with the rebuilt index; the log files with the deleted records go at the next checkpoint
    after, waited = _poll(
        data,
        needles,
        lambda h: (
            not any("raw" in k or "pseudonym" in k for k in h.values())
            and not _in_logs(h, "review")
            and not _in_logs(h, "item")
        ),
        2 * FORGET_WINDOW_S,
    )
    assert not any("raw" in k or "pseudonym" in k for k in after.values()), after
    assert not _in_logs(after, "review") and not _in_logs(after, "item"), after
    assert waited <= FORGET_WINDOW_S, f"gone after {waited:.0f} s, later than FORGET_WINDOW_S ({FORGET_WINDOW_S} s)"
    # what may stay (documented, no time bound): freed records in the store files, the Product.id index slot
    allowed = ("databases/neo4j/neostore.propertystore.db", "databases/neo4j/schema/index/")
    assert all(p.startswith(allowed) for p in after), after
