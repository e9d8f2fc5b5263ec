// name: mentions_of_users
// params: $users = [user id (pseudonym)]
// returns: user, aspect, sentiment, at (review time, epoch ms or null): the aspect mentions of these users' reviews.
UNWIND $users AS k
MATCH (u:User {id: k})-[:WROTE]->(r:Review)-[m:MENTIONS]->(a:Aspect)
RETURN u.id AS user, a.name AS aspect, m.sentiment AS sentiment, r.created_at AS at
