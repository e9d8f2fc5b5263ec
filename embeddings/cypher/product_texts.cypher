// name: product_texts
// params: $after (Product id; '' for the first page), $limit
// returns: id, title, description, brand, category (leaf path), run (embedding_run), has_vector — one page of
// products in id order, for text cold-start (embeddings/coldstart.py)
MATCH (p:Product)
WHERE p.id > $after
WITH p ORDER BY p.id LIMIT $limit
OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand)
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category)
WITH p, min(b.name) AS brand, min(c.path) AS category
RETURN p.id AS id, p.title AS title, p.description AS description, brand, category,
       p.embedding_run AS run, p.embedding IS NOT NULL AS has_vector
ORDER BY id
