"""Cypher of kg.embeddings: the embeddings' queries: export, write-back, similar products, cold start."""

from kg.store import queries

__getattr__, __dir__ = queries.package_attributes(__name__)
