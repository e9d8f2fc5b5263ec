// name: reviews_top_aspects
// params: $id (product id), $limit
// returns: aspect, mentions, positive, negative, score — the product's most mentioned aspects
MATCH (p:Product {id: $id})-[h:HAS_ASPECT]->(a:Aspect)
RETURN a.name AS aspect, h.mentions AS mentions, h.positive AS positive, h.negative AS negative,
       h.score AS score
ORDER BY mentions DESC, aspect
LIMIT $limit
