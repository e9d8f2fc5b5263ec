"""What a forget removed and corrected (:class:`ForgetReport`): text lines for the CLI, JSON, and the
counts the forget log keeps; it never holds the person's id."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ForgetReport"]


@dataclass
class ForgetReport:
    """What a forget removed and corrected; renders as text lines and JSON. Holds no id of the person."""

    found: bool = False
    dry_run: bool = False
    graph: dict[str, int] = field(default_factory=dict)
    aggregates: dict[str, int] = field(default_factory=dict)
    ledger: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    disk: dict[str, Any] = field(default_factory=dict)
    suppressed: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no trace of the person was left on disk (always True for a dry run)."""
        return self.dry_run or not self.disk.get("traces")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def counts(self) -> dict[str, Any]:
        """The numbers the forget log keeps (no id, no path)."""
        flat: dict[str, Any] = {"found": self.found}
        for part in ("graph", "aggregates", "ledger", "files"):
            flat.update({f"{part}.{k}": v for k, v in getattr(self, part).items()})
        flat["traces_left"] = len(self.disk.get("traces") or [])
        flat["seconds"] = self.seconds
        return flat

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        if not self.found and not any(self.ledger.values()) and not any(self.files.values()):
            head = "no such user in the graph or the ledger"
            out = [head + ("" if self.dry_run else "; they are on the forgotten list, so re-ingests skip them")]
        else:
            out = [
                f"{verb}: user node {self.graph.get('user', 0)}, "
                + ", ".join(f"{n:,} {k}" for k, n in self.graph.items() if k != "user" and n)
            ]
        if any(self.ledger.values()):
            out.append(
                f"ledger: {verb} {self.ledger.get('events', 0):,} events in {self.ledger.get('pairs', 0):,} pairs"
            )
        if any(self.aggregates.values()):
            out.append(
                "aggregates corrected: "
                + ", ".join(f"{k.replace('_', ' ')} {n:,}" for k, n in self.aggregates.items() if n)
            )
        if any(self.files.values()):
            out.append("files: " + ", ".join(f"{k.replace('_', ' ')} {n:,}" for k, n in self.files.items() if n))
        if not self.dry_run:
            if self.disk.get("compacted"):
                out.append("database log rewritten" + (" and snapshot saved" if self.disk.get("snapshot") else ""))
            else:
                out.append("external database: its own logs and backups are outside KG_HOME and were not checked")
            out += [f"database: {note}" for note in self.disk.get("notes") or []]
            out += [f"database keeps: {note}" for note in self.disk.get("stays") or []]
            traces = self.disk.get("traces") or []
            out.append(
                f"disk check: no trace left under KG_HOME ({self.disk.get('files_checked', 0):,} files)"
                if not traces
                else f"disk check: {len(traces)} file(s) still hold a trace:"
            )
            out += [f"  {t}" for t in traces]
            out += [
                f"inbox of kg schedule searched: {inbox} (copies in done/ and failed/ rewritten without them)"
                for inbox in self.disk.get("inboxes") or []
            ]
            out += [f"  {note}" for note in self.disk.get("inbox_notes") or []]
        out.append(f"done in {self.seconds:.1f} s")
        return out
