"""The graph model: node labels with their key property, and relationship types.

Every label listed in :data:`KEYS` gets a uniqueness constraint on its key, applied
idempotently by :meth:`kg.store.GraphStore.ensure_schema`.
"""

from __future__ import annotations

__all__ = [
    "KEYS",
    "BEHAVIOUR_TYPES",
    "CATALOGUE_TYPES",
    "PROFILE_TYPES",
    "RELATIONSHIP_TYPES",
    "MAX_KEY_BYTES",
    "key_of",
    "check_key",
]

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
    "Segment": "id",
}

#: aggregated behaviour edges (:User)-[t]->(:Product)
BEHAVIOUR_TYPES: tuple[str, ...] = ("VIEWED", "CARTED", "PURCHASED", "RATED", "FAVORITED")

#: catalogue edges
CATALOGUE_TYPES: tuple[str, ...] = ("HAS_BRAND", "IN_CATEGORY", "SUBCATEGORY_OF", "ALSO_BOUGHT", "ALSO_VIEWED")

#: derived edges ``kg profiles`` writes (and replaces on every run); never exported for training
PROFILE_TYPES: tuple[str, ...] = ("INTERESTED_IN", "IN_SEGMENT", "RECOMMENDED", "POPULAR_IN", "BOUGHT_TOGETHER")

RELATIONSHIP_TYPES: tuple[str, ...] = BEHAVIOUR_TYPES + CATALOGUE_TYPES

#: longest key value (UTF-8 bytes) readers let through: FalkorDB's unique-constraint check crashes
#: the server (SIGSEGV) on keys over ~4 KiB, and no real id, brand or category path comes close
MAX_KEY_BYTES = 1024


def key_of(label: str) -> str:
    """The key property of ``label``; raises KeyError for unknown labels."""
    return KEYS[label]


def check_key(value: str, field: str = "key") -> str | None:
    """Why ``value`` cannot be a key (over :data:`MAX_KEY_BYTES` UTF-8 bytes), or None when it can.

    >>> check_key("B00ABC") is None
    True
    >>> check_key("x" * 2000, "brand")
    'brand is 2000 bytes, over the 1024-byte key limit'
    """
    if len(value) <= MAX_KEY_BYTES // 4:  # cannot be over the limit: skip encoding
        return None
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        return f"{field} is {size} bytes, over the {MAX_KEY_BYTES}-byte key limit"
    return None
