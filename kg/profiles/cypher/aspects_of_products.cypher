// name: aspects_of_products
// params: $ids = [product id]
// returns: product, aspect, mentions, score: the review aggregates (:Product)-[:HAS_ASPECT]->(:Aspect) of these products.
UNWIND $ids AS k
MATCH (p:Product {id: k})-[h:HAS_ASPECT]->(a:Aspect)
RETURN p.id AS product, a.name AS aspect, h.mentions AS mentions, h.score AS score
