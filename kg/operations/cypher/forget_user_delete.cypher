// name: forget_user_delete
// params: $id (user pseudonym)
// returns: deleted — 1 when the User node was removed with every edge it had (behaviour, WROTE,
// CARES_ABOUT, INTERESTED_IN, IN_SEGMENT, RECOMMENDED, SIMILAR_TO ...), else 0.
MATCH (u:User {id: $id})
DETACH DELETE u
RETURN count(*) AS deleted
