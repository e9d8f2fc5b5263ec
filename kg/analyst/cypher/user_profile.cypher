// name: user_profile
// params: $id (pseudonymised user id)
// returns: type, products, events, first_at, last_at — behaviour of one user per relationship type
// (times in epoch ms); behaviour edges only, never derived ones such as RECOMMENDED
MATCH (u:User {id: $id})-[r:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(p:Product)
RETURN type(r) AS type, count(p) AS products, sum(r.count) AS events, min(r.first_at) AS first_at,
       max(r.last_at) AS last_at
ORDER BY type
