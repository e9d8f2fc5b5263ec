// name: schema_unique (Neo4j)
// params: none; identifiers {{constraint}} (constraint name), {{label}}, {{key}}
// returns: nothing. Idempotent uniqueness constraint (it brings its own index).
CREATE CONSTRAINT {{constraint}} IF NOT EXISTS FOR (n:{{label}}) REQUIRE n.{{key}} IS UNIQUE
