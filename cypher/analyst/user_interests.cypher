// name: user_interests
// description: A person's interests (categories, brands, aspects) with their decayed scores, strongest first.
// subject: user
// param: user text raw-user-id example=A31UBHTUUIFJUT -- id in your logs (kg pseudonymises it), or give pseudonym=HEX
// param: limit int default=10 min=0 example=5 -- rows wanted
// returns: kind, interest, score, updated_at
MATCH (u:User {id: $user})-[i:INTERESTED_IN]->(t)
RETURN labels(t)[0] AS kind, coalesce(t.path, t.name) AS interest, i.score AS score, i.updated_at AS updated_at
ORDER BY score DESC, kind, interest
LIMIT $limit
