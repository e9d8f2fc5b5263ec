"""Cypher of kg.profiles: the profiles' queries: what profiles read and the edges they write.

One constant per ``.cypher`` file here; ``falkordb/`` and ``neo4j/`` hold a backend's version of a query
where it differs (see :mod:`kg.store.queries`)."""

from kg.store.queries import Query

ALSO_BOUGHT = Query(__name__, "also_bought")
CATALOGUE = Query(__name__, "catalogue")
CATEGORY_PARENTS = Query(__name__, "category_parents")
INTERESTS_WRITE = Query(__name__, "interests_write")
MEMBERSHIP_WRITE = Query(__name__, "membership_write")
MENTIONS_OF_USERS = Query(__name__, "mentions_of_users")
PATH_STEP = Query(__name__, "path_step")
POPULAR_CLEAR = Query(__name__, "popular_clear")
POPULAR_WRITE = Query(__name__, "popular_write")
PRODUCT_ASPECTS = Query(__name__, "product_aspects")
RECOMMENDED_WRITE = Query(__name__, "recommended_write")
SEGMENT_OF_USERS = Query(__name__, "segment_of_users")
SEGMENT_SIZES = Query(__name__, "segment_sizes")
SEGMENTS_STALE = Query(__name__, "segments_stale")
SEGMENTS_WRITE = Query(__name__, "segments_write")
STALE_CLEAR = Query(__name__, "stale_clear")
TOGETHER_ADD = Query(__name__, "together_add")
TOGETHER_CLEAR = Query(__name__, "together_clear")
TOGETHER_WRITE = Query(__name__, "together_write")
USER_EDGES_CLEAR = Query(__name__, "user_edges_clear")
USER_INTERESTS = Query(__name__, "user_interests")
USER_MENTIONS = Query(__name__, "user_mentions")
USER_RECENT = Query(__name__, "user_recent")
USER_RECOMMENDED = Query(__name__, "user_recommended")
USER_SEGMENT = Query(__name__, "user_segment")
