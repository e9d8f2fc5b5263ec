// name: similar_products
// description: The products nearest one product by learned embedding (vector k-NN; cosine similarity -1..1).
// subject: product
// param: product text example=B004LLIKVU -- the product's id
// param: k int default=10 min=1 example=5 -- neighbours wanted
// returns: product, title, similarity
// FalkorDB: the vector index on :Product(embedding) yields a cosine distance; it is over-fetched because a
// vector overwritten in place can keep a stale slot.
MATCH (p:Product {id: $product})
WHERE p.embedding IS NOT NULL
CALL db.idx.vector.queryNodes('Product', 'embedding', 2 * $k + 10, p.embedding) YIELD node, score
WITH p, node, score
WHERE node <> p
RETURN node.id AS product, node.title AS title, round(1000.0 * (1.0 - score)) / 1000.0 AS similarity
ORDER BY similarity DESC, product
LIMIT $k
