// name: forget_reviews_delete
// params: $id (user pseudonym)
// returns: deleted — the user's Review nodes, removed with their ABOUT and MENTIONS edges.
MATCH (u:User {id: $id})-[:WROTE]->(r:Review)
DETACH DELETE r
RETURN count(*) AS deleted
