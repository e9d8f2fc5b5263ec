"""Shared bits for benchmark scripts: a private embedded server, peak memory, table printing."""

from __future__ import annotations

import resource
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kg.server import EmbeddedServer
from kg.settings import Settings

__all__ = ["bench_settings", "peak_rss_mb", "children_peak_rss_mb", "print_table"]


@contextmanager
def bench_settings(home: Path | None = None, **overrides: Any) -> Iterator[Settings]:
    """Settings on a fresh KG_HOME with its own embedded server (stopped afterwards)."""
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as tmp:
        settings = Settings(home=home or Path(tmp), pseudonym_key="bench-key", **overrides)
        server = EmbeddedServer(settings)
        server.start()
        try:
            yield settings
        finally:
            server.stop()


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MiB (VmHWM: unlike ru_maxrss it is reset by exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """Peak resident memory of the largest finished child process, MiB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(f"{v:,.1f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
                        for v in row))
    Console().print(table)
