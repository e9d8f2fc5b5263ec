"""Knowledge-graph embeddings: export triples from the graph, train with PyKEEN, write back, query.

The library API is one call per command (:mod:`kg.embeddings.workflow`): :func:`train_graph`,
:func:`write_run`, :func:`list_runs`, :func:`prune_runs`, :func:`export_graph`,
:func:`import_embeddings`, :func:`similar_edges` and :func:`similar_items`.

>>> from kg.embeddings import TrainConfig, train_triples, resolve_device
>>> resolve_device("cpu")
device(type='cpu')
"""

import importlib
from typing import Any

#: public name -> its module; imported on first use, so that kg.embeddings.runs and kg.embeddings.forget
#: (numpy only: kg forget, kg runs) work on a core install without torch and PyKEEN (the embeddings extra)
_HOMES = {
    "ColdStartReport": "coldstart",
    "text_cold_start": "coldstart",
    "warm_text_encodings": "coldstart",
    "DEFAULT_RELATION_TYPES": "config",
    "TrainConfig": "config",
    "model_choices": "config",
    "resolve_model": "config",
    "DEVICES": "device",
    "resolve_device": "device",
    "resolve_threads": "device",
    "FoldInReport": "foldin",
    "fold_in": "foldin",
    "RunResult": "runs",
    "find_run": "runs",
    "latest_run": "runs",
    "load_model": "runs",
    "scan_runs": "runs",
    "similar_items": "similar",
    "split_triples": "train",
    "train_triples": "train",
    "ExportReport": "workflow",
    "ImportReport": "workflow",
    "PruneReport": "workflow",
    "RunRow": "workflow",
    "SimilarEdgesReport": "workflow",
    "TrainReport": "workflow",
    "export_graph": "workflow",
    "import_embeddings": "workflow",
    "list_runs": "workflow",
    "prune_runs": "workflow",
    "similar_edges": "workflow",
    "train_graph": "workflow",
    "write_run": "workflow",
    "WriteStats": "writeback",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = [
    "ColdStartReport",
    "FoldInReport",
    "fold_in",
    "text_cold_start",
    "warm_text_encodings",
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
