// name: text_user_counts
// params: $ids = [user id (pseudonym)]
// returns: user, products, events, purchases, reviews, first_date, last_date — each user's behaviour totals
UNWIND $ids AS k
MATCH (u:User {id: k})
OPTIONAL MATCH (u)-[e:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(p:Product)
WITH u, count(DISTINCT p) AS products, toInteger(coalesce(sum(e.count), 0)) AS events,
     toInteger(coalesce(sum(CASE WHEN type(e) = 'PURCHASED' THEN e.count ELSE 0 END), 0)) AS purchases,
     min(e.first_date) AS first_date, max(e.last_date) AS last_date
OPTIONAL MATCH (u)-[:WROTE]->(r:Review)
RETURN u.id AS user, products, events, purchases, count(r) AS reviews, first_date, last_date
