// name: user_top_products
// params: $id (pseudonymised user id), $limit
// returns: id, title, events, types — the products one user interacted with most
MATCH (u:User {id: $id})-[r:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(p:Product)
WITH p, sum(r.count) AS events, collect(DISTINCT type(r)) AS types
RETURN p.id AS id, p.title AS title, events, types
ORDER BY events DESC, id
LIMIT $limit
