"""Cypher of kg.profiles: the profiles' queries: what profiles read and the edges they write."""

from kg.store import queries

__getattr__, __dir__ = queries.package_attributes(__name__)
