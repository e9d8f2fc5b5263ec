"""The graph model: node labels with their key property, and relationship types.

Every label listed in :data:`KEYS` gets a uniqueness constraint on its key, applied
idempotently by :meth:`kg.store.GraphStore.ensure_schema`.
"""

from __future__ import annotations

__all__ = ["KEYS", "BEHAVIOUR_TYPES", "CATALOGUE_TYPES", "RELATIONSHIP_TYPES", "key_of"]

#: label -> key property
KEYS: dict[str, str] = {
    "User": "id",
    "Product": "id",
    "Brand": "name",
    "Category": "path",
    "Aspect": "name",
    "Review": "id",
    "IngestRun": "id",
    "Relation": "type",
}

#: aggregated behaviour edges (:User)-[t]->(:Product)
BEHAVIOUR_TYPES: tuple[str, ...] = ("VIEWED", "CARTED", "PURCHASED", "RATED")

#: catalogue edges
CATALOGUE_TYPES: tuple[str, ...] = ("HAS_BRAND", "IN_CATEGORY", "SUBCATEGORY_OF", "ALSO_BOUGHT", "ALSO_VIEWED")

RELATIONSHIP_TYPES: tuple[str, ...] = BEHAVIOUR_TYPES + CATALOGUE_TYPES


def key_of(label: str) -> str:
    """The key property of ``label``; raises KeyError for unknown labels."""
    return KEYS[label]
