// name: embed_vector_indexes (FalkorDB)
// params: none
// returns: label, types (map property -> index kinds), status ('OPERATIONAL' when ready, '[Indexing] ...' while built)
CALL db.indexes() YIELD label, types, status
RETURN label, types, status
