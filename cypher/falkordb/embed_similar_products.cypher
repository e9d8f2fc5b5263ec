// name: embed_similar_products (FalkorDB)
// params: $id (Product id), $k (neighbours wanted)
// returns: id, title, score (cosine similarity, higher = closer) of the k products nearest $id by embedding.
// Analysts: the vector index on :Product(embedding) is created by `kg embed train` / `kg embed write`.
MATCH (p:Product {id: $id})
CALL db.idx.vector.queryNodes('Product', 'embedding', $k + 1, p.embedding) YIELD node, score
WITH p, node, score
WHERE node <> p
RETURN node.id AS id, node.title AS title, 1.0 - score AS score
ORDER BY score DESC
LIMIT $k
