"""Cypher of kg.operations: the operations' queries: forgetting a user and the demo's summaries.

One constant per ``.cypher`` file here; ``falkordb/`` and ``neo4j/`` hold a backend's version of a query
where it differs (see :mod:`kg.store.queries`)."""

from kg.store.queries import Query

EMBED_TOP_PRODUCTS = Query(__name__, "embed_top_products")
FORGET_ORPHANS = Query(__name__, "forget_orphans")
FORGET_POPULAR = Query(__name__, "forget_popular")
FORGET_POPULAR_ZERO = Query(__name__, "forget_popular_zero")
FORGET_REVIEWS_DELETE = Query(__name__, "forget_reviews_delete")
FORGET_SEGMENT = Query(__name__, "forget_segment")
FORGET_SEGMENT_EMPTY = Query(__name__, "forget_segment_empty")
FORGET_TOGETHER = Query(__name__, "forget_together")
FORGET_TOGETHER_ZERO = Query(__name__, "forget_together_zero")
FORGET_USER_DELETE = Query(__name__, "forget_user_delete")
FORGET_USER_ITEMS = Query(__name__, "forget_user_items")
FORGET_USER_RELATIONSHIPS = Query(__name__, "forget_user_relationships")
FORGET_USER_REVIEWS = Query(__name__, "forget_user_reviews")
FORGET_USER_SEGMENT = Query(__name__, "forget_user_segment")
REVIEWS_TOP_ASPECTS = Query(__name__, "reviews_top_aspects")
TOP_PRODUCTS = Query(__name__, "top_products")
