// name: vector_search (FalkorDB)
// params: $label, $prop, $k, $vector; identifier {{key}}
// returns: key, score (cosine similarity; FalkorDB yields a cosine distance)
CALL db.idx.vector.queryNodes($label, $prop, $k, vecf32($vector)) YIELD node, score
RETURN node.{{key}} AS key, 1.0 - score AS score
ORDER BY score DESC
