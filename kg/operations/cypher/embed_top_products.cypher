// name: embed_top_products
// params: $limit
// returns: id, title, degree — the most connected products that carry an embedding (demo examples)
MATCH (p:Product)
WHERE p.embedding IS NOT NULL
WITH p, size([(p)-[]-() | 1]) AS degree
RETURN p.id AS id, p.title AS title, degree
ORDER BY degree DESC, id
LIMIT $limit
