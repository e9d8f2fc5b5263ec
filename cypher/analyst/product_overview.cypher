// name: product_overview
// description: One product at a glance: brand, category, viewers, buyers, events, reviews and mean rating.
// subject: product
// param: product text example=B004LLIKVU -- the product's id
// returns: product, title, price, brand, category, viewers, buyers, events, reviews, avg_rating
MATCH (p:Product {id: $product})
OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand)
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category)
WITH p, b, c
OPTIONAL MATCH (u:User)-[e:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(p)
WITH p, b, c, count(DISTINCT CASE WHEN type(e) = 'VIEWED' THEN u.id END) AS viewers,
     count(DISTINCT CASE WHEN type(e) = 'PURCHASED' THEN u.id END) AS buyers,
     toInteger(coalesce(sum(e.count), 0)) AS events
OPTIONAL MATCH (r:Review)-[:ABOUT]->(p)
RETURN p.id AS product, p.title AS title, p.price AS price, b.name AS brand, c.path AS category, viewers, buyers,
       events, count(r) AS reviews, round(100.0 * avg(r.rating)) / 100.0 AS avg_rating
