"""Cypher of kg.operations: the operations' queries: forgetting a user and the demo's summaries."""

from kg.store import queries

__getattr__, __dir__ = queries.package_attributes(__name__)
