"""Cypher of kg.store: the store's own queries: schema, indexes, vectors, statistics, id pages, purge."""

from kg.store import queries

__getattr__, __dir__ = queries.package_attributes(__name__)
