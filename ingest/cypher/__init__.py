"""Cypher of kg.ingest: ingest's queries: events, products, reviews and the ingest manifest."""

from kg.store import queries

__getattr__, __dir__ = queries.package_attributes(__name__)
