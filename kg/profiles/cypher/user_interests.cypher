// name: user_interests
// params: $id (pseudonymised user id)
// returns: label, key, score, updated_at — the user's interests, strongest first
MATCH (u:User {id: $id})-[r:INTERESTED_IN]->(t)
RETURN labels(t)[0] AS label, coalesce(t.path, t.name) AS key, r.score AS score, r.updated_at AS updated_at
ORDER BY score DESC, label, key
