"""Cypher of kg.operations: the operations' queries: forgetting a user and the demo's summaries.

A query is imported by its file's name in capitals (``clear_similar.cypher`` is ``CLEAR_SIMILAR``); ``falkordb/``
and ``neo4j/`` hold a backend's version of a query where it differs (see :mod:`kg.store.queries`)."""

from kg.store import queries


def __getattr__(constant: str) -> queries.Query:
    return queries.find(__name__, constant)


def __dir__() -> list[str]:
    return queries.names(__name__)
