// name: text_user_recommended
// params: $ids = [user id (pseudonym)]
// returns: user, rank, product, title, category, brand, score, reason, path_types — each user's
// recommendations, best first (category: the leaf category's path, brand: the brand's name, or null)
UNWIND $ids AS k
MATCH (u:User {id: k})-[r:RECOMMENDED]->(p:Product)
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category)
OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand)
WITH u, r, p, collect(DISTINCT c.path) AS categories, collect(DISTINCT b.name) AS brands
RETURN u.id AS user, r.rank AS rank, p.id AS product, p.title AS title, head(categories) AS category,
       head(brands) AS brand, r.score AS score, r.reason AS reason, r.path AS path, r.path_types AS path_types
ORDER BY user, rank
