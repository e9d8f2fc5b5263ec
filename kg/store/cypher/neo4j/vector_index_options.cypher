// name: vector_index_options (Neo4j)
// params: $name (index name)
// returns: options — of the named index (no row when it does not exist).
SHOW INDEXES YIELD name, type, options WHERE name = $name
RETURN options
