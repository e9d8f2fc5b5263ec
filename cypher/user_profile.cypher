// name: user_profile
// params: $id (pseudonymised user id)
// returns: type, products, events — behaviour of one user per relationship type
MATCH (u:User {id: $id})-[r]->(p:Product)
RETURN type(r) AS type, count(p) AS products, sum(r.count) AS events
ORDER BY type
