// name: embed_vector_indexes (Neo4j)
// params: none
// returns: label, types (map property -> index kinds), status ('ONLINE' when ready)
SHOW INDEXES YIELD labelsOrTypes, properties, type, state
WHERE type = 'VECTOR'
RETURN labelsOrTypes[0] AS label, {embedding: ['VECTOR']} AS types, state AS status
