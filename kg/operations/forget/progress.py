"""The record of a forget in progress (``KG_HOME/privacy/forget-pending.json``), so that one interrupted
at any step is finished by running it again and corrects nothing twice."""

from __future__ import annotations

import json
from typing import Any

from kg.foundation.settings import Settings


class _Progress:
    """What a forget of one person gathered before changing anything, and which of its non-repeatable
    corrections (decrements) are done: ``KG_HOME/privacy/forget-pending.json`` (owner-only), keyed by the
    person's forgotten-list token (never the pseudonym; product ids and segment numbers only). A forget
    interrupted at any point is resumed by running it again: it reuses what was gathered (the graph no
    longer holds it) and skips the decrements already made; the entry goes when the forget completes."""

    def __init__(self, settings: Settings, token: str) -> None:
        self.path = settings.home / "privacy" / "forget-pending.json"
        self.token = token
        try:
            self._all: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._all = {}
        self.state: dict[str, Any] | None = self._all.get(token)

    def _save(self) -> None:
        from kg.foundation.home import private_dir, write_private

        private_dir(self.path.parent)
        if self._all:
            write_private(self.path, json.dumps(self._all, sort_keys=True))
        else:
            self.path.unlink(missing_ok=True)

    def start(self, seen: dict[str, Any], positive: list[str], ledger: dict[str, int]) -> None:
        state = {
            "seen": {**seen, "positive": sorted(seen["positive"])},
            "positive": positive,
            "ledger": ledger,
            "done": {},
        }
        self._all[self.token] = self.state = state
        self._save()

    def resumed(self) -> tuple[dict[str, Any], list[str], dict[str, int]]:
        assert self.state is not None
        seen = dict(self.state["seen"])
        seen["positive"] = set(seen["positive"])
        seen["segments"] = [(int(segment), run) for segment, run in seen["segments"]]
        return seen, list(self.state["positive"]), dict(self.state["ledger"])

    def done(self, step: str) -> Any:
        return None if self.state is None else self.state["done"].get(step)

    def mark(self, step: str, value: Any = True) -> None:
        if self.state is not None:
            self.state["done"][step] = value
            self._save()

    def finish(self) -> None:
        if self._all.pop(self.token, None) is not None or self.path.exists():
            self._save()
