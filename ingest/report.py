"""What one ingest did, as a typed object that renders to text lines and to JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["IngestReport"]


@dataclass
class IngestReport:
    """The outcome of ingesting one file; ``ok`` is False when the bad-row share exceeded the limit.

    >>> r = IngestReport(file="e.csv", kind="events", format="csv", run_id="x", rows_ok=9, rows_bad=1)
    >>> r.bad_ratio, r.ok
    (0.1, False)
    """

    file: str
    kind: str
    format: str
    run_id: str
    status: str = "running"
    skipped: bool = False
    rows_ok: int = 0
    rows_bad: int = 0
    rows_sparse: int = 0  # catalogue rows with an id and no other field (landed, counted in rows_ok, not bad)
    rows_forgotten: int = 0  # rows of people on the forgotten list (kg forget), skipped
    seconds: float = 0.0
    quarantine: str | None = None
    bad_reasons: dict[str, int] = field(default_factory=dict)
    max_bad_ratio: float = 0.01
    warnings: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def bad_ratio(self) -> float:
        total = self.rows_ok + self.rows_bad
        return self.rows_bad / total if total else 0.0

    @property
    def ok(self) -> bool:
        return self.bad_ratio <= self.max_bad_ratio

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            **asdict(self),
            "bad_ratio": round(self.bad_ratio, 6),
            "ok": self.ok,
            "rows_per_s": round(self.rows_ok / self.seconds, 1) if self.seconds else None,
        }

    def lines(self) -> list[str]:
        """A short human summary, one fact per line."""
        if self.skipped:
            return [f"{self.file}: already ingested ({self.rows_ok:,} rows); use --force to re-process"]
        out = [
            f"{self.file}: {self.rows_ok:,} rows ok, {self.rows_bad:,} bad ({self.bad_ratio:.2%}) "
            f"in {self.seconds:.1f} s"
        ]
        if self.rows_sparse:
            out.append(
                f"  {self.rows_sparse:,} sparse rows (an id, no title, brand, category or price) landed as products"
            )
        if self.rows_forgotten:
            out.append(f"  {self.rows_forgotten:,} rows of forgotten people skipped (--allow-forgotten loads them)")
        if self.quarantine:
            out.append(f"  bad rows in {self.quarantine}")
        out += [f"  {count:,} x {reason}" for reason, count in self.bad_reasons.items()]
        out += [f"  warning: {count:,} x {warning}" for warning, count in self.warnings.items()]
        for key, value in self.details.items():
            out.append(f"  {key.replace('_', ' ')}: {_text(value)}")
        return out


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    return str(value)
