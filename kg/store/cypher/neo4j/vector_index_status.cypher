// name: vector_index_status (Neo4j)
// params: $name (index name, e.g. product_embedding)
// returns: status — the index state ('ONLINE' when ready, 'POPULATING' while built); no row when absent.
SHOW INDEXES YIELD name, state WHERE name = $name
RETURN state AS status
