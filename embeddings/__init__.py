"""Knowledge-graph embeddings: export triples from the graph, train with PyKEEN, write back, query.

>>> from embeddings import TrainConfig, train_triples, resolve_device
>>> resolve_device("cpu")
device(type='cpu')
"""

from embeddings.config import DEFAULT_RELATION_TYPES, TrainConfig, model_choices, resolve_model
from embeddings.device import DEVICES, resolve_device
from embeddings.runs import RunResult, find_run, latest_run, list_runs, load_model
from embeddings.train import split_triples, train_triples

__all__ = [
    "DEFAULT_RELATION_TYPES",
    "DEVICES",
    "RunResult",
    "TrainConfig",
    "find_run",
    "latest_run",
    "list_runs",
    "load_model",
    "model_choices",
    "resolve_device",
    "resolve_model",
    "split_triples",
    "train_triples",
]
