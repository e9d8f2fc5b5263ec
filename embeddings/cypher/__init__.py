"""Cypher of kg.embeddings: the embeddings' queries: export, write-back, similar products, cold start.

One constant per ``.cypher`` file here; ``falkordb/`` and ``neo4j/`` hold a backend's version of a query
where it differs (see :mod:`kg.store.queries`)."""

from kg.store.queries import Query

CLEAR_SIMILAR = Query(__name__, "clear_similar")
PRODUCT_TEXTS = Query(__name__, "product_texts")
PRODUCT_TITLES = Query(__name__, "product_titles")
PRODUCT_VECTOR = Query(__name__, "product_vector")
RELATION_NODES = Query(__name__, "relation_nodes")
RELATIONSHIP_TYPES = Query(__name__, "relationship_types")
RUNS_IN_GRAPH = Query(__name__, "runs_in_graph")
SIMILAR_WRITE = Query(__name__, "similar_write")
