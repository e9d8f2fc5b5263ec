// name: embed_max_node_id (Neo4j)
// params: none
// returns: max_id — the node count - 1 (null on an empty graph): the bound of the dense ids an export
// assigns to element ids; more distinct nodes than that means nodes were created during the export
MATCH (n)
WITH count(n) AS n
RETURN CASE WHEN n = 0 THEN null ELSE n - 1 END AS max_id
