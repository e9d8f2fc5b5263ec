// name: forget_user_relationships
// params: $id (user pseudonym)
// returns: type, n — the user's relationships by type (both directions), before a forget.
MATCH (u:User {id: $id})-[r]-()
RETURN type(r) AS type, count(r) AS n
