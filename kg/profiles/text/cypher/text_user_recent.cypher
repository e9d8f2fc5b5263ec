// name: text_user_recent
// params: $ids = [user id (pseudonym)], $limit (behaviour edges per user)
// returns: user, type, product, title, category, brand, last_at, last_date — each user's latest behaviour,
// newest first (category: the leaf category's path, brand: the brand's name, null when the product has none)
UNWIND $ids AS k
MATCH (u:User {id: k})-[r:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(p:Product)
WITH u, r, p
ORDER BY r.last_at DESC, p.id, type(r)
WITH u, collect({type: type(r), product: p.id, last_at: r.last_at, last_date: r.last_date})[..$limit] AS latest
UNWIND latest AS x
MATCH (p:Product {id: x.product})
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category)
OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand)
WITH u, x, p, collect(DISTINCT c.path) AS categories, collect(DISTINCT b.name) AS brands
RETURN u.id AS user, x.type AS type, p.id AS product, p.title AS title, head(categories) AS category,
       head(brands) AS brand, x.last_at AS last_at, x.last_date AS last_date
ORDER BY user, last_at DESC, product, type
