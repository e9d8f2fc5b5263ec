// name: user_mentions
// params: none
// returns: user, aspect, sentiment, at (review time, epoch ms or null): every aspect mention of every review.
MATCH (u:User)-[:WROTE]->(r:Review)-[m:MENTIONS]->(a:Aspect)
RETURN u.id AS user, a.name AS aspect, m.sentiment AS sentiment, r.created_at AS at
