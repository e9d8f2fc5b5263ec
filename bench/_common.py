"""Shared bits for benchmark scripts: a private embedded server, peak memory, table printing, --json output."""

from __future__ import annotations

import json
import resource
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kg.foundation.settings import Settings
from kg.store.falkordb_server import EmbeddedServer

__all__ = [
    "bare_pipeline",
    "bare_query",
    "send_bare_events",
    "bench_settings",
    "peak_rss_mb",
    "children_peak_rss_mb",
    "process_usage",
    "embedded_server_usage",
    "dir_bytes",
    "print_table",
    "Report",
    "add_json_flag",
]


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


def process_usage(pid: int | None) -> tuple[float | None, float | None]:
    """(peak resident memory (VmHWM) in MiB, user + system CPU seconds so far) of process ``pid`` (e.g. a
    server); (None, None) when it cannot be read."""
    import os

    peak = cpu = None
    if not pid:
        return peak, cpu
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = round(int(line.split()[1]) / 1024, 1)
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        pass
    return peak, cpu


def embedded_server_usage(settings: Settings) -> tuple[float | None, float | None]:
    """:func:`process_usage` of the embedded server of ``settings``."""
    return process_usage(EmbeddedServer(settings).status().get("pid"))


def dir_bytes(path: Path) -> int:
    """Bytes of every file under ``path`` (0 when it does not exist)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(
            *(f"{v:,.1f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v) for v in row)
        )
    Console().print(table)


def add_json_flag(parser: Any) -> None:
    """``--json``: print one JSON object with every table instead of rich tables."""
    parser.add_argument("--json", action="store_true", help="print one JSON object with the tables (no rich output)")


class Report:
    """Collects a bench's tables: printed as rich tables at once, or as one JSON object by :meth:`emit`.

    >>> report = Report("ingest", as_json=True, params={"events": 10})
    >>> report.table("t", ["a", "b"], [(1, 2.5)])
    >>> report.emit()  # doctest: +NORMALIZE_WHITESPACE
    {"bench": "ingest", "params": {"events": 10},
     "tables": [{"title": "t", "columns": ["a", "b"], "rows": [{"a": 1, "b": 2.5}]}], "notes": []}
    """

    def __init__(self, bench: str, *, as_json: bool, params: dict[str, Any] | None = None, printer: Any = None) -> None:
        self.bench, self.as_json = bench, as_json
        self.printer = printer or print_table
        self.params = dict(params or {})
        self.tables: list[dict[str, Any]] = []
        self.notes: list[str] = []

    @classmethod
    def from_args(cls, bench: str, args: Any, *names: str, printer: Any = None, **params: Any) -> Report:
        """The report of a bench run with the command line ``args`` (its ``--json`` flag): its params are the
        options ``names`` (values as parsed; paths are written as text) and then ``params``.

        >>> import argparse
        >>> Report.from_args("b", argparse.Namespace(json=True, runs=3, seed=7), "runs", "seed", cpus=2).params
        {'runs': 3, 'seed': 7, 'cpus': 2}
        """
        chosen = {name: getattr(args, name) for name in names}
        return cls(bench, as_json=args.json, params={**chosen, **params}, printer=printer)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], **extra: Any) -> None:
        """Add a table (``extra``: machine-readable details kept only in the JSON)."""
        self.tables.append(
            {
                "title": title,
                "columns": list(columns),
                "rows": [dict(zip(columns, row, strict=True)) for row in rows],
                **extra,
            }
        )
        if not self.as_json:
            self.printer(title, list(columns), [list(row) for row in rows])

    def note(self, text: str) -> None:
        """A line of text: printed now (stdout), or kept in the JSON's ``notes``."""
        self.notes.append(text)
        if not self.as_json:
            print(text)

    def log(self, text: str) -> None:
        """Progress for a human: always on stderr, never in the JSON."""
        print(text, file=sys.stderr, flush=True)

    def emit(self) -> None:
        """In JSON mode, print the one JSON object (stdout); otherwise nothing left to print."""
        if self.as_json:
            print(
                json.dumps(
                    {"bench": self.bench, "params": self.params, "tables": self.tables, "notes": self.notes},
                    default=str,
                )
            )


def send_bare_events(store: Any, events: Path, batch: int, query: str) -> None:
    """Send a synthetic events csv through ``query`` (``UNWIND $rows ...``) in batches of ``batch`` raw rows
    (user, item, type, at): the bare baseline kg's ingest is compared with."""
    import csv

    rows: list[dict[str, Any]] = []
    with open(events, newline="") as handle:
        for record in csv.DictReader(handle):
            rows.append(
                {
                    "user": record["user_id"],
                    "item": record["item_id"],
                    "type": record["event_type"],
                    "at": int(record["timestamp"]),
                }
            )
            if len(rows) == batch:
                store.execute(query, {"rows": rows})
                rows = []
    if rows:
        store.execute(query, {"rows": rows})


def bare_pipeline(
    config: Any, training: Any, validation: Any, testing: Any, *, eval_batch: int, filters: Any = None
) -> Any:
    """Bare ``pykeen.pipeline.pipeline`` with the hyper-parameters of ``config`` (a ``kg.embeddings.TrainConfig``):
    what ``train_triples`` does, written directly against PyKEEN (Adam, basic negative sampling), evaluated in
    batches of ``eval_batch``, with ``filters`` (mapped triples) added to the filter if given; its PipelineResult."""
    from pykeen.pipeline import pipeline

    evaluation: dict[str, Any] = {"batch_size": eval_batch}
    if filters is not None:
        evaluation["additional_filter_triples"] = filters

    return pipeline(
        training=training,
        validation=validation,
        testing=testing,
        model=config.model,
        model_kwargs={"embedding_dim": config.dim},
        optimizer="adam",
        optimizer_kwargs={"lr": config.lr},
        negative_sampler="basic",
        negative_sampler_kwargs={"num_negs_per_pos": config.negatives},
        training_kwargs={"batch_size": config.batch_size, "use_tqdm_batch": False},
        epochs=config.epochs,
        evaluator_kwargs={"batch_size": eval_batch},
        evaluation_kwargs=evaluation,
        random_seed=config.seed,
        device=config.device if config.device != "auto" else None,
        use_tqdm=False,
    )


def bare_query(user: str = "User", product: str = "Product", rel: str = "EVENT") -> str:
    """The bare baseline: a plain ``UNWIND ... MERGE`` of raw events (portable Cypher, no validation,
    pseudonyms, ledger or idempotency), counting repeats on one relationship per (user, item, type)."""
    return (
        f"UNWIND $rows AS r\nMERGE (u:{user} {{id: r.user}})\nMERGE (p:{product} {{id: r.item}})\n"
        f"MERGE (u)-[e:{rel} {{type: r.type}}]->(p)\nSET e.count = coalesce(e.count, 0) + 1, e.last_at = r.at\n"
    )
