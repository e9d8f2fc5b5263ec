// name: schema_unique_drop (Neo4j)
// params: none; identifier {{constraint}} (constraint name)
// returns: nothing
DROP CONSTRAINT {{constraint}} IF EXISTS
