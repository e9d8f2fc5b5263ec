"""Cypher of kg.profiles.text: what the texts are grounded on (a subject's facts, the shop's names) and the
text properties they write."""

from kg.store import queries

__getattr__, __dir__ = queries.package_attributes(__name__)
