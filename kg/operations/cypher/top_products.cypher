// name: top_products
// params: $limit
// returns: id, title, buyers — the most purchased products
MATCH (u:User)-[r:PURCHASED]->(p:Product)
RETURN p.id AS id, p.title AS title, count(u) AS buyers
ORDER BY buyers DESC, id
LIMIT $limit
