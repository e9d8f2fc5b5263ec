"""Training configuration: one dataclass, validated before anything is trained.

>>> TrainConfig(model="transe", dim=32, epochs=2).validate().model
'TransE'
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from kg.foundation.errors import ConfigError
from kg.foundation.schema import BEHAVIOUR_TYPES, CATALOGUE_TYPES

__all__ = ["TrainConfig", "DEFAULT_RELATION_TYPES", "ASPECT_TYPES", "model_choices", "resolve_model"]

logger = logging.getLogger(__name__)

#: aspect edges written by the reviews pipeline, exported when present in the graph
ASPECT_TYPES: tuple[str, ...] = ("HAS_ASPECT", "CARES_ABOUT")

#: relationship types exported by default (types absent from the graph are skipped, not an error)
DEFAULT_RELATION_TYPES: tuple[str, ...] = BEHAVIOUR_TYPES + CATALOGUE_TYPES + ASPECT_TYPES


def model_choices() -> list[str]:
    """Names of every PyKEEN model the resolver knows (lower-case, normalised)."""
    from pykeen.models import model_resolver

    return sorted(model_resolver.options)


def resolve_model(name: str) -> str:
    """Canonical PyKEEN class name for ``name`` (case-insensitive); ConfigError listing choices."""
    from pykeen.models import model_resolver

    try:
        return model_resolver.lookup(name).__name__
    except (KeyError, ValueError, TypeError) as e:
        raise ConfigError(
            f"unknown model {name!r}; choose one of: {', '.join(model_choices())}", hint="e.g. --model TransE"
        ) from e


#: evaluation scores a (batch x entities x dim) tensor for translational models: keep it about this size
EVAL_TENSOR_BYTES = 256 * 2**20


@dataclasses.dataclass(kw_only=True)
class TrainConfig:
    """Hyper-parameters of one training run (any PyKEEN model by name)."""

    model: str = "TransE"
    dim: int = 64
    epochs: int = 100
    batch_size: int = 256
    lr: float = 0.01
    negatives: int = 1
    seed: int | None = None
    device: str = "auto"
    #: torch CPU threads while training; 0 = auto (free CPUs of this process, at most 4; see
    #: embeddings.device.resolve_threads). Set for the training call only and restored afterwards.
    train_threads: int = 0
    early_stopping: bool = True
    frequency: int = 10
    patience: int = 2
    relative_delta: float = 0.01
    #: triples scored at once in evaluation; 0 = auto (largest that keeps the (batch x entities x dim)
    #: score tensor within EVAL_TENSOR_BYTES, at most 256)
    eval_batch_size: int = 0
    #: at most this many test triples are ranked, and a quarter as many validation triples for early
    #: stopping (seeded samples; 0 = all). Filtered ranking scores every entity for every evaluated
    #: triple, which dominates CPU time on big graphs.
    eval_max: int = 5_000
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    relation_types: tuple[str, ...] | None = None
    model_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)

    def validate(self) -> TrainConfig:
        """Check every field; returns self with ``model`` canonicalised. Raises ConfigError."""
        self.model = resolve_model(self.model)
        checks = {
            "dim": self.dim,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "negatives": self.negatives,
            "frequency": self.frequency,
            "patience": self.patience,
        }
        for name, value in checks.items():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag} must be a positive integer, got {value!r}")
        if not isinstance(self.train_threads, int) or isinstance(self.train_threads, bool) or self.train_threads < 0:
            raise ConfigError(f"--threads must be 0 (auto) or a positive integer, got {self.train_threads!r}")
        if not isinstance(self.eval_batch_size, int) or self.eval_batch_size < 0:
            raise ConfigError(f"eval batch size must be 0 (auto) or a positive integer, got {self.eval_batch_size!r}")
        if not isinstance(self.eval_max, int) or isinstance(self.eval_max, bool) or self.eval_max < 0:
            raise ConfigError(f"--eval-max must be 0 (all) or a positive integer, got {self.eval_max!r}")
        if not self.lr > 0:
            raise ConfigError(f"--lr must be > 0, got {self.lr!r}")
        if len(self.ratios) != 3 or any(r <= 0 for r in self.ratios) or abs(sum(self.ratios) - 1.0) > 1e-6:
            raise ConfigError(f"split ratios must be three positive numbers summing to 1, got {self.ratios!r}")
        if self.seed is not None and not (0 <= int(self.seed) < 2**32):
            raise ConfigError(f"--seed must be in [0, 2**32), got {self.seed!r}")
        train, valid, test = (float(r) for r in self.ratios)  # three: checked above
        self.ratios = (train, valid, test)
        if self.relation_types is not None:
            self.relation_types = tuple(self.relation_types)
        return self

    def resolved_eval_batch_size(self, num_entities: int) -> int:
        """The evaluation batch size: the configured one, or auto-sized to the entity count."""
        if self.eval_batch_size:
            return self.eval_batch_size
        per_triple = max(1, num_entities) * self.dim * 8  # float32, x2 for complex-valued models
        return max(1, min(256, EVAL_TENSOR_BYTES // per_triple))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = dataclasses.asdict(self)
        data["ratios"] = list(self.ratios)
        data["relation_types"] = list(self.relation_types) if self.relation_types is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        if "ratios" in kwargs:
            kwargs["ratios"] = tuple(kwargs["ratios"])
        if kwargs.get("relation_types") is not None:
            kwargs["relation_types"] = tuple(kwargs["relation_types"])
        return cls(**kwargs)
