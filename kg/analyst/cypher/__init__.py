"""Cypher of kg.analyst: the analyst layer's fixed queries: users, the explore app and the guide."""

from kg.store import queries

__getattr__, __dir__ = queries.package_attributes(__name__)
