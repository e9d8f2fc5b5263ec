"""Cypher of kg.store: the store's own queries: schema, indexes, vectors, statistics, node and triple id pages, purge (see kg.store.queries)."""

from kg.store import queries

__getattr__, __dir__ = queries.package_attributes(__name__)
