// name: product_aspects
// description: Aspect sentiment for one product: what reviewers mention, how often, praised or criticised.
// subject: product
// param: product text example=B004LLIKVU -- the product's id
// param: limit int default=10 min=0 example=5 -- rows wanted
// returns: aspect, mentions, positive, negative, score
MATCH (p:Product {id: $product})-[h:HAS_ASPECT]->(a:Aspect)
RETURN a.name AS aspect, h.mentions AS mentions, h.positive AS positive, h.negative AS negative, h.score AS score
ORDER BY mentions DESC, aspect
LIMIT $limit
