"""The ingest manifest: one ``(:IngestRun)`` per (kind, format, file content) in the graph itself."""

from __future__ import annotations

import time
from typing import Any

from kg.ingest.cypher import MANIFEST_FINISH, MANIFEST_GET, MANIFEST_LIST, MANIFEST_START
from kg.store import GraphStore

__all__ = ["Manifest", "run_key", "now_ms"]


def now_ms() -> int:
    return int(time.time() * 1000)


def run_key(kind: str, fmt: str, checksum: str) -> str:
    """Identity of an ingest: the same bytes ingested as the same kind and format."""
    return f"{kind}:{fmt}:{checksum}"


class Manifest:
    """Reads and records ingest runs."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def get(self, key: str) -> dict[str, Any] | None:
        rows = self.store.query(MANIFEST_GET, id=key)
        return rows[0]["run"] if rows else None

    def start(self, key: str, **props: Any) -> None:
        self.store.query(MANIFEST_START, id=key, props={**props, "started_at": now_ms()})

    def finish(self, key: str, **props: Any) -> None:
        self.store.query(MANIFEST_FINISH, id=key, props={**props, "finished_at": now_ms()})

    def runs(self) -> list[dict[str, Any]]:
        return [row["run"] for row in self.store.query(MANIFEST_LIST)]
