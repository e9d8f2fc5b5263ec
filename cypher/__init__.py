"""Cypher queries as files: ``<name>.cypher``, with per-backend overrides in ``falkordb/`` and ``neo4j/``."""
