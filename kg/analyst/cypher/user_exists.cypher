// name: user_exists
// params: $id (pseudonymised user id)
// returns: id, reviews (number of reviews written) when the user exists, else no row
MATCH (u:User {id: $id})
OPTIONAL MATCH (u)-[:WROTE]->(r:Review)
RETURN u.id AS id, count(r) AS reviews
