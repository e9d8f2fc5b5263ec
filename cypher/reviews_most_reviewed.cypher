// name: reviews_most_reviewed
// params: $limit
// returns: id, title, reviews — products with the most reviews
MATCH (r:Review)-[:ABOUT]->(p:Product)
RETURN p.id AS id, p.title AS title, count(r) AS reviews
ORDER BY reviews DESC, id
LIMIT $limit
