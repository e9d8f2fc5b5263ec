// name: schema_indexes (FalkorDB)
// params: none
// returns: label, properties, types (map property -> index kinds), options (map property -> options),
// entitytype — one row per indexed label; read before creating indexes so schema set-up is idempotent.
CALL db.indexes() YIELD label, properties, types, options, entitytype
RETURN label, properties, types, options, entitytype
