"""The quarantine: bad input rows as JSON lines (source, line, reason, raw) under ``KG_HOME/quarantine``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import IO

from ingest.records import BadRow

__all__ = ["Quarantine"]

_MAX_RAW = 10_000


class Quarantine:
    """Collects the bad rows of one ingest of one file; the file is rewritten on each run."""

    def __init__(self, path: Path, source: Path) -> None:
        self.path = path
        self.source = str(source)
        self.count = 0
        self.reasons: Counter[str] = Counter()
        self._handle: IO[str] | None = None
        path.unlink(missing_ok=True)

    def add(self, bad: BadRow) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        record = {"source": self.source, "line": bad.line, "reason": bad.reason, "raw": bad.raw[:_MAX_RAW]}
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1
        self.reasons[bad.reason.split(":")[0][:60]] += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
