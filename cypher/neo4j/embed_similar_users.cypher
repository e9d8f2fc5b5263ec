// name: embed_similar_users (Neo4j)
// params: $id (User id, pseudonymised), $k
// returns: id, score (cosine similarity) of the k users nearest $id by embedding (index `user_embedding`)
MATCH (u:User {id: $id})
CALL db.index.vector.queryNodes('user_embedding', $k + 1, u.embedding) YIELD node, score
WITH u, node, score
WHERE node <> u
RETURN node.id AS id, 2.0 * score - 1.0 AS score
ORDER BY score DESC
LIMIT $k
