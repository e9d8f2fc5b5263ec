"""One library call per ``kg embed`` / ``kg similar`` command, each returning a typed report.

=====================  ==========================================================
``kg embed train``     :func:`train_graph` -> :class:`TrainReport`
``kg embed write``     :func:`write_run` -> :class:`~embeddings.writeback.WriteStats`
``kg embed runs``      :func:`list_runs` -> list of :class:`RunRow`
``kg embed prune``     :func:`prune_runs` -> :class:`PruneReport`
``kg embed export``    :func:`export_graph` -> :class:`ExportReport`
``kg embed import``    :func:`import_embeddings` -> :class:`ImportReport`
``kg embed similar``   :func:`similar_edges` -> :class:`SimilarEdgesReport`
``kg similar``         :func:`kg.embeddings.similar.similar_items` (pass ``settings``)
=====================  ==========================================================

Nothing here changes global state: torch's thread count is set for the training call only,
and PyKEEN's progress bars show only when ``progress`` (a callable taking one line of text) is given.

>>> report = train_graph(store, settings, TrainConfig(model="TransE", dim=64, epochs=50))  # doctest: +SKIP
>>> print("\\n".join(report.lines()))                                                      # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kg.embeddings.config import TrainConfig
from kg.embeddings.cypher import RUNS_IN_GRAPH
from kg.embeddings.export import export_triples, write_export
from kg.embeddings.external import read_external_run
from kg.embeddings.runs import (
    INTERRUPTED,
    SUCCEEDED,
    WRITE_FAILED,
    WRITING,
    RunResult,
    check_write_complete,
    find_run,
    scan_runs,
    unfinished_write,
    utc_now,
)
from kg.embeddings.similar import graph_run_id, materialise_similar
from kg.embeddings.train import check_finite, train_triples
from kg.embeddings.writeback import WriteStats, write_back
from kg.foundation.errors import ConfigError, StoreError
from kg.foundation.locks import writer_lock
from kg.foundation.progress import Progress, step_reporter
from kg.foundation.settings import Settings
from kg.store import GraphStore

__all__ = [
    "Progress",
    "TrainReport",
    "RunRow",
    "PruneReport",
    "ExportReport",
    "ImportReport",
    "SimilarEdgesReport",
    "train_graph",
    "write_run",
    "list_runs",
    "prune_runs",
    "export_graph",
    "import_embeddings",
    "similar_edges",
]

logger = logging.getLogger(__name__)

#: receives one line of text per stage; passing one also turns PyKEEN's progress bars on

METRIC_NAMES = ("mrr", "hits_at_1", "hits_at_3", "hits_at_10")


_say = step_reporter(logger)


# -- train ------------------------------------------------------------------------------------
@dataclasses.dataclass
class TrainReport:
    """What ``kg embed train`` did: the run, its test metrics, timings and the write-back."""

    run: dict[str, Any]
    metrics: dict[str, float | None]
    seed: int | None
    triples: dict[str, int]
    seconds: dict[str, float | None]
    epochs_trained: int | None
    stopped_early: bool
    threads: int | None
    batch_size: int | None
    written: WriteStats | None = None

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (``written`` is None when the run was not written back)."""
        data = dataclasses.asdict(self)
        data["written"] = self.written.as_dict() if self.written else None
        return data

    def lines(self) -> list[str]:
        """A short human summary."""
        m = {k: (f"{v:.4f}" if isinstance(v, (int, float)) else "-") for k, v in self.metrics.items()}
        spe = self.seconds.get("per_epoch")
        out = [
            f"run {self.run_id} ({self.run['model']}, dim {self.run['dim']}, seed {self.seed}, "
            f"{self.epochs_trained} epochs{' (stopped early)' if self.stopped_early else ''}, "
            f"batch {self.batch_size}, {self.threads} thread(s)" + (f", {spe:.2f} s/epoch)" if spe else ")"),
            f"test (filtered): MRR {m['mrr']}  Hits@1 {m['hits_at_1']}  Hits@3 {m['hits_at_3']}  "
            f"Hits@10 {m['hits_at_10']}",
        ]
        if self.written is not None:
            out += self.written.lines()
        else:
            out.append(f"not written to the graph (write it with `kg embed write {self.run_id}`)")
        return out


def _train_report(run: RunResult, export_seconds: float, wall: float, written: WriteStats | None) -> TrainReport:
    m = run.metrics
    return TrainReport(
        run=run.summary(),
        metrics={k: m.get(k) for k in METRIC_NAMES},
        seed=run.config.get("seed"),
        triples=run.config.get("num_triples") or {},
        seconds={
            "export": export_seconds,
            "train": m.get("train_seconds"),
            "per_epoch": m.get("seconds_per_epoch"),
            "evaluate": m.get("evaluate_seconds"),
            "train_wall": wall,
            "write": written.seconds if written else None,
        },
        epochs_trained=m.get("epochs_trained"),
        stopped_early=bool(m.get("stopped_early")),
        threads=run.config.get("threads_resolved"),
        batch_size=run.config.get("batch_size"),
        written=written,
    )


def _note_unfinished(settings: Settings, write: bool) -> None:
    run = unfinished_write(settings.runs_dir, settings.graph)
    if run is None:
        return
    if run.active:
        raise StoreError(
            f"run {run.run_id} is being written to graph {settings.graph!r} right now",
            hint="wait until that write-back finishes, then retry",
        )
    if write:
        logger.warning(
            "the write-back of run %s did not finish (%s); this run's write-back replaces it", run.run_id, run.status
        )
    else:
        logger.warning(
            "the write-back of run %s did not finish (%s); finish it with `kg embed write %s`",
            run.run_id,
            run.status,
            run.run_id,
        )


def train_graph(
    store: GraphStore,
    settings: Settings,
    config: TrainConfig,
    *,
    progress: Progress | None = None,
    write: bool = True,
    page_size: int = 50_000,
) -> TrainReport:
    """Export the graph's triples, train and evaluate ``config``, save the run, write it back (unless
    ``write=False``). Nonsense configs raise ConfigError before anything is exported."""
    config.validate()
    _note_unfinished(settings, write)
    _say(progress, "exporting triples")
    started = time.perf_counter()
    triples = export_triples(store, relation_types=config.relation_types, page_size=page_size)
    export_seconds = time.perf_counter() - started
    _say(
        progress,
        f"exported {triples.num_triples:,} triples, {triples.num_entities:,} entities, "
        f"{triples.num_relations} relation types in {export_seconds:.2f} s; training {config.model}",
    )
    source = {**triples.stats, "export_seconds": export_seconds, "graph": settings.graph}
    t0 = time.perf_counter()
    run = train_triples(
        triples,
        config,
        runs_dir=settings.runs_dir,
        backend=store.version(),
        source=source,
        progress=progress is not None,
    )
    wall = time.perf_counter() - t0
    written = write_run(store, settings, run, progress=progress) if write else None
    return _train_report(run, export_seconds, wall, written)


# -- write --------------------------------------------------------------------------------------
def write_run(
    store: GraphStore, settings: Settings, run: RunResult | str | None = None, *, progress: Progress | None = None
) -> WriteStats:
    """Write run ``run`` (a RunResult, an id or unique prefix; default the newest trained run) to the
    graph. The run is ``writing`` meanwhile and ``succeeded`` only once the write-back completed;
    an error marks it ``write_failed``, Ctrl-C/SIGTERM ``interrupted`` (a killed process reads as
    ``interrupted`` too), and re-running this finishes it."""
    if not isinstance(run, RunResult):
        run = find_run(settings.runs_dir, run)
    elif run.entity_embeddings is None:
        run.load_arrays()
    if run.status == WRITING and run.active:
        raise StoreError(
            f"run {run.run_id} is being written right now (process {run.pid})",
            hint="wait until that write-back finishes",
        )
    if run.entity_embeddings is None or not run.entity_to_id:
        raise ConfigError(f"run {run.run_id} has no entity embeddings to write")
    check_finite(run.entity_embeddings, run.entity_to_id, what="entity", run_id=run.run_id)
    check_finite(run.relation_embeddings, run.relation_to_id, what="relation", run_id=run.run_id)
    run.write = {"graph": settings.graph, "backend": store.version(), "started_at": utc_now(), "finished_at": None}
    run.mark(WRITING)
    _say(progress, f"writing run {run.run_id} to graph {settings.graph!r}")
    try:
        with writer_lock(settings, what=f"kg embed write {run.run_id}"):  # one writer per graph
            stats = write_back(
                store, run, on_batch=None if progress is None else (lambda n: progress(f"  wrote {n:,} vectors"))
            )
    except BaseException as e:
        run.mark(WRITE_FAILED if isinstance(e, Exception) else INTERRUPTED, error=e)
        raise
    run.write["finished_at"] = utc_now()
    run.mark(SUCCEEDED)
    return stats


# -- runs -----------------------------------------------------------------------------------------
@dataclasses.dataclass
class RunRow:
    """One line of ``kg embed runs``."""

    run_id: str
    status: str
    model: str
    dim: int
    created_at: str
    epochs_trained: int | None
    metrics: dict[str, float | None]
    entities: int | None
    #: this run's vectors are the ones on most embedded nodes of the graph (None: graph not asked)
    in_graph: bool | None
    #: nodes of the graph whose ``embedding_run`` is this run (None: graph not asked)
    graph_nodes: int | None
    #: graph of the last write-back of this run (None: never written)
    written_to: str | None
    error: str | None
    path: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        """One line: ``*`` marks the run whose vectors are in the graph."""
        mark = "*" if self.in_graph else " "
        mrr = self.metrics.get("mrr")
        mrr_text = f"{mrr:.4f}" if isinstance(mrr, (int, float)) else "-"
        epochs = "-" if self.epochs_trained is None else str(self.epochs_trained)
        line = (
            f"{mark} {self.run_id}  {self.status:<12} {self.model:<12} dim {self.dim:<4} epochs {epochs:<4} "
            f"entities {self.entities}  MRR {mrr_text}"
        )
        if self.status in (WRITE_FAILED, INTERRUPTED) and self.written_to:
            line += f"  (finish: kg embed write {self.run_id})"
        return [line]


def _graph_runs(store: GraphStore | None) -> dict[str, int] | None:
    if store is None:
        return None
    return {str(r["run"]): int(r["nodes"]) for r in store.query(RUNS_IN_GRAPH)}


def list_runs(settings: Settings, store: GraphStore | None = None) -> list[RunRow]:
    """Every run under ``settings.runs_dir``, newest first; with ``store``, which are in the graph."""
    in_graph = _graph_runs(store)
    current = max(in_graph, key=in_graph.__getitem__) if in_graph else None
    rows = []
    for run in scan_runs(settings.runs_dir):
        rows.append(
            RunRow(
                run_id=run.run_id,
                status=run.status,
                model=run.model,
                dim=run.dim,
                created_at=run.created_at,
                epochs_trained=run.metrics.get("epochs_trained"),
                metrics={k: run.metrics.get(k) for k in METRIC_NAMES},
                entities=run.config.get("num_entities"),
                in_graph=None if in_graph is None else run.run_id == current,
                graph_nodes=None if in_graph is None else in_graph.get(run.run_id, 0),
                written_to=(run.write or {}).get("graph"),
                error=run.error,
                path=str(run.path),
            )
        )
    return rows


@dataclasses.dataclass
class PruneReport:
    """What ``kg embed prune`` deleted (or would delete, with ``dry_run``) and what it kept, and why."""

    deleted: list[str]
    kept: list[str]
    protected: dict[str, str]
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        """A short human summary."""
        verb = "would delete" if self.dry_run else "deleted"
        out = [f"{verb} {len(self.deleted)} run(s), kept {len(self.kept)}"]
        out += [f"  {verb}: {r}" for r in self.deleted]
        out += [f"  kept {r}: {why}" for r, why in self.protected.items()]
        return out


def _protected(runs: list[RunResult], graph_runs: dict[str, int], settings: Settings) -> dict[str, str]:
    unfinished = unfinished_write(settings.runs_dir, settings.graph)
    reasons: dict[str, str] = {}
    for run in runs:
        if graph_runs.get(run.run_id):
            reasons[run.run_id] = f"vectors on {graph_runs[run.run_id]:,} nodes of the graph"
        elif run.active:
            reasons[run.run_id] = f"{run.status} (process {run.pid})"
        elif unfinished is not None and run.run_id == unfinished.run_id:
            reasons[run.run_id] = "its write-back did not finish"
    return reasons


def prune_runs(settings: Settings, store: GraphStore, *, keep: int, dry_run: bool = False) -> PruneReport:
    """Delete all but the ``keep`` newest runs. Never deleted: a run with vectors on any node of the
    graph, a run being trained or written, and a run whose write-back did not finish."""
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
        raise ConfigError(f"--keep must be 0 or a positive integer, got {keep!r}")
    runs = scan_runs(settings.runs_dir)
    protected = _protected(runs, _graph_runs(store) or {}, settings)
    doomed = [r for r in runs[keep:] if r.run_id not in protected]
    root = Path(settings.runs_dir).resolve()
    for run in doomed:
        if dry_run:
            continue
        if run.path.resolve().parent != root:  # pragma: no cover - scan_runs only yields children
            raise StoreError(f"refusing to delete {run.path}: not a run folder of {root}")
        shutil.rmtree(run.path)
        logger.info("deleted run %s", run.run_id)
    deleted = {r.run_id for r in doomed}
    return PruneReport(
        deleted=[r.run_id for r in doomed],
        kept=[r.run_id for r in runs if r.run_id not in deleted],
        protected={k: v for k, v in protected.items() if k in {r.run_id for r in runs[keep:]}},
        dry_run=dry_run,
    )


# -- export / import -------------------------------------------------------------------------------
@dataclasses.dataclass
class ExportReport:
    """What ``kg embed export`` wrote (``manifest`` is also in ``out_dir/manifest.json``)."""

    out_dir: str
    manifest: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the manifest plus ``out_dir``."""
        return {**self.manifest, "out_dir": self.out_dir}

    def lines(self) -> list[str]:
        """A short human summary."""
        m = self.manifest
        return [
            f"wrote {m['num_triples']:,} triples, {m['num_entities']:,} entities, {m['num_relations']} relations "
            f"to {self.out_dir} ({m['format']})"
        ]


def export_graph(
    store: GraphStore,
    out_dir: Path,
    *,
    fmt: str = "tsv",
    relation_types: Iterable[str] | None = None,
    seed: int = 0,
    dim: int = 64,
    settings: Settings | None = None,
) -> ExportReport:
    """Write the graph's triples and id maps for PyTorch-BigGraph (``pbg``) or DGL-KE (``tsv``).

    With ``settings`` the folder is recorded in ``KG_HOME/exports.json``, so ``kg forget`` scrubs it too."""
    triples = export_triples(store, relation_types=relation_types)
    manifest = write_export(triples, Path(out_dir), fmt=fmt, seed=seed, dim=dim)
    if settings is not None:
        from kg.embeddings.forget import record_export

        record_export(settings.home, Path(out_dir))
    return ExportReport(out_dir=str(out_dir), manifest=manifest)


@dataclasses.dataclass
class ImportReport:
    """What ``kg embed import`` did: the new run and its write-back (None with ``write=False``)."""

    run: dict[str, Any]
    written: WriteStats | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"run": self.run, "written": self.written.as_dict() if self.written else None}

    def lines(self) -> list[str]:
        """A short human summary."""
        out = [f"imported {self.run['entities']:,} vectors (dim {self.run['dim']}) as run {self.run['run_id']}"]
        return out + (self.written.lines() if self.written else [])


def import_embeddings(
    store: GraphStore | None,
    settings: Settings,
    src: Path,
    *,
    maps_dir: Path | None = None,
    name: str | None = None,
    write: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Import PyTorch-BigGraph / DGL-KE vectors from ``src`` as a run and (unless ``write=False``) write
    it back. ``store`` may be None when ``write=False``."""
    run = read_external_run(src, settings.runs_dir, maps_dir=maps_dir, name=name)
    written = None
    if write:
        if store is None:
            raise ValueError("import_embeddings: a store is needed to write the run back (or pass write=False)")
        written = write_run(store, settings, run, progress=progress)
    return ImportReport(run=run.summary(), written=written)


# -- SIMILAR_TO edges ----------------------------------------------------------------------------
@dataclasses.dataclass
class SimilarEdgesReport:
    """What ``kg embed similar`` wrote."""

    run_id: str
    products: int
    k: int
    edges: int
    deleted: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        """A short human summary."""
        return [
            f"{self.edges:,} SIMILAR_TO edges for {self.products:,} products (run {self.run_id}, top {self.k}); "
            f"{self.deleted:,} old edges removed"
        ]


def similar_edges(
    store: GraphStore, settings: Settings, *, k: int = 10, run_id: str | None = None
) -> SimilarEdgesReport:
    """Replace every SIMILAR_TO edge by the top ``k`` per product of ``run_id`` (default: the run in the graph)."""
    check_write_complete(settings.runs_dir, settings.graph)
    run = find_run(settings.runs_dir, run_id or graph_run_id(store))
    with writer_lock(settings, what="kg embed similar"):
        return SimilarEdgesReport(**materialise_similar(store, run, k=k))
