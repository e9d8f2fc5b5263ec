"""Training runs on disk: ``KG_HOME/runs/<id>/``, one :class:`RunResult` per run.

Layout of a run directory (written by :meth:`RunResult.save`)::

    status.json              {"run_id", "status", "created_at", "finished_at", "error", "pid", "host", "write"}
    config.json              resolved TrainConfig (seed included) + device, triple counts, source
    versions.json            kg, pykeen, torch, numpy, python, backend
    metrics.json             mrr, hits_at_1, hits_at_3, hits_at_10 (filtered, test split) + timings + detail
    entity_to_id.tsv.gz      "id<TAB>label" per entity, label = "Label:key" (\\, TAB, LF escaped)
    relation_to_id.tsv.gz    "id<TAB>relation type"
    entity_embeddings.npy    float32 [num_entities, dim]   (complex models: real parts then imaginary parts)
    relation_embeddings.npy  float32 [num_relations, rdim] (absent when the model has none)
    model.pt + model.json    PyKEEN state_dict and what rebuilds it (see :func:`load_model`)
    triples.npz              mapped train/validation/test id triples

Status (``status.json``): ``running`` (training) -> ``trained`` (vectors saved) -> ``writing``
(write-back in progress) -> ``succeeded`` (written completely); or ``failed`` (training),
``write_failed`` (write-back raised) and ``interrupted`` (stopped mid-training or mid-write, or
its process died: a ``running``/``writing`` status whose process on this host is gone reads as
``interrupted``). ``write`` records the last write-back: ``{graph, backend, started_at, finished_at}``.

>>> run = latest_run(Path("/nonexistent"))  # None when there are no runs
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import gzip
import json
import logging
import os
import platform
import secrets
from pathlib import Path
from typing import Any

import numpy as np

from kg.foundation.errors import ConfigError, StoreError

__all__ = [
    "RunResult",
    "scan_runs",
    "last_write",
    "unfinished_write",
    "check_write_complete",
    "one_line",
    "pid_alive",
    "new_run_id",
    "utc_now",
    "latest_run",
    "find_run",
    "read_id_map",
    "write_id_map",
    "escape_label",
    "unescape_label",
    "load_model",
]

logger = logging.getLogger(__name__)


def new_run_id() -> str:
    """A sortable, unique run id such as ``20251123T093012Z-3fa2b1``."""
    now = _dt.datetime.now(_dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def utc_now() -> str:
    """Current UTC time, ISO 8601 with microseconds."""
    return _now()


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def escape_label(label: str) -> str:
    r"""Make a label safe for one TSV field (``\``, TAB, CR, LF escaped)."""
    return label.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def unescape_label(text: str) -> str:
    """Inverse of :func:`escape_label`."""
    out: list[str] = []
    it = iter(text)
    for ch in it:
        if ch == "\\":
            nxt = next(it, "")
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(nxt, "\\" + nxt))
        else:
            out.append(ch)
    return "".join(out)


def write_id_map(path: Path, labels: list[str] | np.ndarray, *, header: str = "id\tlabel") -> None:
    """Write ``id<TAB>label`` lines (gzip when ``path`` ends in .gz); ids are list positions."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="\n") as fh:
        if header:
            fh.write(header + "\n")
        for i, label in enumerate(labels):
            fh.write(f"{i}\t{escape_label(str(label))}\n")


def read_id_map(path: Path) -> dict[str, int]:
    """Read a file written by :func:`write_id_map` (header optional) into label -> id."""
    opener = gzip.open if path.suffix == ".gz" else open
    mapping: dict[str, int] = {}
    with opener(path, "rt", encoding="utf-8", newline="\n") as fh:
        for n, line in enumerate(fh):
            line = line.rstrip("\n")
            if not line:
                continue
            first, _, rest = line.partition("\t")
            if n == 0 and not first.isdigit():
                continue  # header
            mapping[unescape_label(rest)] = int(first)
    return mapping


def _labels_in_id_order(mapping: dict[str, int]) -> list[str]:
    labels = [""] * len(mapping)
    for label, i in mapping.items():
        labels[i] = label
    return labels


#: status values (see the module docstring)
RUNNING, TRAINED, WRITING, SUCCEEDED = "running", "trained", "writing", "succeeded"
FAILED, WRITE_FAILED, INTERRUPTED = "failed", "write_failed", "interrupted"
#: statuses of a process at work (read as ``interrupted`` once that process is gone)
ACTIVE: frozenset[str] = frozenset({RUNNING, WRITING})


def _host() -> str:
    return platform.node() or "localhost"


def pid_alive(pid: int | None, host: str | None) -> bool | None:
    """Whether process ``pid`` on ``host`` still runs (None when it cannot be told: other host, no pid)."""
    if not pid or host != _host():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return None
    return True


@dataclasses.dataclass(kw_only=True)
class RunResult:
    """Everything one run produced; :meth:`save` writes it, :meth:`load` reads it back."""

    run_id: str
    path: Path
    config: dict[str, Any]
    status: str = RUNNING
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    versions: dict[str, Any] = dataclasses.field(default_factory=dict)
    entity_to_id: dict[str, int] = dataclasses.field(default_factory=dict, repr=False)
    relation_to_id: dict[str, int] = dataclasses.field(default_factory=dict, repr=False)
    entity_embeddings: np.ndarray | None = dataclasses.field(default=None, repr=False)
    relation_embeddings: np.ndarray | None = dataclasses.field(default=None, repr=False)
    created_at: str = dataclasses.field(default_factory=_now)
    finished_at: str | None = None
    error: str | None = None
    #: the process working on the run (training or writing), to tell a live run from a dead one
    pid: int | None = None
    host: str | None = None
    #: the last write-back: graph, backend, started_at, finished_at
    write: dict[str, Any] | None = None

    # -- properties -------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return str(self.config.get("model", "?"))

    @property
    def dim(self) -> int:
        """Length of the written entity vectors (2 x dim for complex-valued models)."""
        if self.entity_embeddings is not None:
            return int(self.entity_embeddings.shape[1])
        return int(self.config.get("vector_dim") or self.config.get("dim") or 0)

    @property
    def succeeded(self) -> bool:
        """Trained and written to a graph completely."""
        return self.status == SUCCEEDED

    @property
    def has_vectors(self) -> bool:
        """Training finished and saved its entity vectors (whatever became of the write-back)."""
        return self.entity_embeddings is not None or (self.path / "entity_embeddings.npy").exists()

    @property
    def active(self) -> bool:
        """A process is training or writing this run right now (as far as this host can tell)."""
        return self.status in ACTIVE and pid_alive(self.pid, self.host) is not False

    def summary(self) -> dict[str, Any]:
        """Small JSON-ready description (for ``kg embed runs``)."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "model": self.model,
            "dim": self.dim,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "entities": len(self.entity_to_id) or self.config.get("num_entities"),
            "relations": len(self.relation_to_id) or self.config.get("num_relations"),
            "epochs_trained": self.metrics.get("epochs_trained"),
            "mrr": self.metrics.get("mrr"),
            "hits_at_10": self.metrics.get("hits_at_10"),
            "error": self.error,
            "path": str(self.path),
        }

    # -- status transitions -----------------------------------------------------------------
    def mark(self, status: str, *, error: BaseException | str | None = None, finished: bool = False) -> None:
        """Set ``status`` (and this process as the one at work while it is active) and save status.json."""
        self.status = status
        self.pid, self.host = (os.getpid(), _host()) if status in ACTIVE else (None, None)
        if error is not None:
            self.error = error if isinstance(error, str) else one_line(error)
        elif status not in (FAILED, WRITE_FAILED, INTERRUPTED):
            self.error = None
        if finished:
            self.finished_at = _now()
        self.save_status()

    # -- persistence ------------------------------------------------------------------------
    def save_status(self) -> None:
        """Write status.json only (cheap; used at every status change)."""
        self.path.mkdir(parents=True, exist_ok=True)
        _write_json(
            self.path / "status.json",
            {
                "run_id": self.run_id,
                "status": self.status,
                "created_at": self.created_at,
                "finished_at": self.finished_at,
                "error": self.error,
                "pid": self.pid,
                "host": self.host,
                "write": self.write,
            },
        )

    def save(self) -> Path:
        """Write the whole run directory; returns its path."""
        self.path.mkdir(parents=True, exist_ok=True)
        _write_json(self.path / "config.json", self.config)
        _write_json(self.path / "versions.json", self.versions)
        _write_json(self.path / "metrics.json", self.metrics)
        if self.entity_to_id:
            write_id_map(self.path / "entity_to_id.tsv.gz", _labels_in_id_order(self.entity_to_id))
        if self.relation_to_id:
            write_id_map(self.path / "relation_to_id.tsv.gz", _labels_in_id_order(self.relation_to_id))
        if self.entity_embeddings is not None:
            np.save(self.path / "entity_embeddings.npy", np.ascontiguousarray(self.entity_embeddings, np.float32))
        if self.relation_embeddings is not None:
            np.save(self.path / "relation_embeddings.npy", np.ascontiguousarray(self.relation_embeddings, np.float32))
        self.save_status()
        return self.path

    @classmethod
    def load(cls, path: Path, *, arrays: bool = True) -> RunResult:
        """Read a run directory (``arrays=False`` skips id maps and embeddings).

        A ``running``/``writing`` status whose process on this host is gone reads as ``interrupted``.
        """
        path = Path(path)
        status = _read_json(path / "status.json")
        if not status:
            raise ConfigError(f"not a run directory: {path}")
        run = cls(
            run_id=status.get("run_id", path.name),
            path=path,
            config=_read_json(path / "config.json"),
            status=status.get("status", "unknown"),
            metrics=_read_json(path / "metrics.json"),
            versions=_read_json(path / "versions.json"),
            created_at=status.get("created_at", ""),
            finished_at=status.get("finished_at"),
            error=status.get("error"),
            pid=status.get("pid"),
            host=status.get("host"),
            write=status.get("write"),
        )
        if run.status in ACTIVE and pid_alive(run.pid, run.host) is False:
            stage = "write-back" if run.status == WRITING else "training"
            run.error = run.error or f"the {stage} process ({run.pid}) stopped before it finished"
            run.status = INTERRUPTED
        if arrays:
            run.load_arrays()
        return run

    def load_arrays(self) -> RunResult:
        """Read the id maps and embeddings that exist (self, for chaining)."""
        if (self.path / "entity_to_id.tsv.gz").exists():
            self.entity_to_id = read_id_map(self.path / "entity_to_id.tsv.gz")
        if (self.path / "relation_to_id.tsv.gz").exists():
            self.relation_to_id = read_id_map(self.path / "relation_to_id.tsv.gz")
        if (self.path / "entity_embeddings.npy").exists():
            self.entity_embeddings = np.load(self.path / "entity_embeddings.npy")
        if (self.path / "relation_embeddings.npy").exists():
            self.relation_embeddings = np.load(self.path / "relation_embeddings.npy")
        return self


def one_line(error: BaseException) -> str:
    """``Type: message`` of ``error``, first line, at most 500 characters."""
    text = f"{type(error).__name__}: {error}".strip()
    return (text.splitlines() or [text])[0][:500]


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def scan_runs(runs_dir: Path) -> list[RunResult]:
    """Every run under ``runs_dir``, newest first (metadata only, no arrays)."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    runs = []
    for child in runs_dir.iterdir():
        if child.is_dir() and (child / "status.json").exists():
            try:
                runs.append(RunResult.load(child, arrays=False))
            except (ValueError, OSError) as e:  # a half-written directory is skipped, not fatal
                logger.warning("skipping unreadable run %s: %s", child, e)
    runs.sort(key=lambda r: (r.created_at, r.run_id), reverse=True)
    return runs


def latest_run(runs_dir: Path, *, arrays: bool = True) -> RunResult | None:
    """The newest run whose training finished (it has vectors), or None."""
    for run in scan_runs(runs_dir):
        if run.has_vectors and run.status != RUNNING:
            return run.load_arrays() if arrays else run
    return None


def find_run(runs_dir: Path, run_id: str | None = None, *, arrays: bool = True) -> RunResult:
    """Run ``run_id`` (a unique prefix is enough) or the newest trained one; ConfigError if none.

    The run must have vectors (training finished); its write-back status does not matter.
    """
    if run_id is None:
        run = latest_run(runs_dir, arrays=arrays)
        if run is None:
            raise ConfigError(f"no successful training run in {runs_dir}", hint="run `kg embed train` first")
        return run
    matches = [r for r in scan_runs(runs_dir) if r.run_id == run_id or r.run_id.startswith(run_id)]
    if not matches:
        raise ConfigError(f"no run {run_id!r} in {runs_dir}", hint="see `kg embed runs`")
    if len(matches) > 1 and not any(r.run_id == run_id for r in matches):
        raise ConfigError(f"run id prefix {run_id!r} is ambiguous: {', '.join(r.run_id for r in matches)}")
    run = next((r for r in matches if r.run_id == run_id), matches[0])
    if not run.has_vectors:
        raise ConfigError(
            f"run {run.run_id} has status {run.status!r} and no vectors",
            hint="see `kg embed runs`; train again with `kg embed train`",
        )
    return run.load_arrays() if arrays else run


def last_write(runs_dir: Path, graph: str) -> RunResult | None:
    """The run whose write-back to ``graph`` started last (whatever its outcome), or None."""
    writes = [r for r in scan_runs(runs_dir) if (r.write or {}).get("graph") == graph]
    return max(writes, key=lambda r: str((r.write or {}).get("started_at") or ""), default=None)


def unfinished_write(runs_dir: Path, graph: str) -> RunResult | None:
    """The last write-back to ``graph`` when it has not completed (in progress, failed or interrupted)."""
    run = last_write(runs_dir, graph)
    return run if run is not None and run.status != SUCCEEDED else None


def check_write_complete(runs_dir: Path, graph: str) -> None:
    """StoreError (with the command that finishes it) when the last write-back to ``graph`` did not complete."""
    run = unfinished_write(runs_dir, graph)
    if run is None:
        return
    if run.active:
        raise StoreError(
            f"run {run.run_id} is being written to graph {graph!r} right now (process {run.pid})",
            hint="wait until `kg embed write` / `kg embed train` finishes, then retry",
        )
    reason = f": {run.error}" if run.error else ""
    raise StoreError(
        f"the write-back of run {run.run_id} to graph {graph!r} did not finish ({run.status}{reason}); "
        "the graph holds a partial write",
        hint=f"finish it with `kg embed write {run.run_id}`",
    )


def load_model(run: RunResult, *, device: str = "cpu") -> Any:
    """Rebuild the PyKEEN model of ``run`` from model.json + state_dict (no pickle needed)."""
    import torch
    from pykeen.models import model_resolver
    from pykeen.triples import CoreTriplesFactory

    spec = _read_json(run.path / "model.json")
    if not spec or not (run.path / "model.pt").exists():
        raise ConfigError(f"run {run.run_id} has no saved model (imported embeddings?)")
    mapped = np.load(run.path / "triples.npz")["train"]
    factory = CoreTriplesFactory.create(
        mapped_triples=torch.as_tensor(mapped, dtype=torch.long),
        num_entities=spec["num_entities"],
        num_relations=spec["num_relations"],
        create_inverse_triples=spec.get("create_inverse_triples", False),
    )
    model = model_resolver.make(spec["model"], spec.get("model_kwargs") or {}, triples_factory=factory)
    state = torch.load(run.path / "model.pt", map_location=device, weights_only=True)
    model.load_state_dict(state)
    return model.to(device)
