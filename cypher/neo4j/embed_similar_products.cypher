// name: embed_similar_products (Neo4j)
// params: $id (Product id), $k (neighbours wanted)
// returns: id, title, score (cosine similarity, higher = closer) of the k products nearest $id by embedding.
// Uses the index `product_embedding` created by `kg embed train` / `kg embed write`.
MATCH (p:Product {id: $id})
CALL db.index.vector.queryNodes('product_embedding', $k + 1, p.embedding) YIELD node, score
WITH p, node, score
WHERE node <> p
RETURN node.id AS id, node.title AS title, 2.0 * score - 1.0 AS score
ORDER BY score DESC
LIMIT $k
