"""Cypher of kg.ingest: ingest's queries: events, products, reviews and the ingest manifest.

One constant per ``.cypher`` file here; ``falkordb/`` and ``neo4j/`` hold a backend's version of a query
where it differs (see :mod:`kg.store.queries`)."""

from kg.store.queries import Query

CATEGORIES_MERGE = Query(__name__, "categories_merge")
EVENTS_CREATE = Query(__name__, "events_create")
EVENTS_DELETE_EDGES = Query(__name__, "events_delete_edges")
EVENTS_EDGES_PAGE = Query(__name__, "events_edges_page")
EVENTS_MAX_USER_ID = Query(__name__, "events_max_user_id")
EVENTS_MERGE = Query(__name__, "events_merge")
EVENTS_SET = Query(__name__, "events_set")
MANIFEST_FINISH = Query(__name__, "manifest_finish")
MANIFEST_GET = Query(__name__, "manifest_get")
MANIFEST_LIST = Query(__name__, "manifest_list")
MANIFEST_START = Query(__name__, "manifest_start")
PRODUCTS_BRAND = Query(__name__, "products_brand")
PRODUCTS_CATEGORY = Query(__name__, "products_category")
PRODUCTS_LINKS = Query(__name__, "products_links")
PRODUCTS_MERGE = Query(__name__, "products_merge")
RELATIONSHIP_COUNT = Query(__name__, "relationship_count")
REVIEWS_CATALOGUE = Query(__name__, "reviews_catalogue")
REVIEWS_MENTIONS_ASPECT = Query(__name__, "reviews_mentions_aspect")
REVIEWS_MENTIONS_CLEAR = Query(__name__, "reviews_mentions_clear")
REVIEWS_MENTIONS_ENTITY = Query(__name__, "reviews_mentions_entity")
REVIEWS_MERGE = Query(__name__, "reviews_merge")
REVIEWS_MISSING_DATE = Query(__name__, "reviews_missing_date")
REVIEWS_PRODUCT_ASPECTS = Query(__name__, "reviews_product_aspects")
REVIEWS_PRODUCT_ASPECTS_CLEAR = Query(__name__, "reviews_product_aspects_clear")
REVIEWS_SENTIMENT = Query(__name__, "reviews_sentiment")
REVIEWS_SET_DATE = Query(__name__, "reviews_set_date")
REVIEWS_USER_ASPECTS = Query(__name__, "reviews_user_aspects")
REVIEWS_USER_ASPECTS_CLEAR = Query(__name__, "reviews_user_aspects_clear")
