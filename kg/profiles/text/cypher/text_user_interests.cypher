// name: text_user_interests
// params: $ids = [user id (pseudonym)]
// returns: user, label, key, name, score — each user's interests (key: a category's path, else the name; name:
// a category's own name), strongest first per user
UNWIND $ids AS k
MATCH (u:User {id: k})-[r:INTERESTED_IN]->(t)
RETURN u.id AS user, labels(t)[0] AS label, coalesce(t.path, t.name) AS key, t.name AS name, r.score AS score
ORDER BY user, score DESC, label, key
