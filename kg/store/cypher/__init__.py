"""Cypher of kg.store: the store's own queries: schema, indexes, vectors, statistics, node and triple id pages, purge.

One constant per ``.cypher`` file here; ``falkordb/`` and ``neo4j/`` hold a backend's version of a query
where it differs (see :mod:`kg.store.queries`)."""

from kg.store.queries import Query

AWAIT_INDEXES = Query(__name__, "await_indexes", ("neo4j",))
DELETE_ALL = Query(__name__, "delete_all")
EMBED_MAX_NODE_ID = Query(__name__, "embed_max_node_id")
EMBED_NODE_KEYS = Query(__name__, "embed_node_keys")
EMBED_TRIPLE_IDS = Query(__name__, "embed_triple_ids")
PURGE_FILLER_CREATE = Query(__name__, "purge_filler_create", ("neo4j",))
PURGE_FILLER_DELETE = Query(__name__, "purge_filler_delete", ("neo4j",))
SCHEMA_CONSTRAINTS = Query(__name__, "schema_constraints", ("falkordb",))
SCHEMA_INDEXES = Query(__name__, "schema_indexes", ("falkordb",))
SCHEMA_KEY_INDEX = Query(__name__, "schema_key_index", ("falkordb",))
SCHEMA_UNIQUE = Query(__name__, "schema_unique", ("neo4j",))
SCHEMA_UNIQUE_DROP = Query(__name__, "schema_unique_drop", ("neo4j",))
SCHEMA_UNIQUE_NAME = Query(__name__, "schema_unique_name", ("neo4j",))
SERVER_SETTINGS = Query(__name__, "server_settings", ("neo4j",))
SERVER_VERSION = Query(__name__, "server_version", ("neo4j",))
STATS_NODES = Query(__name__, "stats_nodes")
STATS_RELATIONSHIPS = Query(__name__, "stats_relationships")
VECTOR_INDEX_CREATE = Query(__name__, "vector_index_create")
VECTOR_INDEX_DROP = Query(__name__, "vector_index_drop")
VECTOR_INDEX_OPTIONS = Query(__name__, "vector_index_options", ("neo4j",))
VECTOR_INDEX_STATUS = Query(__name__, "vector_index_status")
VECTOR_SEARCH = Query(__name__, "vector_search")
VECTOR_SET = Query(__name__, "vector_set")
