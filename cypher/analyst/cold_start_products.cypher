// name: cold_start_products
// description: Catalogued products with few events (views, carts, purchases, ratings), fewest first.
// subject: shop
// param: max_events int default=5 min=0 example=2 -- at most this many events
// param: limit int default=20 min=0 example=10 -- rows wanted
// returns: product, title, events, users
MATCH (p:Product)
WHERE p.catalogued = true
OPTIONAL MATCH (u:User)-[e:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(p)
WITH p, toInteger(coalesce(sum(e.count), 0)) AS events, count(DISTINCT u.id) AS users
WHERE events <= $max_events
RETURN p.id AS product, p.title AS title, events, users
ORDER BY events, product
LIMIT $limit
