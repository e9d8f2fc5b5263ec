// name: user_recommended
// params: $id (pseudonymised user id)
// returns: rank, id, title, category, brand, score, reason, path, path_types — the user's recommendations,
// best first (category: the leaf category's name, brand: the brand's name, null when the product has none)
MATCH (u:User {id: $id})-[r:RECOMMENDED]->(p:Product)
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category)
OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand)
WITH r, p, collect(DISTINCT c.name) AS categories, collect(DISTINCT b.name) AS brands
RETURN r.rank AS rank, p.id AS id, p.title AS title, head(categories) AS category, head(brands) AS brand,
       r.score AS score, r.reason AS reason, r.path AS path, r.path_types AS path_types
ORDER BY rank
