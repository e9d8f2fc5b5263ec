// name: dropped_users
// description: People who were active (at least min_events events) but have done nothing since a date.
// subject: shop
// param: since text example=2024-01-01 -- silent from this day on (YYYY-MM-DD, UTC)
// param: min_events int default=3 min=1 example=5 -- events they had before
// param: limit int default=20 min=0 example=10 -- rows wanted, most active first
// returns: user, events, products, first_date, last_date
// `user` is the graph's pseudonym: kg never stores raw ids.
MATCH (u:User)-[e:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(p:Product)
WITH u, toInteger(sum(e.count)) AS events, count(DISTINCT p) AS products, min(e.first_date) AS first_date,
     max(e.last_date) AS last_date
WHERE last_date < $since AND events >= $min_events
RETURN u.id AS user, events, products, first_date, last_date
ORDER BY events DESC, user
LIMIT $limit
