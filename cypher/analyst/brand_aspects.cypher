// name: brand_aspects
// description: Aspect sentiment for a brand, over all its products (score: mention-weighted mean, -1..1).
// subject: brand
// param: brand text example=Amazon -- the brand's name
// param: limit int default=10 min=0 example=5 -- rows wanted
// returns: aspect, products, mentions, positive, negative, score
MATCH (:Brand {name: $brand})<-[:HAS_BRAND]-(p:Product)-[h:HAS_ASPECT]->(a:Aspect)
WITH a, count(p) AS products, toInteger(sum(h.mentions)) AS mentions, toInteger(sum(h.positive)) AS positive,
     toInteger(sum(h.negative)) AS negative, sum(h.score * h.mentions) AS weighted
RETURN a.name AS aspect, products, mentions, positive, negative,
       round(1000.0 * weighted / mentions) / 1000.0 AS score
ORDER BY mentions DESC, aspect
LIMIT $limit
