// name: reviews_product_aspects
// params: $rows = [product id]
// returns: nothing. Recomputes (:Product)-[:HAS_ASPECT {mentions, positive, negative, score}]->(:Aspect)
// from all MENTIONS of the product's reviews (positive: sentiment > 0.05, negative: < -0.05,
// score: mean mention sentiment rounded to 3 decimals), so re-ingesting never changes them.
UNWIND $rows AS k
MATCH (p:Product {id: k})<-[:ABOUT]-(:Review)-[m:MENTIONS]->(a:Aspect)
WITH p, a, count(m) AS mentions,
     toInteger(sum(CASE WHEN m.sentiment > 0.05 THEN 1 ELSE 0 END)) AS positive,
     toInteger(sum(CASE WHEN m.sentiment < -0.05 THEN 1 ELSE 0 END)) AS negative,
     avg(m.sentiment) AS score
MERGE (p)-[h:HAS_ASPECT]->(a)
SET h.mentions = mentions, h.positive = positive, h.negative = negative,
    h.score = round(1000.0 * score) / 1000.0
