// name: embed_similar_users (FalkorDB)
// params: $id (User id, pseudonymised), $k
// returns: id, score (cosine similarity) of the k users nearest $id by embedding
MATCH (u:User {id: $id})
CALL db.idx.vector.queryNodes('User', 'embedding', $k + 1, u.embedding) YIELD node, score
WITH u, node, score
WHERE node <> u
RETURN node.id AS id, 1.0 - score AS score
ORDER BY score DESC
LIMIT $k
