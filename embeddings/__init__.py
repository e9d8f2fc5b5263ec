"""Knowledge-graph embeddings: export triples from the graph, train with PyKEEN, write back, query.

The library API is one call per command (:mod:`kg.embeddings.workflow`): :func:`train_graph`,
:func:`write_run`, :func:`list_runs`, :func:`prune_runs`, :func:`export_graph`,
:func:`import_embeddings`, :func:`similar_edges` and :func:`similar_items`.

>>> from kg.embeddings import TrainConfig, train_triples, resolve_device
>>> resolve_device("cpu")
device(type='cpu')
"""

from kg.embeddings.coldstart import ColdStartReport, text_cold_start
from kg.embeddings.config import DEFAULT_RELATION_TYPES, TrainConfig, model_choices, resolve_model
from kg.embeddings.device import DEVICES, resolve_device, resolve_threads
from kg.embeddings.foldin import FoldInReport, fold_in
from kg.embeddings.runs import RunResult, find_run, latest_run, load_model, scan_runs
from kg.embeddings.similar import similar_items
from kg.embeddings.train import split_triples, train_triples
from kg.embeddings.workflow import (
    ExportReport,
    ImportReport,
    PruneReport,
    RunRow,
    SimilarEdgesReport,
    TrainReport,
    export_graph,
    import_embeddings,
    list_runs,
    prune_runs,
    similar_edges,
    train_graph,
    write_run,
)
from kg.embeddings.writeback import WriteStats

__all__ = [
    "ColdStartReport",
    "FoldInReport",
    "fold_in",
    "text_cold_start",
    "DEFAULT_RELATION_TYPES",
    "DEVICES",
    "ExportReport",
    "ImportReport",
    "PruneReport",
    "RunResult",
    "RunRow",
    "SimilarEdgesReport",
    "TrainConfig",
    "TrainReport",
    "WriteStats",
    "export_graph",
    "find_run",
    "import_embeddings",
    "latest_run",
    "list_runs",
    "load_model",
    "model_choices",
    "prune_runs",
    "resolve_device",
    "resolve_model",
    "resolve_threads",
    "scan_runs",
    "similar_edges",
    "similar_items",
    "split_triples",
    "train_graph",
    "train_triples",
    "write_run",
]
