// name: schema_constraints (FalkorDB)
// params: none
// returns: type, label, properties — the graph's constraints (uniqueness is created with GRAPH.CONSTRAINT).
CALL db.constraints() YIELD type, label, properties
RETURN type, label, properties
