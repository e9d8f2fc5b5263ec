// name: vector_search (Neo4j)
// params: $index, $k, $vector; identifier {{key}}
// returns: key, score (cosine similarity; Neo4j yields (1 + cos) / 2)
CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score
RETURN node.{{key}} AS key, 2.0 * score - 1.0 AS score
ORDER BY score DESC
