// name: product_aspects
// params: none
// returns: product, aspect, mentions, score: the review aggregates (:Product)-[:HAS_ASPECT]->(:Aspect).
MATCH (p:Product)-[h:HAS_ASPECT]->(a:Aspect)
RETURN p.id AS product, a.name AS aspect, h.mentions AS mentions, h.score AS score
