// name: user_aspects
// description: What a person writes about in reviews: aspects, how often, and how kindly (-1..1).
// subject: user
// param: user text raw-user-id example=A31UBHTUUIFJUT -- id in your logs (kg pseudonymises it), or give pseudonym=HEX
// param: limit int default=10 min=0 example=5 -- rows wanted
// returns: aspect, mentions, score
MATCH (u:User {id: $user})-[c:CARES_ABOUT]->(a:Aspect)
RETURN a.name AS aspect, c.mentions AS mentions, c.score AS score
ORDER BY mentions DESC, aspect
LIMIT $limit
