"""Triples as PyKEEN wants them: integer (head, relation, tail) rows plus the two id maps.

Entity labels are stable keys ``Label:key`` (``Product:B00ABC``), so they survive re-exports;
integer ids follow the sorted labels, so the same graph always gives the same ids.

>>> ts = TripleSet.from_labeled([["User:u1", "PURCHASED", "Product:p1"]])
>>> ts.entity_labels, ts.relation_labels, ts.mapped.tolist()
(['Product:p1', 'User:u1'], ['PURCHASED'], [[1, 0, 0]])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["TripleSet", "entity_label", "split_entity_label"]


def entity_label(label: str, key: Any) -> str:
    """``Label:key``, the stable name of a node."""
    return f"{label}:{key}"


def split_entity_label(text: str) -> tuple[str, str]:
    """Inverse of :func:`entity_label` (the key may itself contain ':')."""
    label, sep, key = text.partition(":")
    if not sep:
        raise ValueError(f"not an entity label (Label:key): {text!r}")
    return label, key


@dataclasses.dataclass(kw_only=True)
class TripleSet:
    """Unique, sorted integer triples with their entity and relation labels (index = id)."""

    entity_labels: list[str]
    relation_labels: list[str]
    mapped: np.ndarray  # int64 (n, 3): head id, relation id, tail id
    stats: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def num_triples(self) -> int:
        return int(self.mapped.shape[0])

    @property
    def num_entities(self) -> int:
        return len(self.entity_labels)

    @property
    def num_relations(self) -> int:
        return len(self.relation_labels)

    @property
    def entity_to_id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.entity_labels)}

    @property
    def relation_to_id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.relation_labels)}

    @classmethod
    def from_parts(
        cls,
        entities: Iterable[str],
        relations: Iterable[str],
        mapped: np.ndarray,
        stats: dict[str, Any] | None = None,
    ) -> TripleSet:
        """Canonicalise: ids re-assigned in sorted label order, duplicate rows dropped, rows sorted."""
        entities = list(entities)
        relations = list(relations)
        mapped = np.asarray(mapped, dtype=np.int64).reshape(-1, 3)
        e_order = sorted(range(len(entities)), key=entities.__getitem__)
        r_order = sorted(range(len(relations)), key=relations.__getitem__)
        e_new = np.empty(len(entities), dtype=np.int64)
        e_new[e_order] = np.arange(len(entities))
        r_new = np.empty(len(relations), dtype=np.int64)
        r_new[r_order] = np.arange(len(relations))
        if len(mapped):
            remapped = np.stack([e_new[mapped[:, 0]], r_new[mapped[:, 1]], e_new[mapped[:, 2]]], axis=1)
            remapped = np.unique(remapped, axis=0)
        else:
            remapped = np.empty((0, 3), dtype=np.int64)
        return cls(
            entity_labels=[entities[i] for i in e_order],
            relation_labels=[relations[i] for i in r_order],
            mapped=remapped,
            stats=dict(stats or {}),
        )

    @classmethod
    def from_labeled(cls, triples: Iterable[Iterable[str]] | np.ndarray) -> TripleSet:
        """From an (n, 3) array of labels."""
        arr = np.asarray(triples, dtype=str).reshape(-1, 3)
        entities, inverse_e = np.unique(np.concatenate([arr[:, 0], arr[:, 2]]), return_inverse=True)
        relations, inverse_r = np.unique(arr[:, 1], return_inverse=True)
        n = len(arr)
        mapped = np.stack([inverse_e[:n], inverse_r, inverse_e[n:]], axis=1)
        return cls.from_parts(entities.tolist(), relations.tolist(), mapped)

    def labeled(self) -> np.ndarray:
        """The (n, 3) array of labels (a full copy: for tests and small graphs)."""
        ents = np.asarray(self.entity_labels, dtype=object)
        rels = np.asarray(self.relation_labels, dtype=object)
        return np.stack([ents[self.mapped[:, 0]], rels[self.mapped[:, 1]], ents[self.mapped[:, 2]]], axis=1).astype(str)

    def to_factory(self) -> Any:
        """A PyKEEN ``TriplesFactory`` sharing these ids (no string copy of the triples)."""
        import torch
        from pykeen.triples import TriplesFactory

        return TriplesFactory(
            mapped_triples=torch.as_tensor(self.mapped, dtype=torch.long),
            entity_to_id=self.entity_to_id,
            relation_to_id=self.relation_to_id,
        )
