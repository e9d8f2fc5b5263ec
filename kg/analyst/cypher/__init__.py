"""Cypher of kg.analyst: the analyst layer's fixed queries: users, the explore app and the guide.

One constant per ``.cypher`` file here; ``falkordb/`` and ``neo4j/`` hold a backend's version of a query
where it differs (see :mod:`kg.store.queries`)."""

from kg.store.queries import Query

EXPLORE_IN = Query(__name__, "explore_in")
EXPLORE_NODE = Query(__name__, "explore_node")
EXPLORE_OUT = Query(__name__, "explore_out")
EXPLORE_SEARCH = Query(__name__, "explore_search")
GUIDE_PRODUCT_NEIGHBOURHOOD = Query(__name__, "guide_product_neighbourhood")
USER_EXISTS = Query(__name__, "user_exists")
USER_PROFILE = Query(__name__, "user_profile")
USER_TOP_PRODUCTS = Query(__name__, "user_top_products")
