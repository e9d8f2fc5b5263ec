// name: vector_index_status (FalkorDB)
// params: none
// returns: label, types (map property -> index kinds), status — one row per indexed label; status is
// 'OPERATIONAL' once every index on the label is built ('[Indexing] ...' meanwhile). Read by
// GraphStore.vector_index_ready.
CALL db.indexes() YIELD label, types, status
RETURN label, types, status
