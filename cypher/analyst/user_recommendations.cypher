// name: user_recommendations
// description: A person's recommendations, best first, each with its reason and the graph path behind it.
// subject: user
// param: user text raw-user-id example=A31UBHTUUIFJUT -- id in your logs (kg pseudonymises it), or give pseudonym=HEX
// param: limit int default=10 min=0 example=5 -- rows wanted
// returns: rank, product, title, score, reason, path, path_types
MATCH (u:User {id: $user})-[r:RECOMMENDED]->(p:Product)
RETURN r.rank AS rank, p.id AS product, p.title AS title, r.score AS score, r.reason AS reason, r.path AS path,
       r.path_types AS path_types
ORDER BY rank, product
LIMIT $limit
