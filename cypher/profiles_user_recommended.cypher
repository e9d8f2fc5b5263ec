// name: profiles_user_recommended
// params: $id (pseudonymised user id)
// returns: rank, id, title, score, reason, path, path_types — the user's recommendations, best first
MATCH (u:User {id: $id})-[r:RECOMMENDED]->(p:Product)
RETURN r.rank AS rank, p.id AS id, p.title AS title, r.score AS score, r.reason AS reason, r.path AS path,
       r.path_types AS path_types
ORDER BY rank
