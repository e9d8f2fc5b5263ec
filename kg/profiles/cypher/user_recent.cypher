// name: user_recent
// params: $id (pseudonymised user id), $limit
// returns: type, id, title, category, brand, last_at, last_date — the user's latest behaviour, newest first
// (category: the leaf category's name, brand: the brand's name, null when the product has none)
MATCH (u:User {id: $id})-[r:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(p:Product)
WITH type(r) AS type, p, r.last_at AS last_at, r.last_date AS last_date
ORDER BY last_at DESC, p.id, type
LIMIT $limit
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category)
OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand)
WITH type, p, last_at, last_date, collect(DISTINCT c.name) AS categories, collect(DISTINCT b.name) AS brands
RETURN type, p.id AS id, p.title AS title, head(categories) AS category, head(brands) AS brand, last_at, last_date
ORDER BY last_at DESC, id, type
