// name: vector_index_drop (Neo4j)
// params: none; identifier {{index}} (index name)
// returns: nothing.
DROP INDEX {{index}} IF EXISTS
