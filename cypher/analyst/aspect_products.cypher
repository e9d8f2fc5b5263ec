// name: aspect_products
// description: The products whose reviews mention one aspect most, with how it is judged there.
// subject: aspect
// param: aspect text example=price -- the aspect's normalised name
// param: limit int default=10 min=0 example=5 -- rows wanted
// returns: product, title, mentions, positive, negative, score
MATCH (p:Product)-[h:HAS_ASPECT]->(:Aspect {name: $aspect})
RETURN p.id AS product, p.title AS title, h.mentions AS mentions, h.positive AS positive, h.negative AS negative,
       h.score AS score
ORDER BY mentions DESC, score DESC, product
LIMIT $limit
