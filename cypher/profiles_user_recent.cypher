// name: profiles_user_recent
// params: $id (pseudonymised user id), $limit
// returns: type, id, title, last_at, last_date — the user's latest behaviour, newest first
MATCH (u:User {id: $id})-[r:VIEWED|CARTED|PURCHASED|RATED]->(p:Product)
RETURN type(r) AS type, p.id AS id, p.title AS title, r.last_at AS last_at, r.last_date AS last_date
ORDER BY last_at DESC, id, type
LIMIT $limit
